// Upstream fault matrix (issue 4, part 3): every licensing-server func the module uses × every
// way the licensing server can fail, each driven through the real executable by the command that
// reaches that func (SPEC 4, 6, 7). For each cell: the error document printed (type and the
// fault's own words), exit 1, what was recorded on the running operation, manual + task or left
// for BILLmanager's retry, local state consistent with the upstream; then the fault is cleared,
// the command is run again and must succeed with no second purchase.
//
// The table (MATRIX) is the specification of the expected outcome; the `it` cases are generated
// from it. Outcome classes:
//   retry    exit 1, <error type="connection">, recorded, NOT manual, no task (BILLmanager retries)
//   auth     exit 1, <error type="auth">, recorded, manual + task
//   upstream exit 1, <error type="upstream"> carrying the upstream's msg, recorded, manual + task
//   fallback SPEC 5.2 step 4: a failed pool re-use puts the license back into the pool and the
//            module carries on with a new order: exit 0, nothing recorded, exactly one purchase
import { expect } from 'chai';
import type { FaultSpec, RecordedRequest } from '../../src/sandbox/licensing-server.js';
import { pooled } from '../support/pool.js';
import { MODULE, SANDBOX_PASSWORD, SANDBOX_USER, World, type RunResult } from '../support/world.js';
import { checkInvariants, type Invariants } from './invariants.js';
import { recordCase } from './record.js';

const D0 = '2026-01-10';
/** The module's whole-request timeout in the timeout cases (PMISPLICENSE_HTTP_TIMEOUT, seconds). */
const HTTP_TIMEOUT_S = 3;
/** The sandbox answers (and applies the request) this long after it arrived: after the module gave up. */
const LATE_MS = 5_000;

type FaultName = 'http500' | 'timeout' | 'drop' | 'brokenxml' | 'auth' | 'quota' | 'http500 (applied)' | 'brokenxml (applied)';
type Outcome = 'retry' | 'auth' | 'upstream' | 'fallback';

const FAULTS: Record<FaultName, { spec: (func: string) => FaultSpec; words: RegExp; env?: NodeJS.ProcessEnv; late?: boolean }> = {
  http500: { spec: (func) => ({ kind: 'http500', func }), words: /HTTP 500/ },
  timeout: { spec: (func) => ({ kind: 'latency', func, delayMs: LATE_MS }), words: new RegExp(`no complete reply within ${HTTP_TIMEOUT_S} s`), env: { PMISPLICENSE_HTTP_TIMEOUT: String(HTTP_TIMEOUT_S) }, late: true },
  drop: { spec: (func) => ({ kind: 'drop', func }), words: /connection (dropped|reset)/ },
  brokenxml: { spec: (func) => ({ kind: 'brokenxml', func }), words: /broken reply/ },
  auth: { spec: (func) => ({ kind: 'error', func, type: 'auth', msg: 'Session expired, log in again' }), words: /refused the credentials of the processing module: Session expired, log in again/ },
  quota: { spec: (func) => ({ kind: 'error', func, type: 'quota', msg: 'Daily limit reached' }), words: /Daily limit reached/ },
  // The request is carried out, then the reply is lost: the money cases of a lost reply.
  'http500 (applied)': { spec: (func) => ({ kind: 'http500', func, apply: true }), words: /HTTP 500/ },
  'brokenxml (applied)': { spec: (func) => ({ kind: 'brokenxml', func, apply: true }), words: /broken reply/ },
};

const ERROR_TYPE: Record<Exclude<Outcome, 'fallback'>, string> = { retry: 'connection', auth: 'auth', upstream: 'upstream' };

/** What a case knows about its world after set-up. */
interface Ctx {
  item: number;
  ro: number;
  /** The license bound before the command (if any). */
  lic?: number;
  /** The pooled license the case seeded (if any). */
  pooledId?: number;
  purchasesBefore: number;
  prolongsBefore: number;
}

interface Row {
  /** The func as the matrix names it. */
  func: string;
  /** The sandbox func the fault is injected on, and which of its requests (1 = the first the command sends). */
  sandboxFunc: string;
  nth: number;
  /** Recognises the targeted request by its params (soft.edit read / change / newkey share one func). */
  target: (p: Record<string, string>) => boolean;
  /** The command and path that reach the func. */
  via: string;
  /** Short name of the path in case names (default: `via` up to its first parenthesis). */
  tag?: string;
  expect: Partial<Record<FaultName, Outcome>>;
  /** The running operation, manual and task: false for commands without an item (check_connection). */
  task?: boolean;
  /** Not a protocol command (maintain): no error document, no running operation, a summary line. */
  admin?: boolean;
  setup(w: World): Promise<Ctx>;
  run(w: World, c: Ctx, env: NodeJS.ProcessEnv): Promise<RunResult>;
  /** Invariant figures legitimately non-zero between the failure and the rerun (the rerun must clear them). */
  lag?: (f: FaultName) => Partial<Pick<Invariants, 'lostRecords' | 'inconsistencies'>>;
  /** State right after the failure; `landed` = the request was carried out although the module saw a failure. */
  afterFailure(w: World, c: Ctx, landed: boolean): void;
  afterRerun(w: World, c: Ctx): void;
  /** Purchases (new orders) the whole case ends with, and prolongations. */
  purchases: number;
  prolongs: number;
}

