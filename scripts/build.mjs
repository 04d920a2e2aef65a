// Bundles the module into dist/: `pmisplicense` (the executable BILLmanager runs) and
// `sandbox-mgrctl` (the simulated host's mgrctl). ESM with code splitting, so each command loads
// only the chunks it needs; better-sqlite3 (native addon) and mysql2 (CommonJS requiring node
// built-ins, which an ESM bundle cannot) stay external.
import { build } from 'esbuild';
import { chmodSync, renameSync, rmSync, existsSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const entries = { pmisplicense: 'src/cli.ts' };
if (existsSync('src/sandbox/mgrctl-main.ts')) entries['sandbox-mgrctl'] = 'src/sandbox/mgrctl-main.ts';
await build({
  entryPoints: entries,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['better-sqlite3', 'mysql2'],
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const name of Object.keys(entries)) {
  renameSync(`dist/${name}.js`, `dist/${name}`);
  chmodSync(`dist/${name}`, 0o755);
}
console.log(`built ${Object.keys(entries).map((n) => `dist/${n}`).join(', ')}`);
