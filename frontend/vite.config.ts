/// <reference types="vitest/config" />
// Build and test configuration. In development the API is proxied to the gateway so that the
// app stays same-origin exactly as it is when NGINX serves the build.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const gateway = process.env.SHOP_BASE_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { "/api": { target: gateway, changeOrigin: true } },
  },
  build: {
    outDir: "dist",
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
