// Helpers of the crash suite (crash.test.ts): discover the upstream steps a command takes from a
// clean run, then run the command again and SIGKILL it at one chosen step, before the licensing
// server applied it (a `hold` fault) or after it applied it but before the reply reached the
// module (a `latency` fault, killed while the request is pending).
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import type { RecordedRequest, SeedLicense } from '../../src/sandbox/licensing-server.js';
import { REPO_ROOT } from '../support/fake-host.js';
import { ensureBuilt, EXE, MODULE, SANDBOX_PASSWORD, type RunResult, type World } from '../support/world.js';
import { prng } from '../support/prng.js';

// ---- a private copy of the build ----------------------------------------------------------------
// Other engineers rebuild dist/ (rm -rf, then esbuild) whenever they touch src/, and this suite
// runs for minutes: a module process started mid-rebuild would fail to load a chunk. The suite
// runs a complete copy of dist/ taken at its start (under node_modules/.cache, so that
// better-sqlite3 resolves), and the simulated host's mgrctl from the same copy.

let exe = EXE;

function completeBuild(dir: string): boolean {
  const files = [join(dir, 'pmisplicense'), join(dir, 'sandbox-mgrctl')];
  if (!files.every((f) => existsSync(f))) return false;
  if (existsSync(join(dir, 'chunks'))) files.push(...readdirSync(join(dir, 'chunks')).map((f) => join(dir, 'chunks', f)));
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/["'](\.\/(?:chunks\/)?[\w.-]+\.js)["']/g)) {
      if (!existsSync(join(dirname(f), m[1]!))) return false;
    }
  }
  return true;
}

/** Takes the copy and points the module runs and the fake mgrctl at it; returns the undo. */
export async function useBuildSnapshot(): Promise<() => void> {
  const dir = join(REPO_ROOT, 'node_modules', '.cache', `pmisplicense-crash-${process.pid}`);
  for (let attempt = 1; ; attempt++) {
    rmSync(dir, { recursive: true, force: true });
    try {
      ensureBuilt();
      cpSync(join(REPO_ROOT, 'dist'), dir, { recursive: true });
      if (completeBuild(dir)) break;
    } catch (e) {
      if (attempt >= 30) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    }
    if (attempt >= 30) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error('could not take a complete copy of dist/ (a rebuild kept running)');
    }
    await sleep(1000);
  }
  const previous = process.env.PMISPLICENSE_FAKE_MGRCTL;
  process.env.PMISPLICENSE_FAKE_MGRCTL = join(dir, 'sandbox-mgrctl');
  exe = join(dir, 'pmisplicense');
  return () => {
    exe = EXE;
    if (previous === undefined) delete process.env.PMISPLICENSE_FAKE_MGRCTL;
    else process.env.PMISPLICENSE_FAKE_MGRCTL = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}

/** Runs the module to its end, as World.exec does, from the suite's copy of the build. */
export async function run(w: World, args: string[]): Promise<RunResult> {
  const p = startModule(w, args);
  const { code } = await p.exited;
  await p.closed;
  return { code: code ?? -1, stdout: p.stdout(), stderr: p.stderr() };
}

/** test/support/pool.ts's pooled(), with the suite's copy of the build. */
export async function pooledLicense(w: World, seed: SeedLicense): Promise<number> {
  const lic = w.sandbox.addLicense({ licname: 'free.lic', manualSuspended: true, ...seed });
  const r = await run(w, ['pool', 'adopt', '--module', String(MODULE), '--license', String(lic.id)]);
  expect(r.code, r.stderr).to.equal(0);
  return lic.id;
}

export type Variant = 'before' | 'after';
export const VARIANTS: readonly Variant[] = ['before', 'after'];

/** The latency of the faulted request in the `after` variant: the kill lands well inside it. */
export const LATENCY_MS = 800;

/** One upstream request of a command run: the nth request of `func` in that run. */
export interface Step {
  func: string;
  nth: number;
  /** read / change / newkey for soft.edit; the func's own word otherwise. */
  kind: string;
  /** e.g. 'soft.edit read #2' (the #k only when that kind occurs more than once). */
  name: string;
}

