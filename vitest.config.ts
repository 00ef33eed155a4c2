import { defineConfig } from "vitest/config";

export default defineConfig({
  // The dashboard's component tests are TSX: React's automatic JSX runtime.
  oxc: { jsx: { runtime: "automatic" } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts", "apps/dashboard/src/**/*.test.tsx", "sim/**/*.test.ts", "bench/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