const STD: Row['expect'] = { http500: 'retry', timeout: 'retry', drop: 'retry', brokenxml: 'retry', auth: 'auth', quota: 'upstream' };
const ALL_FALLBACK: Row['expect'] = { http500: 'fallback', timeout: 'fallback', drop: 'fallback', brokenxml: 'fallback', auth: 'fallback', quota: 'fallback' };

const isRead = (p: Record<string, string>) => p.sok === undefined;
const isChange = (p: Record<string, string>) => p.sok === 'ok' && p.clicked_button === undefined;
const isNewKey = (p: Record<string, string>) => p.sok === 'ok' && p.clicked_button === 'newkey';
const any = () => true;

// ---- set-up helpers ----------------------------------------------------------------------------

async function ok(r: Promise<RunResult>): Promise<RunResult> {
  const res = await r;
  expect(res.code, `set-up command failed: ${res.stdout}${res.stderr}`).to.equal(0);
  return res;
}

/** A service opened by the module on the current day; returns the bound license id. */
async function opened(w: World, item: number, s: { period?: string; expiredate: string; ip?: string }): Promise<number> {
  w.addService({ id: item, ip: s.ip ?? `203.0.113.${item % 250}`, period: s.period ?? '1', expiredate: s.expiredate });
  await ok(w.command('open', { item, ro: 9000 + item }));
  return w.store((st) => st.licenseOfService(item))!.upstreamId;
}

function ctx(w: World, item: number, extra: Partial<Ctx> = {}): Ctx {
  return { item, ro: item, purchasesBefore: w.purchases(), prolongsBefore: w.sandbox.prolongs(), ...extra };
}

const localOf = (w: World, id: number) => w.store((s) => s.license(MODULE, id))!;
const boundTo = (w: World, item: number) => w.store((s) => s.licenseOfService(item));
const posts = (w: World, op: string) => w.host.sim.calls(`service.post${op}`).length;

/** A closed service no longer names a license (SPEC 5.4; the pool may give it to another service). */
function expectParamsCleared(w: World, item: number): void {
  const params = w.host.sim.service(item)!.params;
  for (const p of ['license_id', 'lickey', 'license_expiredate']) expect(params[p] ?? '', `service ${item} ${p}`).to.equal('');
}

const form = (url: string) => `<doc><processingmodule><url>${url}</url><username>${SANDBOX_USER}</username><password>${SANDBOX_PASSWORD}</password></processingmodule></doc>`;

/**
 * SPEC 5.2 step 4 for one step of a pool re-use: whatever the fault, the license goes back into the
 * pool (free.lic, auto-renewal off, suspended, free locally) and the module carries on with ONE new
 * order: exit 0, nothing recorded, one purchase; the pool is not tried again in that run.
 */
function poolReuse(func: string, nth: number, target: Row['target'], steps: string): Row {
  const sandboxFunc = func.startsWith('soft.edit') ? 'soft.edit' : func;
  return {
    func,
    sandboxFunc,
    nth,
    target,
    via: `open (pool re-use: ${steps})`,
    tag: 'open pool re-use',
    expect: ALL_FALLBACK,
    async setup(w) {
      const pooledId = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', ip: '198.51.100.7' });
      w.addService({ id: 105, ip: '203.0.113.105', expiredate: '2026-02-10' });
      return ctx(w, 105, { pooledId });
    },
    run: (w, c, env) => w.command('open', { item: c.item, ro: c.ro, env }),
    afterFailure(w, c, landed) {
      // The re-use failed, the license went back, and a new one was bought for the service.
      const lic = boundTo(w, c.item)!;
      expect(lic.upstreamId).to.not.equal(c.pooledId);
      expect(w.sandbox.license(lic.upstreamId)).to.include({ licname: 'Item #105', ip: '203.0.113.105' });
      expect(localOf(w, c.pooledId!)).to.include({ state: 'free', item: null });
      // Suspended again by the put-back; a resume that lands after it (timeout) leaves it active:
      // the module had given up on it and cannot know.
      expect(w.sandbox.license(c.pooledId!)).to.include({ licname: 'free.lic', status: func === 'soft.resume' && landed ? 2 : 3, autoprolongOn: false, deleted: false });
      const reuses = w.store((s) => s.journal(c.item)).filter((j) => j.kind === 'reuse');
      expect(reuses.map((j) => [j.upstreamId, j.outcome]), 'one re-use attempt, then a new order').to.deep.equal([[c.pooledId, 'put back into the pool']]);
      expect(w.host.sim.service(c.item)!.params.license_id).to.equal(String(lic.upstreamId));
      expect(posts(w, 'open')).to.equal(1);
      c.lic = lic.upstreamId;
    },
    afterRerun(w, c) {
      expect(boundTo(w, c.item)!.upstreamId).to.equal(c.lic);
      expect(localOf(w, c.pooledId!)).to.include({ state: 'free', item: null });
      expect(posts(w, 'open')).to.equal(2);
    },
    purchases: 1,
    prolongs: 0,
  };
}

