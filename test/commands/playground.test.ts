// `pmisplicense playground` (SPEC 9 v3), driven as README says: start it, export what it prints in
// another shell, and use the module against it — `periods add`, BILLmanager's `open` of a service,
// `pool list`, one panel page called as COREmanager calls the handler, `reconcile` — then stop it.
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/fake-host.js';
import { childrenNamed, childText, parseXml } from '../../src/xml.js';
import { EXE, ensureBuilt, runExe } from '../support/world.js';

interface Playground {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  exited: Promise<number | null>;
}

/** Every playground a test started: all are killed after each test, whatever happened. */
const started: Playground[] = [];

/** Starts the playground and waits (bounded) until it has printed its last instruction. */
async function start(): Promise<Playground> {
  const child = spawn(process.execPath, [EXE, 'playground'], { env: { PATH: process.env.PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  started.push({ child, out: () => out, exited });
  const deadline = Date.now() + 30_000;
  while (!out.includes('Stop with Ctrl-C')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the playground did not start: ${out}${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, out: () => out, exited };
}

/** README's panel page call: the page document on stdin and the COREmanager variables. */
function readmePanelCall(): { stdin: string; env: Record<string, string> } {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const m = /echo '(<doc[^']*)' \|\n\s*((?:[A-Za-z_]+=\S+ )+)\$PM panel/.exec(readme);
  if (!m) throw new Error('README has no panel page call (echo \'<doc…>\' | PARAM_…=… $PM panel)');
  return { stdin: m[1]!, env: Object.fromEntries(m[2]!.trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) };
}

/** The variables of the printed `export A=… B=…` line. */
function exported(out: string): Record<string, string> {
  const line = out.split('\n').find((l) => l.startsWith('export '));
  if (!line) throw new Error(`no export line in: ${out}`);
  return Object.fromEntries(line.slice('export '.length).trim().split(/\s+/).map((kv) => {
    const eq = kv.indexOf('=');
    return [kv.slice(0, eq), kv.slice(eq + 1).replace(/^'(.*)'$/, '$1')];
  }));
}

describe('pmisplicense playground', function () {
  this.timeout(120_000);
  let pg: Playground | null = null;

  before(() => ensureBuilt());
  afterEach(async () => {
    for (const p of started.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
  });

  it('works as README says: periods add, open, pool list, a panel page, reconcile; Ctrl-C stops it cleanly', async () => {
    pg = await start();
    const vars = exported(pg.out());
    expect(Object.keys(vars)).to.have.length.within(2, 3);
    expect(vars).to.have.property('MGR_ROOT');
    const env = { PATH: process.env.PATH, ...vars };
    const run = async (args: string[], stdin?: string, extra: NodeJS.ProcessEnv = {}) => runExe(args, { ...env, ...extra }, stdin);

    const rule = await run(['periods', 'add', '--module', '1', '--source', '1', '--target', '12']);
    expect(rule.code, rule.stderr).to.equal(0);
    expect(rule.stdout.trim()).to.match(/^\d+$/);

    const open = await run(['--command', 'open', '--item', '101', '--runningoperation', '1']);
    expect(open.code, open.stdout + open.stderr).to.equal(0);

    const pool = await run(['pool', 'list', '--json']);
    expect(pool.code, pool.stderr).to.equal(0);
    const rows = JSON.parse(pool.stdout) as Array<{ license: number; state: string; item: number | null; period: number; pricelist: number; ip: string }>;
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ state: 'bound', item: 101, period: 12, pricelist: 3541, ip: '203.0.113.10' });

    // The pool page as COREmanager asks for it, written out in README: the request in PARAM_*/AUTH_*,
    // the page document on stdin.
    const call = readmePanelCall();
    expect(call.env).to.include({ PARAM_func: 'pmisplicense.pool', AUTH_LEVEL: '29' });
    const page = await run(['panel'], call.stdin, call.env);
    expect(page.code).to.equal(0);
    const doc = parseXml(page.stdout);
    expect(childrenNamed(doc, 'error')).to.have.length(0);
    const elems = childrenNamed(doc, 'elem');
    expect(elems.map((e) => [childText(e, 'id'), childText(e, 'item')])).to.deep.equal([[String(rows[0]!.license), '101']]);

    const rec = await run(['reconcile', '--module', '1', '--json']);
    expect(rec.code, rec.stderr).to.equal(0);
    expect(JSON.parse(rec.stdout)).to.deep.equal([]);

    // Interrupted like a terminal's Ctrl-C: exit 0, and what it made is gone.
    pg.child.kill('SIGINT');
    expect(await pg.exited).to.equal(0);
    expect(pg.out()).to.include('stopped');
    expect(existsSync(vars.MGR_ROOT!)).to.equal(false);
  });

  it('SIGTERM stops it too, with exit 0', async () => {
    pg = await start();
    const root = exported(pg.out()).MGR_ROOT!;
    expect(existsSync(root)).to.equal(true);
    pg.child.kill('SIGTERM');
    expect(await pg.exited).to.equal(0);
    expect(existsSync(root)).to.equal(false);
  });
});
