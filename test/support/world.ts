// A whole world for end-to-end tests: the sandbox licensing server on loopback, a simulated
// BILLmanager host behind the fake mgrctl executable, a real SQLite state file and log in a temp
// directory, and the built module executable run as BILLmanager runs it (a new process each time).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LicenseStore } from '../../src/pool/store.js';
import type { NewSimService } from '../../src/sandbox/host.js';
import { startLicensingServer, type LicensingSandbox, type SandboxOptions } from '../../src/sandbox/licensing-server.js';
import { newFakeHost, REPO_ROOT, type FakeHost } from './fake-host.js';

export const EXE = join(REPO_ROOT, 'dist', 'pmisplicense');
export const SANDBOX_USER = 'reseller';
export const SANDBOX_PASSWORD = 'Sandbox-Pa55word-xyz';
export const MODULE = 1;

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/ when it is missing or older than src/ (npm test builds first; this keeps
 *  `npx mocha some.test.ts` honest too). */
export function ensureBuilt(): void {
  if (existsSync(EXE) && statSync(EXE).mtimeMs >= newestMtime(join(REPO_ROOT, 'src'))) return;
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  item?: number;
  ro?: number;
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  args?: string[];
}

export class World {
  readonly dir: string;
  readonly db: string;
  readonly log: string;
  day: string;

  private constructor(
    readonly sandbox: LicensingSandbox,
    readonly host: FakeHost,
    day: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'pmisplicense-world-'));
    this.db = join(this.dir, 'pmisplicense.db');
    this.log = join(this.dir, 'pmisplicense.log');
    this.day = day;
  }

  static async create(opts: Partial<SandboxOptions> & { day?: string } = {}): Promise<World> {
    ensureBuilt();
    const day = opts.day ?? '2026-01-10';
    const sandbox = await startLicensingServer({ user: SANDBOX_USER, password: SANDBOX_PASSWORD, balance: 10_000, keyDelayMs: 0, ...opts, now: day });
    const host = newFakeHost();
    host.sim.addModule({ id: MODULE, url: sandbox.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD });
    return new World(sandbox, host, day);
  }

  get env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      MGR_ROOT: this.dir,
      ...this.host.env,
      PMISPLICENSE_DB: this.db,
      PMISPLICENSE_LOG: this.log,
      PMISPLICENSE_NOW: `${this.day}T12:00:00Z`,
      PMISPLICENSE_KEY_WAIT: '2',
      // Reruns follow failures at once here; the settle window has its own test (open.test.ts).
      PMISPLICENSE_ORDER_SETTLE: '0',
    };
  }

  /** Moves the story's clock: the sandbox's and the module's. */
  setDay(day: string): void {
    this.day = day;
    this.sandbox.setNow(day);
  }

  addService(s: NewSimService): void {
    this.host.sim.addService({ ip: '203.0.113.10', panel: '3541', period: '1', pricelist: '20', itemtype: 'soft', processingmodule: MODULE, status: 2, ...s });
  }

  /** Runs the module as BILLmanager does: `--command X --item N --runningoperation R`. */
  command(command: string, o: RunOptions = {}): Promise<RunResult> {
    const args = ['--command', command];
    if (o.item !== undefined) args.push('--item', String(o.item));
    if (o.ro !== undefined) args.push('--runningoperation', String(o.ro));
    return this.exec([...args, ...(o.args ?? [])], o);
  }

  exec(args: string[], o: RunOptions = {}): Promise<RunResult> {
    return runExe(args, { ...this.env, ...o.env }, o.stdin).then((r) => {
      this.outputs.push(r.stdout, r.stderr);
      return r;
    });
  }

  /** Everything the module printed in this world, for the secrets check in close(). */
  private readonly outputs: string[] = [];

  /** No secret in any output or the log of any test that used a world (SPEC 6). */
  assertNoSecretLeaked(): void {
    const seen = [this.logText(), ...this.outputs].join('\n');
    const secrets = [SANDBOX_PASSWORD, encodeURIComponent(SANDBOX_PASSWORD), ...this.sandbox.licenses().map((l) => l.lickey).filter((k) => k.length >= 8)];
    for (const secret of secrets) {
      if (seen.includes(secret)) throw new Error(`a secret (${secret === SANDBOX_PASSWORD ? 'the module password' : 'a license key'}) reached the module's output or log`);
    }
  }

  /** A read-only look at the module's state file. */
  store<T>(fn: (s: LicenseStore) => T): T {
    const s = LicenseStore.open(this.db);
    try {
      return fn(s);
    } finally {
      s.close();
    }
  }

  logText(): string {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8') : '';
  }

  purchases(): number {
    return this.sandbox.purchases();
  }

  /** Upstream requests of one func (or all). */
  requests(func?: string) {
    return this.sandbox.requests(func);
  }

  async close(): Promise<void> {
    try {
      this.assertNoSecretLeaked();
    } finally {
      await this.sandbox.close();
      this.host.cleanup();
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

export function runExe(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [EXE, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
  });
}
