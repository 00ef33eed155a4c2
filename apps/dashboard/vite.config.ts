// Builds the dashboard into dist/ (served by the platform at `/`, or by any static server with config.json beside it).
// `npm run dev -w @tradestream/dashboard` serves it with hot reload and forwards the API and WebSocket to a local platform.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const platform = process.env.TRADESTREAM_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    // No inline scripts or styles: the platform's content security policy allows only files from its origin.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": platform,
      "/config.json": platform,
      "/ws": { target: platform.replace(/^http/, "ws"), ws: true },
    },
  },
});