// ---- the matrix ----------------------------------------------------------------------------------

const MATRIX: Row[] = [
  {
    func: 'soft.order.param',
    sandboxFunc: 'soft.order.param',
    nth: 1,
    target: any,
    via: 'open (new order)',
    expect: { ...STD, 'http500 (applied)': 'retry', 'brokenxml (applied)': 'retry' },
    async setup(w) {
      w.addService({ id: 101, ip: '203.0.113.101', expiredate: '2026-02-10' });
      return ctx(w, 101);
    },
    run: (w, c, env) => w.command('open', { item: c.item, ro: c.ro, env }),
    // An order taken upstream whose reply was lost is known only to the open journal entry until the rerun adopts it.
    lag: (f) => (f === 'timeout' || f.endsWith('(applied)') ? { lostRecords: 1 } : {}),
    afterFailure(w, c, landed) {
      expect(w.purchases(), 'purchases after the failure').to.equal(landed ? 1 : 0);
      expect(boundTo(w, c.item), 'nothing bound').to.equal(null);
      expect(posts(w, 'open')).to.equal(0);
    },
    afterRerun(w, c) {
      const lic = boundTo(w, c.item)!;
      expect(lic.state).to.equal('bound');
      expect(w.sandbox.license(lic.upstreamId)).to.include({ licname: 'Item #101', ip: '203.0.113.101' });
      expect(w.host.sim.service(c.item)!.params.license_id).to.equal(String(lic.upstreamId));
      expect(posts(w, 'open')).to.equal(1);
    },
    purchases: 1,
    prolongs: 0,
  },
  {
    func: 'soft.edit read',
    sandboxFunc: 'soft.edit',
    nth: 1,
    target: isRead,
    via: 'open (reading the ordered license for its key: after the purchase)',
    expect: STD,
    async setup(w) {
      w.addService({ id: 102, ip: '203.0.113.102', expiredate: '2026-02-10' });
      return ctx(w, 102);
    },
    run: (w, c, env) => w.command('open', { item: c.item, ro: c.ro, env }),
    afterFailure(w, c) {
      expect(w.purchases(), 'the order was taken').to.equal(1);
      const lic = boundTo(w, c.item)!;
      expect(lic, 'the purchase is recorded and bound').to.include({ state: 'bound', item: c.item });
      expect(w.sandbox.license(lic.upstreamId)!.licname).to.equal('Item #102');
      expect(w.host.sim.service(c.item)!.params.license_id ?? '').to.equal('');
      expect(posts(w, 'open')).to.equal(0);
      c.lic = lic.upstreamId;
    },
    afterRerun(w, c) {
      expect(boundTo(w, c.item)!.upstreamId, 'the same license, not a new one').to.equal(c.lic);
      const params = w.host.sim.service(c.item)!.params;
      expect(params.license_id).to.equal(String(c.lic));
      expect(params.lickey).to.equal(w.sandbox.license(c.lic!)!.lickey).and.to.have.length.above(8);
      expect(posts(w, 'open')).to.equal(1);
    },
    purchases: 1,
    prolongs: 0,
  },
  {
    func: 'soft.edit change',
    sandboxFunc: 'soft.edit',
    nth: 2, // read, (soft.suspend), change
    target: (p) => isChange(p) && p.licname === 'free.lic',
    via: 'close (rename free.lic, auto-renewal off)',
    expect: STD,
    async setup(w) {
      const lic = await opened(w, 103, { expiredate: '2026-02-10' });
      return ctx(w, 103, { lic });
    },
    run: (w, c, env) => w.command('close', { item: c.item, ro: c.ro, env }),
    // A rename that lands after the module gave up: upstream says free.lic while the license waits,
    // taken off the service ('releasing', bound to nobody), for the rerun: no inconsistency to see.
    afterFailure(w, c, landed) {
      // Taken off the service (compare-and-set), never half-pooled: in nobody's hands until the rerun
      // finishes the release (SPEC 5.8 point 4).
      expect(localOf(w, c.lic!)).to.include({ state: 'releasing', item: null, releasedFrom: c.item });
      // The service stopped naming it before its release began (SPEC 5.4 v3: params first).
      expect(w.host.sim.service(c.item)!.params.license_id ?? '').to.equal('');
      expect(w.sandbox.license(c.lic!)!.licname).to.equal(landed ? 'free.lic' : 'Item #103');
      expect(posts(w, 'close')).to.equal(0);
    },
    afterRerun(w, c) {
      expect(localOf(w, c.lic!)).to.include({ state: 'free', item: null });
      expect(w.sandbox.license(c.lic!)).to.include({ licname: 'free.lic', status: 3, autoprolongOn: false, deleted: false });
      expectParamsCleared(w, c.item);
      expect(posts(w, 'close')).to.equal(1);
    },
    purchases: 1,
    prolongs: 0,
  },
  {
    func: 'soft.edit change',
    sandboxFunc: 'soft.edit',
    nth: 2, // read, change
    target: (p) => isChange(p) && p.ip === '203.0.113.99',
    via: 'setparam (new IP)',
    expect: STD,
    async setup(w) {
      const lic = await opened(w, 104, { period: '12', expiredate: '2027-01-10', ip: '203.0.113.104' });
      w.setDay('2026-03-15'); // the IP-change allowance is back
      w.host.sim.updateService(104, { ip: '203.0.113.99' });
      return ctx(w, 104, { lic });
    },
    run: (w, c, env) => w.command('setparam', { item: c.item, ro: c.ro, env }),
    afterFailure(w, c, landed) {
      expect(localOf(w, c.lic!)).to.include({ state: 'bound', item: c.item, ip: '203.0.113.104' });
      expect(w.sandbox.license(c.lic!)!.ip).to.equal(landed ? '203.0.113.99' : '203.0.113.104');
      expect(posts(w, 'setparam')).to.equal(0);
    },
    afterRerun(w, c) {
      expect(boundTo(w, c.item)!.upstreamId).to.equal(c.lic);
      expect(localOf(w, c.lic!)).to.include({ ip: '203.0.113.99', ipChangeDate: '2026-03-15' });
      expect(w.sandbox.license(c.lic!)).to.include({ ip: '203.0.113.99', ipChangeDate: '2026-03-15' });
      expect(posts(w, 'setparam')).to.equal(1);
    },
    purchases: 1,
    prolongs: 0,
  },
  poolReuse('soft.edit read', 1, isRead, 'the first read of the reserved license'),
  poolReuse('soft.edit newkey', 3, isNewKey, 'read, change (licname, ip, remoteid), newkey'),
  poolReuse('soft.resume', 1, any, 'after the new key'),
  {
    func: 'service.prolong',
    sandboxFunc: 'service.prolong',
    nth: 1,
    target: any,
    via: 'prolong (the customer paid; license within the renewal lead)',
    expect: { ...STD, 'http500 (applied)': 'retry', 'brokenxml (applied)': 'retry' },
    async setup(w) {
      const lic = await opened(w, 106, { expiredate: '2026-02-10' });
      w.setDay('2026-02-07');
      w.host.sim.updateService(106, { expiredate: '2026-03-10' });
      return ctx(w, 106, { lic });
    },
    run: (w, c, env) => w.command('prolong', { item: c.item, ro: c.ro, env }),
    afterFailure(w, c, landed) {
      // Bought nothing, or (the reply was lost) bought exactly one period that the rerun records.
      expect(w.sandbox.prolongs() - c.prolongsBefore).to.equal(landed ? 1 : 0);
      expect(w.sandbox.license(c.lic!)!.expiredate).to.equal(landed ? '2026-03-10' : '2026-02-10');
      expect(localOf(w, c.lic!)).to.include({ state: 'bound', expiredate: '2026-02-10' });
      expect(posts(w, 'prolong')).to.equal(0);
    },
    afterRerun(w, c) {
      expect(w.sandbox.license(c.lic!)!.expiredate).to.equal('2026-03-10');
      expect(localOf(w, c.lic!).expiredate).to.equal('2026-03-10');
      expect(w.host.sim.service(c.item)!.params.license_expiredate).to.equal('2026-03-10');
      expect(posts(w, 'prolong')).to.equal(1);
    },
    purchases: 1,
    prolongs: 1,
  },
  {
    func: 'service.prolong',
    sandboxFunc: 'service.prolong',
    nth: 1,
    target: any,
    via: 'resume (the license expired while the service was suspended: prolonged first)',
    expect: STD,
    async setup(w) {
      const lic = await opened(w, 113, { expiredate: '2026-02-10' });
      await ok(w.command('suspend', { item: 113, ro: 9600 }));
      w.setDay('2026-02-15'); // the license expired on 2026-02-10
      w.host.sim.updateService(113, { expiredate: '2026-03-15' }); // the customer paid
      return ctx(w, 113, { lic });
    },
    run: (w, c, env) => w.command('resume', { item: c.item, ro: c.ro, env }),
    afterFailure(w, c, landed) {
      expect(w.sandbox.prolongs() - c.prolongsBefore).to.equal(landed ? 1 : 0);
      expect(w.sandbox.license(c.lic!)).to.include({ expiredate: landed ? '2026-03-15' : '2026-02-10', status: 3 });
      expect(w.requests('soft.resume'), 'not resumed before it is paid').to.have.length(0);
      expect(localOf(w, c.lic!)).to.include({ state: 'suspended', item: c.item });
      expect(posts(w, 'resume')).to.equal(0);
    },
    afterRerun(w, c) {
      expect(w.sandbox.license(c.lic!)).to.include({ expiredate: '2026-03-15', status: 2, manualSuspended: false });
      expect(localOf(w, c.lic!)).to.include({ state: 'bound', expiredate: '2026-03-15' });
      expect(posts(w, 'resume')).to.equal(1);
    },
    purchases: 1,
    prolongs: 1,
  },
  {
    func: 'soft.suspend',
    sandboxFunc: 'soft.suspend',
    nth: 1,
    target: any,
    via: 'close (first step of the release into the pool)',
    tag: 'close',
    expect: STD,
    async setup(w) {
      const lic = await opened(w, 114, { expiredate: '2026-02-10' });
      return ctx(w, 114, { lic });
    },
    run: (w, c, env) => w.command('close', { item: c.item, ro: c.ro, env }),
    afterFailure(w, c, landed) {
      // Taken off the service (compare-and-set), never half-pooled: in nobody's hands until the rerun
      // finishes the release (SPEC 5.8 point 4).
      expect(localOf(w, c.lic!)).to.include({ state: 'releasing', item: null, releasedFrom: c.item });
      // The service stopped naming it before its release began (SPEC 5.4 v3: params first).
      expect(w.host.sim.service(c.item)!.params.license_id ?? '').to.equal('');
      expect(w.sandbox.license(c.lic!)).to.include({ licname: 'Item #114', manualSuspended: landed });
      expect(posts(w, 'close')).to.equal(0);
    },
    afterRerun(w, c) {
      expect(localOf(w, c.lic!)).to.include({ state: 'free', item: null });
      expect(w.sandbox.license(c.lic!)).to.include({ licname: 'free.lic', status: 3, autoprolongOn: false, deleted: false });
      expectParamsCleared(w, c.item);
      expect(posts(w, 'close')).to.equal(1);
    },
    purchases: 1,
    prolongs: 0,
  },
  {
    func: 'soft.suspend',
    sandboxFunc: 'soft.suspend',
    nth: 1,
    target: any,
    via: 'suspend',
    expect: STD,
    async setup(w) {
      const lic = await opened(w, 107, { expiredate: '2026-02-10' });
      return ctx(w, 107, { lic });
    },
    run: (w, c, env) => w.command('suspend', { item: c.item, ro: c.ro, env }),
    afterFailure(w, c, landed) {
      expect(localOf(w, c.lic!)).to.include({ state: 'bound', item: c.item });
      expect(w.sandbox.license(c.lic!)!.manualSuspended).to.equal(landed);
      expect(posts(w, 'suspend')).to.equal(0);
    },
    afterRerun(w, c) {
      expect(localOf(w, c.lic!)).to.include({ state: 'suspended', item: c.item });
      expect(w.sandbox.license(c.lic!)).to.include({ status: 3, manualSuspended: true });
      expect(posts(w, 'suspend')).to.equal(1);
    },
    purchases: 1,
    prolongs: 0,
  },
  {
    func: 'soft.resume',
    sandboxFunc: 'soft.resume',
    nth: 1,
    target: any,
    via: 'resume',
    expect: STD,
    async setup(w) {
      const lic = await opened(w, 108, { expiredate: '2026-02-10' });
      await ok(w.command('suspend', { item: 108, ro: 9500 }));
      return ctx(w, 108, { lic });
    },
    run: (w, c, env) => w.command('resume', { item: c.item, ro: c.ro, env }),
    afterFailure(w, c, landed) {
      expect(localOf(w, c.lic!)).to.include({ state: 'suspended', item: c.item });
      expect(w.sandbox.license(c.lic!)!.manualSuspended).to.equal(!landed);
      expect(posts(w, 'resume')).to.equal(0);
    },
    afterRerun(w, c) {
      expect(localOf(w, c.lic!)).to.include({ state: 'bound', item: c.item });
      expect(w.sandbox.license(c.lic!)).to.include({ status: 2, manualSuspended: false });
      expect(posts(w, 'resume')).to.equal(1);
    },
    purchases: 1,
    prolongs: 0,
  },
  {
    func: 'soft.delete',
    sandboxFunc: 'soft.delete',
    nth: 1,
    target: any,
    via: 'close (no paid time left)',
    expect: STD,
    async setup(w) {
      const lic = await opened(w, 109, { expiredate: '2026-02-10' });
      w.setDay('2026-02-20'); // the license expired on 2026-02-10
      return ctx(w, 109, { lic });
    },
    run: (w, c, env) => w.command('close', { item: c.item, ro: c.ro, env }),
    // A delete that lands after the module gave up: the license waits, taken off the service
    // ('releasing', bound to nobody), for the rerun: no inconsistency to see.
    afterFailure(w, c, landed) {
      // Taken off the service (compare-and-set), never half-pooled: in nobody's hands until the rerun
      // finishes the release (SPEC 5.8 point 4).
      expect(localOf(w, c.lic!)).to.include({ state: 'releasing', item: null, releasedFrom: c.item });
      // The service stopped naming it before its release began (SPEC 5.4 v3: params first).
      expect(w.host.sim.service(c.item)!.params.license_id ?? '').to.equal('');
      expect(w.sandbox.license(c.lic!)!.deleted).to.equal(landed);
      expect(posts(w, 'close')).to.equal(0);
    },
    afterRerun(w, c) {
      expect(localOf(w, c.lic!)).to.include({ state: 'gone', item: null });
      expect(w.sandbox.license(c.lic!)!.deleted).to.equal(true);
      expectParamsCleared(w, c.item);
      expect(posts(w, 'close')).to.equal(1);
    },
    purchases: 1,
    prolongs: 0,
  },
  {
    func: 'soft (list)',
    sandboxFunc: 'soft',
    nth: 1,
    target: any,
    via: 'open (adopting an order whose reply was lost)',
    expect: STD,
    async setup(w) {
      w.addService({ id: 110, ip: '203.0.113.110', expiredate: '2026-02-10' });
      w.sandbox.inject({ kind: 'dropafter', func: 'soft.order.param' });
      const first = await w.command('open', { item: 110, ro: 110 });
      expect(first.code, first.stdout).to.equal(1);
      expect(w.purchases()).to.equal(1);
      return ctx(w, 110);
    },
    run: (w, c, env) => w.command('open', { item: c.item, ro: c.ro, env }),
    // The order taken by the first run stays known only to the open journal entry until adopted.
    lag: () => ({ lostRecords: 1 }),
    afterFailure(w, c) {
      expect(w.purchases()).to.equal(1);
      expect(boundTo(w, c.item)).to.equal(null);
      expect(w.store((s) => s.openJournal(c.item))).to.include({ kind: 'order' });
    },
    afterRerun(w, c) {
      const lic = boundTo(w, c.item)!;
      expect(w.sandbox.licenses().map((l) => l.id)).to.deep.equal([lic.upstreamId]);
      expect(w.host.sim.service(c.item)!.params.license_id).to.equal(String(lic.upstreamId));
      expect(w.store((s) => s.openJournal(c.item))).to.equal(null);
    },
    purchases: 1,
    prolongs: 0,
  },
  {
    func: 'soft (list)',
    sandboxFunc: 'soft',
    nth: 1,
    target: any,
    via: 'maintain (a pooled license and a bound one due for renewal)',
    expect: STD,
    admin: true,
    async setup(w) {
      const lic = await opened(w, 111, { expiredate: '2026-03-10' });
      const pooledId = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', ip: '198.51.100.8' });
      w.setDay('2026-02-07'); // the bound license (until 2026-02-10) is within the renewal lead
      return ctx(w, 111, { lic, pooledId });
    },
    run: (w, _c, env) => w.exec(['maintain'], { env }),
    afterFailure(w, c) {
      // SPEC 5.7: each license on its own: the list (needed for pooled ones) failing does not
      // stop the renewal of the bound license.
      expect(w.sandbox.prolongs() - c.prolongsBefore, 'the bound license was renewed').to.equal(1);
      expect(localOf(w, c.lic!).expiredate).to.equal('2026-03-10');
      expect(localOf(w, c.pooledId!)).to.include({ state: 'free', item: null });
    },
    afterRerun(w, c) {
      expect(localOf(w, c.lic!).expiredate).to.equal('2026-03-10');
      expect(localOf(w, c.pooledId!)).to.include({ state: 'free', item: null });
    },
    purchases: 1,
    prolongs: 1,
  },
  {
    func: 'auth',
    sandboxFunc: 'auth',
    nth: 1,
    target: any,
    via: 'check_connection',
    expect: STD,
    task: false, // no service: BILLmanager has no task type for check_connection
    async setup(w) {
      return ctx(w, 0, { ro: 112 });
    },
    run: (w, c, env) => w.command('check_connection', { ro: c.ro, env, stdin: form(w.sandbox.url) }),
    afterFailure() {},
    afterRerun() {},
    purchases: 0,
    prolongs: 0,
  },
];

