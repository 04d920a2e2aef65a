// Bundles the module into dist/: `pmisplicense` (the executable BILLmanager runs) and
// `sandbox-mgrctl` (the simulated host's mgrctl). The code is ESM with code splitting
// (`*.mjs`, chunks/), so each command loads only the chunks it needs; better-sqlite3 (native addon)
// and mysql2 (CommonJS requiring node built-ins, which an ESM bundle cannot) stay external.
// The executables themselves are small CommonJS launchers (dist/package.json says so): `features`
// is answered there, without Node's ES-module loader (src/launcher.ts).
import { build } from 'esbuild';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
// `pmisplicense --version` of the installed copy, which has no checkout beside it.
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const entries = { pmisplicense: 'src/cli.ts' };
if (existsSync('src/sandbox/mgrctl-main.ts')) entries['sandbox-mgrctl'] = 'src/sandbox/mgrctl-main.ts';
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints: entries,
  splitting: true,
  format: 'esm',
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['better-sqlite3', 'mysql2'],
  define: { PMISPLICENSE_VERSION: JSON.stringify(version) },
});
// Extensionless files below this are CommonJS, whatever the package.json above says.
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
await build({ ...common, entryPoints: ['src/launcher.ts'], format: 'cjs', outfile: 'dist/pmisplicense', banner: { js: '#!/usr/bin/env node' } });
if (entries['sandbox-mgrctl']) writeFileSync('dist/sandbox-mgrctl', "#!/usr/bin/env node\nimport('./sandbox-mgrctl.mjs');\n");
for (const name of Object.keys(entries)) chmodSync(`dist/${name}`, 0o755);
console.log(`built ${Object.keys(entries).map((n) => `dist/${n}`).join(', ')}`);