export function kindOf(r: RecordedRequest): string {
  switch (r.func) {
    case 'soft.edit':
      if (r.params.sok !== 'ok') return 'read';
      return r.params.clicked_button === 'newkey' ? 'newkey' : 'change';
    case 'soft':
      return 'list';
    case 'soft.order.param':
      return 'order';
    default:
      return '';
  }
}

export function stepsOf(reqs: readonly RecordedRequest[]): Step[] {
  const perFunc = new Map<string, number>();
  const perKind = new Map<string, number>();
  const total = new Map<string, number>();
  const key = (r: RecordedRequest) => `${r.func} ${kindOf(r)}`.trim();
  for (const r of reqs) total.set(key(r), (total.get(key(r)) ?? 0) + 1);
  return reqs.map((r) => {
    const nth = (perFunc.get(r.func) ?? 0) + 1;
    perFunc.set(r.func, nth);
    const k = key(r);
    const kn = (perKind.get(k) ?? 0) + 1;
    perKind.set(k, kn);
    return { func: r.func, nth, kind: kindOf(r), name: total.get(k)! > 1 ? `${k} #${kn}` : k };
  });
}

export function lastSeq(w: World): number {
  const all = w.sandbox.requests();
  return all.length ? all[all.length - 1]!.seq : 0;
}

export function requestsSince(w: World, seq: number, func?: string): RecordedRequest[] {
  return w.sandbox.requests(func).filter((r) => r.seq > seq);
}

// ---- processes -------------------------------------------------------------------------------

export interface Proc {
  child: ChildProcess;
  /** Resolves on exit (a killed process: an orphaned mgrctl child may keep a pipe open). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once its output pipes closed too. */
  closed: Promise<void>;
  hasExited(): boolean;
  stdout(): string;
  stderr(): string;
  output(): string;
}

let spawned = 0;
/** Module processes this suite started (setup runs included). */
export function spawnedProcesses(): number {
  return spawned;
}

/** What the module printed in each world: no secret may be in it (SPEC 6). */
const outputs = new WeakMap<World, string[]>();

/** Closes the world after checking that no password or key reached the module's output
 *  (World.close checks the log and the runs it made itself). */
export async function closeWorld(w: World): Promise<void> {
  try {
    const seen = (outputs.get(w) ?? []).join('\n');
    const secrets = [SANDBOX_PASSWORD, encodeURIComponent(SANDBOX_PASSWORD), ...w.sandbox.licenses().map((l) => l.lickey).filter((k) => k.length >= 8)];
    for (const secret of secrets) {
      if (seen.includes(secret)) throw new Error(`a secret (${secret.startsWith('Sandbox') ? 'the module password' : 'a license key'}) reached the module's output`);
    }
  } finally {
    await w.close();
  }
}

