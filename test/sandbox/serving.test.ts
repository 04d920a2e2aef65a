// SPEC 9: what the sandbox serves and how — only its path, only POST (and GET with a query),
// XML that stays XML whatever was stored, a bounded request log that keeps money counts exact,
// list pages, a clear error for a port in use, seeding at scale.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { CommandError } from '../../src/errors.js';
import { child, childText, childrenNamed, parseXml, type XmlElement } from '../../src/xml.js';
import { IN_MEMORY_NOTICE, SandboxApiError, SandboxListenError, parseSandboxArgs, runSandboxCommand, startLicensingServer, type LicensingSandbox } from '../../src/sandbox/licensing-server.js';
import { captureLog } from '../upstream/canned.js';
import { EXE, ensureBuilt } from '../support/world.js';

const USER = 'reseller';
const PASSWORD = 'Serving-Pa55word';
const AUTHINFO = `${USER}:${PASSWORD}`;
const ORDER = { clicked_button: 'finish', sok: 'ok', skipbasket: 'on', pricelist: '3541', period: '1', ip: '198.51.100.7', licname: 'Item #5', autoprolong: 'null', remoteid: '5' };

interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(url: string, opts: { method?: string; body?: string } = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    // Content-Length always: node sends a DELETE's body unframed otherwise.
    const headers = opts.body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(opts.body)) };
    const req = request(url, { method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams({ authinfo: AUTHINFO, out: 'xml', lang: 'en', ...fields }).toString();
}

async function call(sb: LicensingSandbox, func: string, params: Record<string, string> = {}): Promise<XmlElement> {
  const r = await http(sb.url, { body: form({ func, ...params }) });
  expect(r.status, r.body).to.equal(200);
  return parseXml(r.body);
}

function ids(d: XmlElement): number[] {
  return childrenNamed(d, 'elem').map((e) => Number(childText(e, 'id')));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('sandbox serving (SPEC 9)', () => {
  let sb: LicensingSandbox;
  beforeEach(async () => {
    sb = await startLicensingServer({ user: USER, password: PASSWORD, balance: 1000, now: '2025-01-31T10:00:00Z' });
  });
  afterEach(() => sb.close());

  describe('path and method', () => {
    it('a DELETE (any method but POST/GET) is 405 with Allow and deletes nothing', async () => {
      const id = sb.addLicense({ licname: 'keep.me' }).id;
      for (const method of ['DELETE', 'PUT', 'PATCH']) {
        const r = await http(`${sb.url}?${form({ func: 'soft.delete', elid: String(id), sok: 'ok' })}`, { method, body: form({ func: 'soft.delete', elid: String(id), sok: 'ok' }) });
        expect(r.status, method).to.equal(405);
        expect(r.headers.allow).to.equal('POST, GET');
      }
      expect(sb.license(id)).to.include({ deleted: false, status: 2 });
      expect(sb.requests('soft.delete').map((q) => [q.method, q.outcome, q.applied, q.httpStatus])).to.deep.equal([
        ['DELETE', 'rejected', false, 405],
        ['PUT', 'rejected', false, 405],
        ['PATCH', 'rejected', false, 405],
      ]);
    });

    it('another path is 404 and changes nothing, for POST and GET alike', async () => {
      const base = sb.url.replace(/\/billmgr$/, '');
      for (const path of ['/', '/billmgr/', '/billmgr/x', '/manager/billmgr', '/BILLMGR']) {
        const r = await http(base + path, { body: form({ func: 'soft.order.param', ...ORDER }) });
        expect(r.status, path).to.equal(404);
        const g = await http(`${base}${path}?${form({ func: 'soft.order.param', ...ORDER })}`);
        expect(g.status, path).to.equal(404);
      }
      expect(sb.purchases()).to.equal(0);
      expect(sb.balance).to.equal(1000);
      expect(sb.licenses()).to.have.length(0);
    });

    it('GET is served only with a query; a bare GET is 400', async () => {
      expect((await http(sb.url)).status).to.equal(400);
      const g = await http(`${sb.url}?${form({ func: 'soft.order.param', ...ORDER })}`);
      expect(g.status).to.equal(200);
      expect(childText(parseXml(g.body), 'id')).to.equal('1001');
      expect(sb.purchases()).to.equal(1);
    });

    it('serves on the path it is given', async () => {
      const other = await startLicensingServer({ user: USER, password: PASSWORD, path: '/manager/billmgr' });
      try {
        expect(other.url).to.match(/:\d+\/manager\/billmgr$/);
        expect((await http(other.url, { body: form({ func: 'soft' }) })).status).to.equal(200);
        expect((await http(other.url.replace(/\/manager\/billmgr$/, '/billmgr'), { body: form({ func: 'soft' }) })).status).to.equal(404);
      } finally {
        await other.close();
      }
      let failed: unknown;
      await startLicensingServer({ user: USER, password: PASSWORD, path: '/_sandbox/x' }).catch((e: unknown) => (failed = e));
      expect(failed).to.be.instanceOf(RangeError);
    });
  });

  describe('escaping', () => {
    it('a license name with control characters never makes a later reply invalid XML', async () => {
      // (A lone surrogate cannot travel in a form: URL encoding turns it into U+FFFD. Seeded below.)
      const bad = 'Item\u0001 #5 <b>&"\'\u000b\u001f\uffff\ufffe';
      const d = await call(sb, 'soft.order.param', { ...ORDER, licname: bad, remoteid: '5\u0000' });
      const id = Number(childText(d, 'id'));
      // Every later reply that carries the name is a readable document.
      const list = await call(sb, 'soft');
      expect(childText(childrenNamed(list, 'elem')[0]!, 'licname')).to.equal('Item #5 <b>&"\'');
      expect(childText(childrenNamed(list, 'elem')[0]!, 'remoteid')).to.equal('5');
      const edit = await call(sb, 'soft.edit', { elid: String(id) });
      expect(childText(edit, 'licname')).to.equal('Item #5 <b>&"\'');
      // Through soft.edit too, and seeded ones.
      await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', licname: 'free\u0007.lic' });
      sb.addLicense({ licname: 'seed\u0002ed\ud800' });
      expect(childrenNamed(await call(sb, 'soft'), 'elem').map((e) => childText(e, 'licname'))).to.deep.equal(['free.lic', 'seeded']);
      expect(sb.license(id)!.licname).to.equal('free.lic');
    });

    it('an error that echoes the request carries no forbidden character either', async () => {
      const d = await call(sb, 'soft.order.param', { ...ORDER, ip: '1.2.3\u0001<x>' });
      expect(child(child(d, 'error')!, 'msg')!.text).to.equal('Invalid IP address "1.2.3<x>".');
    });
  });

  describe('request log', () => {
    it('keeps the last requestLogLimit requests, every applied order and prolongation, and exact counts', async () => {
      const small = await startLicensingServer({ user: USER, password: PASSWORD, balance: 1000, requestLogLimit: 5 });
      try {
        const orders: number[] = [];
        for (let i = 0; i < 4; i++) orders.push(Number(childText(await call(small, 'soft.order.param', { ...ORDER, licname: `Item #${i}` }), 'id')));
        await call(small, 'service.prolong', { elid: String(orders[0]), period: '1', sok: 'ok' });
        await call(small, 'soft.order.param', { ...ORDER, pricelist: 'nope' }); // refused: not applied
        for (let i = 0; i < 6; i++) await call(small, 'soft');
        const seqBefore = small.lastRequestSeq();
        await call(small, 'soft.edit', { elid: String(orders[1]) });

        // The window holds 5; the applied money requests older than it are still there.
        expect(small.requests().map((r) => r.func)).to.deep.equal([
          'soft.order.param', 'soft.order.param', 'soft.order.param', 'soft.order.param', 'service.prolong',
          'soft', 'soft', 'soft', 'soft', 'soft.edit',
        ]);
        expect(small.requests('soft.order.param').filter((r) => r.applied).map((r) => r.params.licname)).to.deep.equal(['Item #0', 'Item #1', 'Item #2', 'Item #3']);
        expect(small.requests('service.prolong')).to.have.length(1);
        expect(small.requests('soft')).to.have.length(4);
        // Exact counts whatever the window holds, and a cursor the bound does not move.
        expect([small.requestCount(), small.requestCount('soft'), small.requestCount('soft.order.param'), small.requestCount('service.prolong')]).to.deep.equal([13, 6, 5, 1]);
        expect(small.requestsAfter(seqBefore).map((r) => r.func)).to.deep.equal(['soft.edit']);
        expect(small.purchases()).to.equal(4);
        small.clearRequests();
        expect([small.requests().length, small.requestCount()]).to.deep.equal([0, 0]);
      } finally {
        await small.close();
      }
    });

    it('is bounded by default at the last 10 000 requests', async () => {
      expect(sb.requestLogLimit).to.equal(10_000);
      let failed: unknown;
      await startLicensingServer({ user: USER, password: PASSWORD, requestLogLimit: 0 }).catch((e: unknown) => (failed = e));
      expect(failed).to.be.instanceOf(RangeError);
    });
  });

  describe('paging', () => {
    beforeEach(() => {
      sb.seedLicenses(25, (i) => ({ licname: `Item #${i}` }));
    });

    it('pages the list when asked: p_cnt rows of page p_num, with p_elems, p_num, p_cnt beside the rows', async () => {
      const p1 = await call(sb, 'soft', { p_cnt: '10' });
      expect([childText(p1, 'p_elems'), childText(p1, 'p_num'), childText(p1, 'p_cnt')]).to.deep.equal(['25', '1', '10']);
      expect(ids(p1)).to.deep.equal(Array.from({ length: 10 }, (_, i) => 1001 + i));
      const p3 = await call(sb, 'soft', { p_cnt: '10', p_num: '3' });
      expect(ids(p3)).to.deep.equal([1021, 1022, 1023, 1024, 1025]);
      expect(childText(p3, 'p_num')).to.equal('3');
      expect(ids(await call(sb, 'soft', { p_cnt: '10', p_num: '4' }))).to.deep.equal([]);
      // Unasked, the whole list and no paging fields.
      const all = await call(sb, 'soft');
      expect(ids(all)).to.have.length(25);
      expect(child(all, 'p_elems')).to.equal(undefined);
    });

    it('refuses a p_cnt or p_num that is not a whole number from 1', async () => {
      const refused: Record<string, string>[] = [{ p_cnt: 'lots' }, { p_cnt: '0' }, { p_cnt: '10', p_num: '-1' }, { p_num: '1.5' }];
      for (const bad of refused) {
        const e = child(await call(sb, 'soft', bad), 'error');
        expect(e?.attrs, JSON.stringify(bad)).to.include({ type: 'value' });
      }
    });

    it('maxPageSize caps every page whatever p_cnt asks, and pages even an unasked list', async () => {
      sb.setMaxPageSize(7);
      const p1 = await call(sb, 'soft', { p_cnt: '1000' });
      expect([childText(p1, 'p_elems'), childText(p1, 'p_cnt')]).to.deep.equal(['25', '7']);
      expect(ids(p1)).to.have.length(7);
      expect(ids(await call(sb, 'soft', { p_cnt: '1000', p_num: '4' }))).to.deep.equal([1022, 1023, 1024, 1025]);
      expect(ids(await call(sb, 'soft'))).to.have.length(7);
      expect(() => sb.setMaxPageSize(0)).to.throw(RangeError);
      sb.setMaxPageSize(null);
      expect(ids(await call(sb, 'soft'))).to.have.length(25);
    });

    it('a fault can hit one page only (params)', async () => {
      sb.inject({ kind: 'error', func: 'soft', params: { p_num: '2' }, msg: 'page two' });
      expect(child(await call(sb, 'soft', { p_cnt: '10' }), 'error')).to.equal(undefined);
      expect(childText(child(await call(sb, 'soft', { p_cnt: '10', p_num: '2' }), 'error')!, 'msg')).to.equal('page two');
      expect(child(await call(sb, 'soft', { p_cnt: '10', p_num: '2' }), 'error')).to.equal(undefined);
    });
  });

  describe('scale helpers', () => {
    it('seedLicenses puts n licenses on the account from a template, all or none', () => {
      const seeded = sb.seedLicenses(10_000, (i) => ({ licname: `Item #${i}`, pricelist: i % 2 ? '3541' : '4601', ip: `10.0.${i >> 8}.${i & 255}` }));
      expect(seeded).to.have.length(10_000);
      expect(seeded[0]).to.equal(1001);
      expect(seeded.at(-1)).to.equal(11_000);
      expect(sb.license(1001 + 4321)).to.include({ licname: 'Item #4321', ip: '10.0.16.225', pricelist: '3541', status: 2 });
      expect(sb.liveLicenseCount()).to.equal(10_000);
      expect(sb.purchases()).to.equal(0);
      expect(() => sb.seedLicenses(3, { id: 20_000 })).to.throw(RangeError, /already exists/);
      expect(() => sb.seedLicenses(2, (i) => ({ ip: i === 1 ? 'not-an-ip' : '192.0.2.1' }))).to.throw(SandboxApiError, /Invalid IP/);
      expect(sb.liveLicenseCount(), 'nothing seeded by a failed batch').to.equal(10_000);
      expect(sb.addLicense().id).to.equal(11_001);
    });

    it('seeds many through /_sandbox/licenses', async () => {
      const r = await http(sb.url.replace(/\/billmgr$/, '/_sandbox/licenses'), { body: JSON.stringify({ count: 3, licname: 'free.lic', pricelist: '4601' }) });
      expect(JSON.parse(r.body)).to.deep.equal({ seeded: 3, first: 1001, last: 1003 });
      expect(sb.licenses().map((l) => l.pricelist)).to.deep.equal(['4601', '4601', '4601']);
    });

    it('expiry and pending keys still follow the clock after a bulk seed', async () => {
      sb.setKeyDelayMs(-1);
      const [old, pending] = sb.seedLicenses(2, (i) => (i === 0 ? { createdate: '2024-10-01', expiredate: '2024-11-01' } : { lickey: '' }));
      expect(sb.license(old!)).to.include({ deleted: true, deletedBy: 'expiry' });
      expect(sb.license(pending!)!.status).to.equal(5);
      expect(sb.issueKeys()).to.equal(1);
      const fresh = sb.addLicense({ expiredate: '2025-02-15' }).id;
      sb.setNow('2025-03-17');
      expect(sb.license(fresh)).to.include({ deleted: true });
      expect(ids(await call(sb, 'soft'))).to.deep.equal([pending]);
    });
  });

  describe('balance', () => {
    it('refuses a balance that is not an amount of 0 or more', async () => {
      for (const balance of [Number.NaN, -10, Infinity]) {
        let failed: unknown;
        await startLicensingServer({ user: USER, password: PASSWORD, balance }).catch((e: unknown) => (failed = e));
        expect(failed, String(balance)).to.be.instanceOf(RangeError);
      }
      expect(() => sb.setBalance(-1)).to.throw(RangeError);
      expect(sb.balance).to.equal(1000);
      expect(() => parseSandboxArgs(['--balance', 'lots'])).to.throw(CommandError, /--balance/);
      let failed: unknown;
      await runSandboxCommand({ user: USER, password: PASSWORD, balance: -10 }).catch((e: unknown) => (failed = e));
      expect(failed).to.be.instanceOf(CommandError);
      expect((failed as Error).message).to.match(/--balance .*0 or more/);
    });
  });
});

describe('sandbox start-up (SPEC 9)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pmisplicense-sandbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a port in use is an error naming the port, logged, and no server is left', async () => {
    const taken = await startLicensingServer({ user: USER, password: PASSWORD });
    const logged = captureLog(join(dir, 'sandbox.log'));
    let failed: unknown;
    try {
      await runSandboxCommand({ user: USER, password: PASSWORD, port: taken.port }).catch((e: unknown) => (failed = e));
    } finally {
      logged.stop();
      await taken.close();
    }
    expect(failed).to.be.instanceOf(CommandError);
    expect((failed as Error).message).to.equal(`Port ${taken.port} on 127.0.0.1 is already in use (another sandbox or server listens there): stop it, or choose another --port (0 picks a free one).`);
    expect(logged.text()).to.match(new RegExp(`ERROR sandbox: Port ${taken.port} on 127\\.0\\.0\\.1 is already in use`));
    let direct: unknown;
    const again = await startLicensingServer({ user: USER, password: PASSWORD });
    await startLicensingServer({ user: USER, password: PASSWORD, port: again.port }).catch((e: unknown) => (direct = e));
    await again.close();
    expect(direct).to.be.instanceOf(SandboxListenError);
    expect(direct).to.include({ code: 'EADDRINUSE', port: again.port });
  });

  it('`pmisplicense sandbox` on a port in use: one clear line on stderr, exit 1, the reason in the log', async () => {
    ensureBuilt();
    const taken = await startLicensingServer({ user: USER, password: PASSWORD });
    try {
      const logFile = join(dir, 'pmisplicense.log');
      const r = await runCli(['sandbox', '--port', String(taken.port)], { PMISPLICENSE_SANDBOX_PASSWORD: PASSWORD, PMISPLICENSE_LOG: logFile, MGR_ROOT: dir });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal(`pmisplicense sandbox: Port ${taken.port} on 127.0.0.1 is already in use (another sandbox or server listens there): stop it, or choose another --port (0 picks a free one).\n`);
      expect(r.stderr).to.not.match(/internal/i);
      expect(readFileSync(logFile, 'utf8')).to.match(new RegExp(`ERROR sandbox: Port ${taken.port} .*already in use`));
    } finally {
      await taken.close();
    }
  });

  it('`pmisplicense sandbox` says on start-up that its state lives in memory only', async () => {
    ensureBuilt();
    const child = spawn(process.execPath, [EXE, 'sandbox', '--port', '0'], { env: { PATH: process.env.PATH, PMISPLICENSE_SANDBOX_PASSWORD: PASSWORD, MGR_ROOT: dir, PMISPLICENSE_LOG: join(dir, 'x.log') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      for (let i = 0; i < 500 && out.split('\n').length < 3; i++) await sleep(10);
      expect(out).to.match(/^pmisplicense sandbox listening on http:\/\/127\.0\.0\.1:\d+\/billmgr\n/);
      expect(out.split('\n')[1]).to.equal(IN_MEMORY_NOTICE);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [EXE, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (x: Buffer) => (stdout += x.toString()));
    c.stderr.on('data', (x: Buffer) => (stderr += x.toString()));
    c.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
