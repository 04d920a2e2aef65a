// `npm run release`: the packed release a production server installs from, with no dev toolchain.
// On a build machine (after `npm ci`), it bundles dist/ (npm run build does) and packs
// release/pmisplicense-<version>.tar.gz: dist/, etc/, install.sh, package.json, package-lock.json,
// README.md and a RELEASE marker — no sources, no tests, no node_modules. On the server:
//
//   tar xzf pmisplicense-<version>.tar.gz && cd pmisplicense-<version>
//   npm ci --omit=dev && ./install.sh
//
// `npm ci --omit=dev` installs only the runtime dependencies (better-sqlite3 for this server's
// Node, saxes, mysql2, …: package-lock.json's entries not marked "dev"); install.sh sees
// RELEASE, installs the shipped dist/ as it is and never builds. Options: --out DIR (default release/).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = resolve(outAt >= 0 && args[outAt + 1] ? args[outAt + 1] : 'release');
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

if (!existsSync('dist/pmisplicense')) {
  console.error('release: dist/pmisplicense is missing: run npm run build first (npm run release does)');
  process.exit(1);
}
// A release of a dist/ older than its sources would ship yesterday's code under today's version.
const built = statSync('dist/pmisplicense').mtimeMs;
const stale = spawnSync('find', ['src', 'scripts/build.mjs', '-newer', 'dist/pmisplicense', '-type', 'f'], { encoding: 'utf8' }).stdout.trim();
const shipped = spawnSync(process.execPath, ['dist/pmisplicense', '--version'], { encoding: 'utf8' }).stdout.trim();
if (stale || shipped !== version) {
  const why = stale ? `${stale.split('\n')[0]} changed since ${new Date(built).toISOString()}` : `it says version ${shipped || '?'}, package.json ${version}`;
  console.error(`release: dist/ is older than the sources (${why}): run npm run build first`);
  process.exit(1);
}

const name = `pmisplicense-${version}`;
const stage = join(out, name);
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
for (const f of ['dist', 'etc', 'install.sh', 'package.json', 'package-lock.json', 'README.md']) {
  cpSync(f, join(stage, f), { recursive: true, preserveTimestamps: true });
}
writeFileSync(
  join(stage, 'RELEASE'),
  `pmisplicense ${version}: a packed release (dist/ is built; no sources).\nInstall: npm ci --omit=dev && ./install.sh   (see README.md, "Install on a BILLmanager server")\n`,
);
const tarball = join(out, `${name}.tar.gz`);
const tar = spawnSync('tar', ['-czf', tarball, '-C', out, name], { stdio: 'inherit' });
if (tar.status !== 0) {
  console.error('release: tar failed');
  process.exit(1);
}
rmSync(stage, { recursive: true, force: true });
console.log(`packed ${tarball}`);
