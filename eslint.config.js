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
    // The dashboard runs in browsers (its own tsconfig brings the DOM types); React components are TSX.
    files: ["apps/dashboard/src/**/*.{ts,tsx}"],
    languageOptions: {
      parserOptions: { ecmaFeatures: { jsx: true } },
      globals: { window: "readonly", document: "readonly", location: "readonly", history: "readonly", sessionStorage: "readonly", fetch: "readonly", WebSocket: "readonly" },
    },
    rules: {
      // Values for display are formatted from decimal strings; parseFloat would silently round money.
      "no-restricted-globals": ["error", { name: "parseFloat", message: "Use decimal.ts: values are exact decimal strings." }],
      "no-restricted-properties": ["error", { object: "Number", property: "parseFloat", message: "Use decimal.ts: values are exact decimal strings." }, { object: "Math", property: "round", message: "Use decimal.ts truncate: rounding money is a rule, not a float operation." }],
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
