// Bundles the module into dist/: `pmisplicense` (the executable BILLmanager runs) and
// `sandbox-mgrctl` (the simulated host's mgrctl). ESM with code splitting, so each command loads
// only the chunks it needs; better-sqlite3 (native addon) and mysql2 (CommonJS requiring node
// built-ins, which an ESM bundle cannot) stay external.
import { build } from 'esbuild';
import { chmodSync, renameSync, rmSync, existsSync, readFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
// `pmisplicense --version` of the installed copy, which has no checkout beside it.
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
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
  define: { PMISPLICENSE_VERSION: JSON.stringify(version) },
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