// ---- driving ---------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the command with `spec` armed on the nth request of `func`. Earlier requests of the same
 * func are held by the sandbox one at a time and let go once the next fault is armed: ordering by
 * observable state, not by sleeps.
 */
async function runWithFaultOnNth(w: World, func: string, nth: number, spec: FaultSpec, run: () => Promise<RunResult>): Promise<RunResult> {
  if (nth === 1) {
    w.sandbox.inject(spec);
    return run();
  }
  w.sandbox.inject({ kind: 'hold', func, count: 1 });
  let ended = false;
  const p = run().finally(() => (ended = true));
  for (let i = 1; i < nth; i++) {
    while (w.sandbox.heldCount() < 1) {
      if (ended) {
        const r = await p;
        throw new Error(`the command ended before request #${i + 1} of ${func}: ${r.stdout}`);
      }
      await sleep(10);
    }
    w.sandbox.inject(i === nth - 1 ? spec : { kind: 'hold', func, count: 1 });
    w.sandbox.release();
  }
  return p;
}

/** Waits until the sandbox has finished every request (a late one is carried out after its delay). */
async function settled(w: World): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (w.sandbox.requests().some((r) => r.outcome === 'pending') || w.sandbox.heldCount() > 0) {
    if (Date.now() > deadline) throw new Error('the sandbox still has requests in progress');
    await sleep(20);
  }
}

