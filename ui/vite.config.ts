import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web UI (issue 13): a Preact SPA built to dist/ui and served by noetl-server at `/`.
// JSX goes through Vite's own transformer (oxc) with Preact's automatic runtime: no plugin.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // `npm run ui:dev`: the API of a running server (NOETL_URL, default the local one) behind Vite.
  server: {
    proxy: {
      '/api': { target: process.env['NOETL_URL'] ?? 'http://127.0.0.1:8082', changeOrigin: true },
    },
  },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The server's CSP forbids inline scripts and styles: every asset is a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
});
