import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * `virtual:error-meanings`: every error code with its one-line meaning, read from docs/errors.md
 * (generated from the catalogues and checked for staleness by a test), so the page explains every
 * rejection without copying the catalogues.
 */
function errorMeanings(): Plugin {
  const id = 'virtual:error-meanings';
  return {
    name: 'gridledger-error-meanings',
    resolveId: (source) => (source === id ? '\0' + id : undefined),
    load(resolved) {
      if (resolved !== '\0' + id) return undefined;
      const doc = readFileSync(here('../docs/errors.md'), 'utf8');
      const meanings: Record<string, string> = {};
      for (const m of doc.matchAll(/^\| `([A-Z0-9_]+)` \| \d+ \| (.*) \|$/gm)) meanings[m[1]!] = m[2]!;
      return `export default ${JSON.stringify(meanings)};`;
    },
  };
}

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react(), errorMeanings()],
  resolve: {
    // One definition of routes, schemas and sign bytes: the page imports src/ and gets node:crypto's hashing from @noble/hashes.
    alias: { 'node:crypto': here('src/shims/node-crypto.ts'), 'node:fs': here('src/shims/node-fs.ts'), 'node:module': here('src/shims/node-module.ts') },
  },
  build: { outDir: here('dist'), emptyOutDir: true, chunkSizeWarningLimit: 2000, reportCompressedSize: false },
  server: { proxy: { '/v1': 'http://127.0.0.1:26657' } },
});
