// Test helper: a simulated BILLmanager host (src/sandbox/host.ts) with a runnable fake mgrctl.
// The executable is dist/sandbox-mgrctl when the build made one that is not older than its
// sources; otherwise a small shell wrapper that runs the TypeScript entry through tsx, so the
// tests work before (and without) a build.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { createSimulatedHost, type SimulatedHost } from '../../src/sandbox/host.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

const SOURCES = ['src/sandbox/host.ts', 'src/sandbox/mgrctl-main.ts', 'src/xml-out.ts'];

let cachedPath: string | null = null;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function builtIsFresh(built: string): boolean {
  if (!existsSync(built)) return false;
  const t = statSync(built).mtimeMs;
  return SOURCES.every((s) => {
    const p = join(REPO_ROOT, s);
    return !existsSync(p) || statSync(p).mtimeMs <= t;
  });
}

/**
 * Path of an executable fake mgrctl. PMISPLICENSE_FAKE_MGRCTL overrides; then a fresh
 * dist/sandbox-mgrctl; then a wrapper under os.tmpdir() (removed when the process exits).
 */
export function fakeMgrctlPath(): string {
  if (process.env.PMISPLICENSE_FAKE_MGRCTL) return process.env.PMISPLICENSE_FAKE_MGRCTL;
  if (cachedPath && existsSync(cachedPath)) return cachedPath;
  const built = join(REPO_ROOT, 'dist', 'sandbox-mgrctl');
  if (builtIsFresh(built)) return (cachedPath = built);

  // Absolute node and tsx loader: the module may run mgrctl with another cwd or PATH.
  // createRequire, not import.meta.resolve: mocha may load this file through tsx's CJS hook.
  const tsx = pathToFileURL(createRequire(join(REPO_ROOT, 'package.json')).resolve('tsx')).href;
  const entry = join(REPO_ROOT, 'src', 'sandbox', 'mgrctl-main.ts');
  const dir = mkdtempSync(join(tmpdir(), 'pmisplicense-mgrctl-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'mgrctl');
  writeFileSync(path, `#!/bin/sh\nexec ${shellQuote(process.execPath)} --import=${shellQuote(tsx)} ${shellQuote(entry)} "$@"\n`);
  chmodSync(path, 0o755);
  return (cachedPath = path);
}

export interface FakeHost {
  /** Temporary directory holding the state file; removed by cleanup(). */
  dir: string;
  /** The simulated host's state file (PMISPLICENSE_SANDBOX_HOST). */
  dbPath: string;
  /** The fake mgrctl executable (PMISPLICENSE_MGRCTL). */
  mgrctl: string;
  /** Merge into a child's environment (or Host's `env` option) to make it use this host. */
  env: { PMISPLICENSE_MGRCTL: string; PMISPLICENSE_SANDBOX_HOST: string };
  /** The simulated host's API (state set-up and inspection). */
  sim: SimulatedHost;
  cleanup(): void;
}

export function newFakeHost(): FakeHost {
  const base = join(tmpdir(), 'pmisplicense-tests');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'host-'));
  const dbPath = join(dir, 'host.db');
  const sim = createSimulatedHost(dbPath);
  const mgrctl = fakeMgrctlPath();
  return {
    dir,
    dbPath,
    mgrctl,
    env: { PMISPLICENSE_MGRCTL: mgrctl, PMISPLICENSE_SANDBOX_HOST: dbPath },
    sim,
    cleanup() {
      sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
