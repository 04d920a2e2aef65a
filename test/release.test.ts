// The production install without the dev toolchain (issue 16): `npm run release` packs dist/ (built),
// etc/, install.sh and the package files — no sources, no tests, no node_modules; on the server
// `npm ci --omit=dev` installs only the runtime dependencies and install.sh installs the shipped
// dist/ without building. Here node_modules is made exactly as `npm ci --omit=dev` makes it (the
// lock's entries not marked dev, copied from this checkout: no network), and the release is
// installed into a temporary MGR_ROOT with a fake mgrctl.
import { expect } from 'chai';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './support/world.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string>; dependencies: Record<string, string> };
const NAME = `pmisplicense-${PKG.version}`;
const LOCK = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
/** Top-level packages only the dev toolchain needs (the lock marks them dev): esbuild, typescript,
 *  tsx, mocha, chai, … (@types/node is not among them: mysql2 depends on it at run time). */
const DEV_ONLY = Object.entries(LOCK.packages)
  .filter(([k, v]) => v.dev && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(k))
  .map(([k]) => k.slice('node_modules/'.length));

function explain(r: SpawnSyncReturns<string>): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['PMISPLICENSE_DB', 'PMISPLICENSE_LOG', 'PMISPLICENSE_MGRCTL', 'PMISPLICENSE_NOW', 'NODE_PATH', 'NODE_OPTIONS']) delete env[k];
  return env;
}

/** node_modules as `npm ci --omit=dev` lays it out: every package-lock entry not marked dev. */
function runtimeNodeModules(into: string): string[] {
  const keys = Object.entries(LOCK.packages).filter(([k, v]) => k !== '' && !v.dev && !v.devOptional).map(([k]) => k);
  for (const key of keys) {
    // Nested node_modules are entries of their own: copied when the lock lists them.
    cpSync(join(ROOT, key), join(into, key), { recursive: true, dereference: true, filter: (src) => !src.slice(join(ROOT, key).length).includes('/node_modules') });
  }
  return keys;
}

describe('packed release: installed without the dev toolchain', function () {
  this.timeout(300_000);
  let tmp = '';
  let release = '';
  let mgr = '';

  before(function () {
    ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'pmisplicense-release-'));
    mgr = join(tmp, 'mgr5');
    mkdirSync(join(mgr, 'sbin'), { recursive: true });
    writeFileSync(join(mgr, 'sbin', 'mgrctl'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(mgr, 'sbin', 'mgrctl'), 0o755);
  });
  after(function () {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('npm run release packs dist/, etc/, install.sh and the package files, and no sources, tests or node_modules', function () {
    const r = spawnSync(process.execPath, ['scripts/release.mjs', '--out', join(tmp, 'out')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, explain(r)).to.equal(0);
    const tarball = join(tmp, 'out', `${NAME}.tar.gz`);
    expect(existsSync(tarball)).to.equal(true);
    const list = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const f of ['dist/pmisplicense', 'dist/sandbox-mgrctl', 'install.sh', 'package.json', 'package-lock.json', 'README.md', 'RELEASE', 'etc/xml/billmgr_mod_pmisplicense.xml']) {
      expect(list, f).to.include(`${NAME}/${f}`);
    }
    expect(list.filter((f) => /^[^/]+\/(src|test|scripts|node_modules)\//.test(f))).to.deep.equal([]);
    const x = spawnSync('tar', ['-xzf', tarball, '-C', tmp], { encoding: 'utf8' });
    expect(x.status, explain(x)).to.equal(0);
    release = join(tmp, NAME);
  });

  it('install.sh in the release asks for npm ci --omit=dev when node_modules is missing', function () {
    const r = spawnSync(join(release, 'install.sh'), [], { cwd: tmpdir(), env: cleanEnv({ MGR_ROOT: mgr, PMISPLICENSE_CRON_DIR: join(tmp, 'cron.d'), PMISPLICENSE_LOGROTATE_DIR: join(tmp, 'logrotate.d') }), encoding: 'utf8' });
    expect(r.status, explain(r)).to.equal(1);
    expect(r.stderr).to.include("npm ci --omit=dev");
    expect(existsSync(join(mgr, 'lib', 'pmisplicense'))).to.equal(false);
  });

  it('with only the runtime dependencies, installs the shipped dist/ without building, and the module works', function () {
    const keys = runtimeNodeModules(release);
    expect(keys).to.include('node_modules/better-sqlite3');
    expect(DEV_ONLY).to.include.members(['esbuild', 'typescript', 'tsx', 'mocha']);
    for (const dev of DEV_ONLY) expect(existsSync(join(release, 'node_modules', dev)), dev).to.equal(false);
    const built = statSync(join(release, 'dist', 'pmisplicense')).mtimeMs;
    const r = spawnSync(join(release, 'install.sh'), [], { cwd: tmpdir(), env: cleanEnv({ MGR_ROOT: mgr, PMISPLICENSE_CRON_DIR: join(tmp, 'cron.d'), PMISPLICENSE_LOGROTATE_DIR: join(tmp, 'logrotate.d') }), encoding: 'utf8' });
    expect(r.status, explain(r)).to.equal(0);
    expect(r.stdout).to.include('installing the packed release').and.to.not.include('building it');
    expect(statSync(join(release, 'dist', 'pmisplicense')).mtimeMs).to.equal(built);

    // No devDependency was needed, and none is in the installed runtime.
    const lib = join(mgr, 'lib', 'pmisplicense', 'node_modules');
    const installed = readdirSync(lib).flatMap((n) => (n.startsWith('@') ? readdirSync(join(lib, n)).map((m) => `${n}/${m}`) : [n]));
    expect(installed.filter((n) => DEV_ONLY.includes(n))).to.deep.equal([]);
    expect(installed).to.include('better-sqlite3');

    const exe = join(mgr, 'processing', 'pmisplicense');
    const env = cleanEnv({ MGR_ROOT: mgr });
    const v = spawnSync(exe, ['--version'], { cwd: '/', env, encoding: 'utf8' });
    expect(v.stdout.trim()).to.equal(PKG.version);
    const f = spawnSync(exe, ['--command', 'features'], { cwd: '/', env, encoding: 'utf8' });
    expect(f.stdout).to.include('<feature name="open"/>');
    const pool = spawnSync(exe, ['pool', 'list', '--json'], { cwd: '/', env, encoding: 'utf8' });
    expect(pool.status, explain(pool)).to.equal(0); // better-sqlite3 from lib/ loads the state
    expect(pool.stdout.trim()).to.equal('[]');
  });
});
