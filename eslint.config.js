// Lint rules that catch the bugs a type checker lets through: floating promises,
// misused promises, unsafe any, and non-exhaustive switches over closed unions.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "data/**", "bench/results/**", "coverage/**", ".tmp/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: "readonly", console: "readonly" },
    },
  },
  {
    // Fastify hooks and handlers answer by returning a promise: async without await is the contract there.
    files: ["packages/gateway/src/**/*.ts"],
    rules: { "@typescript-eslint/require-await": "off" },
  },
  {
    // The domain is pure (STYLE.md rule 2): no Node modules, no clock, no randomness.
    files: ["packages/kernel/src/**/*.ts", "packages/contracts/src/**/*.ts", "packages/engine/src/**/*.ts", "packages/marketdata/src/**/*.ts", "packages/orders/src/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["node:*", "fs", "path", "crypto", "os", "child_process"], message: "The domain is pure: I/O lives in adapters." }] }],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "The engine never reads a clock; time arrives on the command." },
        { object: "Math", property: "random", message: "Randomness is injected, never read." },
        { object: "crypto", property: "randomUUID", message: "Ids arrive as inputs." },
      ],
    },
  },
);