function noSecrets(w: World, r: RunResult, ro: number): void {
  const seen = r.stdout + r.stderr + w.logText() + (w.host.sim.runningOperation(ro)?.errorxml ?? '');
  expect(seen).to.not.include(SANDBOX_PASSWORD);
  for (const l of w.sandbox.licenses()) if (l.lickey) expect(seen).to.not.include(l.lickey);
}

describe('reliability: upstream fault matrix', function () {
  this.timeout(600_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: D0 });
  });
  afterEach(async () => {
    await w.close();
  });

  for (const row of MATRIX) {
    for (const [fault, outcome] of Object.entries(row.expect) as Array<[FaultName, Outcome]>) {
      const name = `${row.func} [${row.tag ?? row.via.replace(/ \(.*/, '')}] × ${fault}`;
      it(`${name} → ${outcome} (${row.via})`, async () => {
        const f = FAULTS[fault];
        const c = await row.setup(w);
        const requestsBefore = w.requests(row.sandboxFunc).length;
        const r = await runWithFaultOnNth(w, row.sandboxFunc, row.nth, f.spec(row.sandboxFunc), () => row.run(w, c, f.env ?? {}));
        await settled(w);

        // The fault hit the request it was meant for.
        const hit: RecordedRequest | undefined = w.requests(row.sandboxFunc)[requestsBefore + row.nth - 1];
        expect(hit, `request #${row.nth} of ${row.sandboxFunc} was sent`).to.not.equal(undefined);
        expect(row.target(hit!.params), `request #${row.nth} of ${row.sandboxFunc} is the ${row.func}: ${JSON.stringify(hit!.params)}`).to.equal(true);
        expect(hit!.fault).to.equal(f.spec(row.sandboxFunc).kind);
        const landed = hit!.applied;
        expect(landed, 'carried out although the module saw a failure').to.equal(Boolean(f.late) || fault.endsWith('(applied)'));

        // What the module printed and told BILLmanager.
        const op = w.host.sim.runningOperation(c.ro);
        const tasks = w.host.sim.tasks();
        let summary: string;
        if (outcome === 'fallback') {
          expect(r.code, r.stdout).to.equal(0);
          expect(op?.errorxml ?? null, 'nothing recorded on the running operation').to.equal(null);
          expect(tasks).to.have.length(0);
          expect(w.logText()).to.match(/putting it back into the pool/).and.to.match(f.words);
          summary = `exit 0, re-use failed (${fault}), license put back into the pool, new order`;
        } else if (row.admin) {
          expect(r.code, r.stdout).to.equal(1);
          expect(r.stdout).to.match(/maintain: 1 license\(s\) handled, 1 failed/);
          expect(w.logText()).to.match(f.words);
          expect(w.host.sim.calls('runningoperation.edit')).to.have.length(0);
          expect(tasks).to.have.length(0);
          summary = `exit 1 (1 handled, 1 failed), ${ERROR_TYPE[outcome]} failure logged, bound license still renewed`;
        } else {
          const type = ERROR_TYPE[outcome];
          const manual = outcome !== 'retry';
          expect(r.code, r.stdout).to.equal(1);
          expect(r.stdout).to.match(new RegExp(`^<doc><error type="${type}"`));
          expect(r.stdout, 'the error names what failed').to.match(f.words);
          expect(op, 'recorded on the running operation').to.not.equal(undefined);
          expect(op!.errorxml).to.match(new RegExp(`<error type="${type}"`)).and.to.match(f.words);
          expect(op!.manual, 'manual').to.equal(manual);
          const wantTasks = manual && row.task !== false ? [[c.item, c.ro]] : [];
          expect(tasks.map((t) => [t.item, t.runningoperation])).to.deep.equal(wantTasks);
          summary = `exit 1, type=${type}, ${manual ? `manual${wantTasks.length ? ' + task' : ', no task (no service)'}` : 'retry'}`;
        }
        noSecrets(w, r, c.ro);
        row.afterFailure(w, c, landed);
        const mid = checkInvariants(w);
        const lag = row.lag?.(fault) ?? {};
        expect({ doublePurchases: mid.doublePurchases, doubleBindings: mid.doubleBindings, lostRecords: mid.lostRecords, inconsistencies: mid.inconsistencies }, mid.problems.join('; ')).to.deep.equal({
          doublePurchases: 0,
          doubleBindings: 0,
          lostRecords: lag.lostRecords ?? 0,
          inconsistencies: lag.inconsistencies ?? 0,
        });

        // Clear the fault, run again: success, nothing bought twice.
        w.sandbox.clearFaults();
        const again = await row.run(w, c, {});
        await settled(w);
        expect(again.code, again.stdout).to.equal(0);
        if (row.func === 'auth') expect(again.stdout.trim()).to.equal('<doc><ok/></doc>');
        if (row.admin) expect(again.stdout).to.match(/maintain: 2 license\(s\) handled, 0 failed/);
        row.afterRerun(w, c);
        expect(w.purchases(), 'purchases').to.equal(row.purchases);
        expect(w.sandbox.prolongs(), 'prolongations').to.equal(row.prolongs);
        noSecrets(w, again, c.ro);
        const end = checkInvariants(w);
        expect(end.problems).to.deep.equal([]);
        expect(end).to.include({ doublePurchases: 0, doubleBindings: 0, lostRecords: 0, inconsistencies: 0 });

        recordCase({
          suite: 'faults',
          name,
          ok: true,
          doublePurchases: end.doublePurchases,
          doubleBindings: end.doubleBindings,
          lostRecords: end.lostRecords,
          inconsistencies: end.inconsistencies,
          counts: { purchases: w.purchases(), prolongs: w.sandbox.prolongs(), landedLate: landed ? 1 : 0 },
          outcome: `${summary}; rerun exit 0, ${row.purchases} purchase(s), ${row.prolongs} prolongation(s)`,
        });
      });
    }
  }
});