/** Starts the module executable as BILLmanager does, with the world's environment. */
export function startModule(w: World, args: string[]): Proc {
  spawned++;
  const child = spawn(process.execPath, [exe, ...args], { env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let done = false;
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const closed = new Promise<void>((resolve) =>
    child.on('close', () => {
      outputs.set(w, [...(outputs.get(w) ?? []), out, err]);
      resolve();
    }),
  );
  return { child, exited, closed, hasExited: () => done, stdout: () => out, stderr: () => err, output: () => out + err };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` until it holds; fails early when `proc` exits first. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000, proc?: Proc): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return;
    if (proc?.hasExited()) {
      // One last look: the condition may have become true just before the exit.
      if (cond()) return;
      throw new Error(`the module exited before: ${what}; its output: ${proc.output().slice(0, 2000)}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

export async function kill(p: Proc): Promise<void> {
  if (!p.hasExited()) p.child.kill('SIGKILL');
  await p.exited;
}

/** The syscall the process's main thread is in (Linux), or null when it cannot be read. */
export function currentSyscall(pid: number): number | null {
  try {
    const first = readFileSync(`/proc/${pid}/syscall`, 'utf8').trim().split(' ')[0]!;
    return /^\d+$/.test(first) ? Number(first) : null;
  } catch {
    return null;
  }
}

// ---- the crash ---------------------------------------------------------------------------------

export interface CrashResult {
  /** The faulted request, after the sandbox settled it. */
  request: RecordedRequest;
  /** Upstream requests the killed process made. */
  requests: number;
}

/**
 * Runs `args` and SIGKILLs the process at `steps[index]`: `before` = the request is held (nothing
 * applied), killed, and the sandbox drops it; `after` = the request is delayed, killed while
 * pending, and the sandbox applies it after the client is gone. Asserts the run took the clean
 * run's path up to that step and that the request ended as the variant means.
 */
export async function crashAt(w: World, args: string[], steps: readonly Step[], index: number, variant: Variant): Promise<CrashResult> {
  const step = steps[index]!;
  const since = lastSeq(w);
  if (step.nth > 1) w.sandbox.inject({ kind: 'latency', func: step.func, delayMs: 0, count: step.nth - 1 });
  w.sandbox.inject(variant === 'before' ? { kind: 'hold', func: step.func } : { kind: 'latency', func: step.func, delayMs: LATENCY_MS });
  const p = startModule(w, args);
  const target = () => requestsSince(w, since, step.func)[step.nth - 1];
  try {
    if (variant === 'before') {
      await waitFor(() => w.sandbox.heldCount() >= 1 && target()?.fault === 'hold', `${step.name} held`, 60_000, p);
    } else {
      await waitFor(() => target()?.fault === 'latency' && target()?.outcome === 'pending', `${step.name} pending`, 60_000, p);
    }
    p.child.kill('SIGKILL');
    const exit = await p.exited;
    expect(exit.signal, 'the module was killed, not finished').to.equal('SIGKILL');
    await waitFor(() => target()!.outcome !== 'pending', `${step.name} settled by the sandbox`, 30_000);
  } finally {
    await kill(p);
    w.sandbox.release();
    w.sandbox.clearFaults();
  }
  const mine = requestsSince(w, since);
  // Same path as the clean run up to the faulted step.
  const path = (xs: readonly Step[]) => xs.map((s) => `${s.func} ${s.kind}`);
  expect(path(stepsOf(mine)), 'the crashed run took the clean run\'s path').to.deep.equal(path(steps.slice(0, index + 1)));
  const request = target()!;
  expect(request.outcome, `${step.name}: the module got no reply`).to.equal('aborted');
  expect(request.applied, `${step.name} applied upstream`).to.equal(variant === 'after');
  return { request, requests: mine.length };
}

// ---- what the world says -------------------------------------------------------------------------

/** service.post<op> calls the host got for one service. */
export function postCalls(w: World, op: string, item: number): number {
  return w.host.sim.calls(`service.post${op}`).filter((c) => c.argv.includes(`elid=${item}`)).length;
}

/** Orders taken upstream for one service (licname `Item #N`). */
export function ordersOf(w: World, item: number): number {
  return w.sandbox.requests('soft.order.param').filter((r) => r.applied && r.params.licname === `Item #${item}`).length;
}

export function prolongsOf(w: World, licenseId: number): number {
  return w.sandbox.ledger().filter((e) => e.kind === 'prolong' && e.licenseId === licenseId).length;
}

/** The service's license_id / lickey / license_expiredate are the upstream license's. */
export function expectParamsMatch(w: World, item: number, licenseId: number): void {
  const u = w.sandbox.license(licenseId)!;
  const params = w.host.sim.service(item)!.params;
  expect(params.license_id, `service ${item} license_id`).to.equal(String(licenseId));
  expect(u.lickey, `license ${licenseId} has a key`).to.not.equal('');
  expect(params.lickey === u.lickey, `service ${item} lickey is the upstream key`).to.equal(true);
  expect(params.license_expiredate, `service ${item} license_expiredate`).to.equal(u.expiredate);
}

/** The random-kill loop and the stress mix are reproducible from their seed. */
export { prng };
