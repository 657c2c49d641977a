/**
 * Vite config for the renderer (browser code only). Built into dist/renderer, which both hosts
 * load: Electron from file:// (hence base './') and `netloom serve` over HTTP.
 */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 2500,
  },
  server: {
    // `vite --config renderer/vite.config.ts` during development: forward /api to a running
    // `netloom serve` (or renderer/dev/mock-server.mjs) given by NETLOOM_API, e.g. localhost:7777.
    proxy: process.env.NETLOOM_API ? { '/api': { target: `ws://${process.env.NETLOOM_API}`, ws: true } } : undefined,
  },
});