// SPEC 5.2 step 4 under an outage that lasts (every request of the func fails, not just one): one
// re-use attempt, the license back into the pool, then a new order. Trying the pool again would
// spend the monthly key change of every pooled license (or retry the same one up to 10 times, each
// request waiting out its timeout) and buy anyway.
describe('reliability: pool re-use under a lasting fault', function () {
  this.timeout(600_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: D0 });
  });
  afterEach(async () => {
    await w.close();
  });

  it('soft.resume [open pool re-use] × http500 on every request: one pooled license tried, the other untouched, one purchase', async () => {
    const first = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', ip: '198.51.100.7' });
    const second = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-07-01', ip: '198.51.100.8' });
    w.addService({ id: 120, ip: '203.0.113.120', expiredate: '2026-02-10' });
    w.sandbox.inject({ kind: 'http500', func: 'soft.resume', count: -1 });
    const r = await w.command('open', { item: 120, ro: 120 });
    await settled(w);
    expect(r.code, r.stdout).to.equal(0);
    expect(w.host.sim.runningOperation(120)?.errorxml ?? null).to.equal(null);
    expect(w.requests('soft.edit').filter((q) => isNewKey(q.params)).map((q) => q.params.elid), 'keys changed').to.deep.equal([String(first)]);
    expect(w.store((s) => s.journal(120)).filter((j) => j.kind === 'reuse').map((j) => j.upstreamId)).to.deep.equal([first]);
    // The license that expires later was never touched: still re-usable today.
    expect(localOf(w, second)).to.include({ state: 'free', ip: '198.51.100.8', ipChangeDate: '2025-06-01', keyChangeDate: '2025-06-01' });
    expect(w.sandbox.license(second)).to.include({ licname: 'free.lic', ip: '198.51.100.8', keyChangeDate: '2025-06-01', status: 3 });
    expect(w.purchases()).to.equal(1);
    const bound = boundTo(w, 120)!;
    expect([first, second]).to.not.include(bound.upstreamId);
    const inv = checkInvariants(w);
    expect(inv.problems).to.deep.equal([]);
    recordCase({
      suite: 'faults',
      name: 'soft.resume [open pool re-use] × http500 (every request)',
      ok: true,
      doublePurchases: inv.doublePurchases,
      doubleBindings: inv.doubleBindings,
      lostRecords: inv.lostRecords,
      inconsistencies: inv.inconsistencies,
      counts: { purchases: 1, reuseAttempts: 1, pooledLicensesTouched: 1 },
      outcome: 'exit 0; one re-use attempt, put back; the other pooled license untouched; one new order',
    });
  });

  it('soft.edit [open pool re-use] × drop on every request: the reserved license is tried once, not ten times', async () => {
    const id = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', ip: '198.51.100.7' });
    w.addService({ id: 121, ip: '203.0.113.121', expiredate: '2026-02-10' });
    w.sandbox.inject({ kind: 'drop', func: 'soft.edit', count: -1 });
    const before = w.requests('soft.edit').length;
    const r = await w.command('open', { item: 121, ro: 121 });
    await settled(w);
    // The re-use read fails before anything was changed upstream, so the license is free again
    // locally with nothing to undo (no put-back requests); the new order is taken, and the read of
    // the new license fails: a retryable error with the purchase recorded.
    expect(r.code, r.stdout).to.equal(1);
    expect(r.stdout).to.match(/^<doc><error type="connection"/);
    expect(w.host.sim.runningOperation(121)).to.include({ manual: false });
    expect(w.store((s) => s.journal(121)).filter((j) => j.kind === 'reuse'), 're-use attempts').to.have.length(1);
    expect(w.requests('soft.edit').length - before, 'soft.edit requests: re-use read, new license read').to.equal(2);
    expect(w.requests('soft.suspend'), 'nothing to suspend again').to.have.length(0);
    expect(w.purchases()).to.equal(1);
    expect(localOf(w, id)).to.include({ state: 'free', item: null });
    const mid = checkInvariants(w);
    expect(mid.problems).to.deep.equal([]);

    w.sandbox.clearFaults();
    const again = await w.command('open', { item: 121, ro: 121 });
    expect(again.code, again.stdout).to.equal(0);
    expect(w.purchases()).to.equal(1);
    expect(boundTo(w, 121)!.upstreamId).to.not.equal(id);
    const end = checkInvariants(w);
    expect(end.problems).to.deep.equal([]);
    recordCase({
      suite: 'faults',
      name: 'soft.edit [open pool re-use] × drop (every request)',
      ok: true,
      doublePurchases: end.doublePurchases,
      doubleBindings: end.doubleBindings,
      lostRecords: end.lostRecords,
      inconsistencies: end.inconsistencies,
      counts: { purchases: 1, reuseAttempts: 1, softEditRequests: 2 },
      outcome: 'exit 1, type=connection, retry (one re-use attempt, free again with nothing changed upstream, new order recorded); rerun exit 0, 1 purchase',
    });
  });
});
