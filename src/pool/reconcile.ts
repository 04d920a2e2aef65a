// `reconcile` (SPEC 3): the upstream account, the module's state and the host's services side by
// side, one finding per discrepancy, each with the paid days it concerns. Shared by the CLI and
// the panel's Reconcile page. Reads are whole and few: the upstream list once per module (every
// page), the host's `soft` list once, and the services' license_id params and options with one
// query each on BILLmanager's database (or, without one, soft.edit of the services named only).
// `applyFinding` re-checks a finding under the service's lock, from fresh reads, and changes
// licenses only through the store's compare-and-set transitions (SPEC 5.8).
import { sameIp } from '../ip.js';
import { keyWaitSeconds, orderSettleSeconds } from '../config.js';
import { type Day } from '../dates.js';
import { BadInputError, LicenseMissingError } from '../errors.js';
import { isOwnModuleKind, ServiceNotFoundError } from '../host/host.js';
import type { ServiceListRow } from '../host/types.js';
import { log } from '../log.js';
import { LicensingClient } from '../upstream/client.js';
import { STATUS, type LicensingApi, type UpstreamLicense } from '../upstream/types.js';
import type { AdminContext } from './adopt.js';
import { FREE_LICNAME, Lifecycle, leftReservations, paidTime } from './lifecycle.js';
import { underServiceLock } from './service-lock.js';
import type { ManagedLicense } from './store.js';

export type FindingKind = 'leak' | 'lost' | 'unmanaged' | 'autoprolong' | 'drift' | 'params' | 'unbound' | 'moved';

export interface Finding {
  kind: FindingKind;
  module: number;
  license: number | null;
  item: number | null;
  /** Paid days left, today included; 0 once expired; null for lifetime or unknown. */
  paidDaysLeft: number | null;
  detail: string;
  fix: string;
}

/** Findings that are faults (exit 1 while one remains); the others are information. */
export const FAULT_KINDS: readonly FindingKind[] = ['leak', 'lost', 'autoprolong', 'params', 'unbound'];

export function paidDaysLeft(period: number | null, expiredate: Day | null, today: Day): number | null {
  if (period === 0 || period === null || expiredate === null) return null;
  if (expiredate < today) return 0;
  return Math.round((Date.parse(`${expiredate}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000) + 1;
}

const STATUS_WORD: Record<number, string> = { 1: 'ordered', 2: 'active', 3: 'suspended', 4: 'closed', 5: 'being processed' };
const ITEM_NAME = /^Item #(\d+)$/;

/** What the host says of the services: the `soft` list, and each one's license_id param. */
interface HostView {
  services: Map<number, ServiceListRow>;
  /** item → license id it names (non-empty license_id params only). */
  licenseIds: Map<number, number>;
}

/** The host's services (one `soft` list read) and, from BILLmanager's database when paramlist
 *  names one, every service's license_id (one query). Without a database: null, and the caller
 *  reads the services the state or the upstream names, one by one. */
async function readHost(ctx: AdminContext): Promise<{ services: Map<number, ServiceListRow>; licenseIds: Map<number, number> | null }> {
  const [list, database] = await Promise.all([ctx.host.listServices(), ctx.host.readDatabaseSettings()]);
  const services = new Map(list.map((s) => [s.id, s]));
  const { openOptionsReader } = await import('../host/options.js');
  const reader = await openOptionsReader(database);
  if (!reader) return { services, licenseIds: null };
  const licenseIds = new Map<number, number>();
  try {
    for (const [item, raw] of await reader.licenseIdParams()) {
      const v = raw.trim();
      if (/^\d+$/.test(v)) licenseIds.set(item, Number(v));
    }
  } finally {
    await reader.close();
  }
  return { services, licenseIds };
}

async function licenseIdsOfNamed(ctx: AdminContext, services: Map<number, ServiceListRow>, named: Set<number>): Promise<Map<number, number>> {
  const licenseIds = new Map<number, number>();
  for (const item of named) {
    if (!services.has(item)) continue;
    try {
      const s = await ctx.host.readService(item);
      if (s.licenseId !== null) licenseIds.set(item, s.licenseId);
    } catch (e) {
      if (!(e instanceof ServiceNotFoundError)) throw e;
    }
  }
  return licenseIds;
}

function describeService(view: HostView, item: number): string {
  const s = view.services.get(item);
  return s ? `service ${item} (${STATUS_WORD[s.status] ?? `status ${s.status}`})` : `service ${item} (unknown to BILLmanager)`;
}

async function upstreamOf(ctx: AdminContext, module: number): Promise<LicensingApi> {
  const settings = await ctx.host.readModule(module);
  // Another kind's credentials are never sent anywhere (SPEC 3).
  if (!isOwnModuleKind(settings.kind)) throw new BadInputError('module', String(module), `processing module ${module} is a "${settings.kind}" module, not pmisplicense: reconcile does not read its account`);
  return new LicensingClient(settings);
}

/**
 * The modules reconcile covers without `--module` (SPEC 3): every processing module of the host
 * whose kind is this module's (the `processing` list), and the modules the state knows. A module
 * of another kind is left out (its credentials go nowhere); one the state knows that the host no
 * longer has is kept, so that its licenses are still reported (reading it then fails, saying so).
 */
async function modulesToCover(ctx: AdminContext): Promise<number[]> {
  const rows = await ctx.host.listProcessingModules();
  const ids = new Set<number>(ctx.store.modules());
  for (const r of rows) if (isOwnModuleKind(r.kind)) ids.add(r.id);
  for (const r of rows) {
    if (isOwnModuleKind(r.kind) || !ids.delete(r.id)) continue;
    log.warn(`reconcile: processing module ${r.id} is now a "${r.kind}" module; its licenses in the state are not checked (its credentials go nowhere)`);
  }
  return [...ids].sort((a, b) => a - b);
}

/** Every discrepancy between the three views, for one module or every pmisplicense module of the host. */
export async function findDiscrepancies(ctx: AdminContext, module: number | null): Promise<Finding[]> {
  const modules = module !== null ? [module] : await modulesToCover(ctx);
  // The licensing server and the host are asked first and read side by side; the state is read
  // while they answer. One snapshot of it for the findings: applyFinding reads each license anew
  // before acting.
  const remote = Promise.all([Promise.all(modules.map(async (m) => (await upstreamOf(ctx, m)).list())), readHost(ctx)]);
  let state: ManagedLicense[];
  let known: Set<number>;
  try {
    state = ctx.store.licenses(module);
    known = ctx.store.managedUpstreamIds();
  } catch (e) {
    remote.catch(() => {}); // the state's error is the one to report
    throw e;
  }
  const [lists, host] = await remote;
  const accounts = new Map(modules.map((m, i) => [m, lists[i]!]));
  let licenseIds = host.licenseIds;
  if (!licenseIds) {
    const named = new Set<number>();
    for (const l of state) if (l.item !== null) named.add(l.item);
    for (const list of lists) for (const u of list) {
      const m = ITEM_NAME.exec(u.licname);
      if (m) named.add(Number(m[1]));
    }
    licenseIds = await licenseIdsOfNamed(ctx, host.services, named);
  }
  const view: HostView = { services: host.services, licenseIds };
  const findings: Finding[] = [];
  for (const m of modules) findings.push(...moduleFindings(ctx, m, state.filter((l) => l.module === m), accounts.get(m)!, view, known));
  findings.push(...paramFindings(ctx, modules, state, view));
  const unbound = await unboundFindings(ctx, modules, accounts, view, known);
  // An unmanaged license that is one service's only candidate is bound by --apply, not adopted.
  const bindsTo = new Map(unbound.filter((f) => f.license !== null).map((f) => [`${f.module}:${f.license}`, f.item]));
  for (const f of findings) {
    const item = f.kind === 'unmanaged' ? bindsTo.get(`${f.module}:${f.license}`) : undefined;
    if (item !== undefined) f.fix = `none here: it is the one license that fits live service ${item} (see unbound): reconcile --apply binds it to that service as it is`;
  }
  findings.push(...unbound);
  return findings;
}

/**
 * SPEC 3 `unbound` (5.9): the live services of the modules (status 2 or 3) with no license bound in
 * any module, each with the account licenses that could be its own. A service whose panel is
 * `nopanel` needs none. The panels are read in one go (panelsOf) for these services only.
 */
async function unboundFindings(ctx: AdminContext, modules: number[], accounts: Map<number, UpstreamLicense[]>, view: HostView, known: Set<number>): Promise<Finding[]> {
  const { candidatesFor, describeCandidates, isLiveStatus, panelsOf } = await import('./migrate.js');
  const unbound = [...view.services.values()].filter(
    (s) => s.processingmodule !== null && modules.includes(s.processingmodule) && isLiveStatus(s.status) && !ctx.store.licenseOfService(s.id) && ctx.store.releasingFrom(s.id).length === 0,
  );
  if (unbound.length === 0) return [];
  const panels = await panelsOf(ctx.host, unbound.map((s) => s.id));
  const out: Finding[] = [];
  for (const s of unbound) {
    const m = s.processingmodule!;
    const p = panels.get(s.id)!;
    const base = { kind: 'unbound' as const, module: m, item: s.id };
    const live = `${describeService(view, s.id)} has no license bound`;
    if (p.panel === 'nopanel') continue;
    if (p.panel === null) {
      out.push({ ...base, license: null, paidDaysLeft: null, detail: `${live}, and its panel cannot be determined: ${p.error}`, fix: 'none here: configure the panel (pmisplicense diagnose --item shows why), then run reconcile again' });
      continue;
    }
    const cands = candidatesFor(s, p.panel, accounts.get(m)!, known);
    if (cands.length === 1) {
      const c = cands[0]!;
      out.push({ ...base, license: c.id, paidDaysLeft: paidDaysLeft(c.period, c.expiredate, ctx.today), detail: `${live}; one account license could be its own: ${describeCandidates(cands)} (IP ${s.ip}, tariff ${p.panel})`, fix: `bind license ${c.id} to service ${s.id} as it is (key, IP and period kept), renamed "Item #${s.id}"` });
    } else if (cands.length === 0) {
      out.push({ ...base, license: null, paidDaysLeft: null, detail: `${live}, and the account has no unmanaged active or suspended license with IP ${s.ip || '(none)'} and tariff ${p.panel}`, fix: 'none here: the service needs a license (order one at the licensing server and run reconcile --apply, or re-run its open)' });
    } else {
      out.push({ ...base, license: null, paidDaysLeft: null, detail: `${live}; ${cands.length} account licenses could be its own: ${describeCandidates(cands)} (IP ${s.ip}, tariff ${p.panel})`, fix: 'none here: ambiguous; delete or rename (at the licensing server) the licenses that are not this service\'s, then run reconcile --apply' });
    }
  }
  return out;
}

function moduleFindings(ctx: AdminContext, module: number, state: ManagedLicense[], account: UpstreamLicense[], view: HostView, known: Set<number>): Finding[] {
  const out: Finding[] = [];
  const listed = new Map(account.map((u) => [u.id, u]));
  const today = ctx.today;
  const days = (l: { period: number | null; expiredate: Day | null }) => paidDaysLeft(l.period, l.expiredate, today);
  const reserved = leftReservations(ctx.store, module);
  for (const l of state) {
    if (l.state === 'gone') continue;
    const u = listed.get(l.upstreamId);
    const base = { module, license: l.upstreamId, item: l.item ?? l.releasedFrom };
    if (!u || u.status === STATUS.deleted) {
      out.push({ ...base, kind: 'lost', paidDaysLeft: days(l), detail: `the module holds license ${l.upstreamId} as ${l.state}${l.item !== null ? ` for service ${l.item}` : ''}, but the licensing server no longer has it`, fix: 'mark it gone in the state' });
      continue;
    }
    const paid = days({ period: u.period ?? l.period, expiredate: u.expiredate ?? l.expiredate });
    if (l.state === 'releasing') {
      out.push({ ...base, kind: 'leak', paidDaysLeft: paid, detail: `license ${l.upstreamId} was taken off service ${l.releasedFrom} and its release was not finished: it is neither in use nor in the pool`, fix: 'finish the release: into the pool, or deleted when no paid time is left' });
      continue;
    }
    const reservation = reserved.get(l.upstreamId);
    if (reservation && reservation.item === l.item) {
      // Issue 17: shown until the open's retry finishes the re-use or the license is returned.
      out.push({ ...base, kind: 'leak', paidDaysLeft: paid, detail: `license ${l.upstreamId} is reserved for ${describeService(view, l.item!)} by a pool re-use that did not finish (started ${reservation.startedAt}; its process stopped): neither serving the service nor in the pool`, fix: "return it to the pool (free.lic, auto-renewal off, suspended), unless the open's retry finishes the re-use first" });
      continue;
    }
    if (l.state === 'bound' || l.state === 'suspended') {
      const s = view.services.get(l.item!);
      if (!s || s.status === 4) {
        out.push({ ...base, kind: 'leak', paidDaysLeft: paid, detail: `license ${l.upstreamId} is bound to ${describeService(view, l.item!)}`, fix: 'release it: into the pool, or deleted when no paid time is left' });
        continue;
      }
      if (s.processingmodule !== null && s.processingmodule !== module) {
        // SPEC 5.9: the license stays with the module (account) that bought it.
        out.push({ ...base, kind: 'moved', paidDaysLeft: paid, detail: `service ${l.item} now belongs to processing module ${s.processingmodule}; its license ${l.upstreamId} stays with module ${module}, whose account bought it`, fix: 'none: every call about the license goes through module ' + module + ' (its close releases it there)' });
        continue;
      }
      const drift: string[] = [];
      if (!sameIp(u.ip, l.ip)) drift.push(`IP: upstream ${u.ip}, state ${l.ip}`);
      if (s.ip && !sameIp(s.ip, u.ip)) drift.push(`IP: service ${s.ip}, upstream ${u.ip}`);
      if (u.pricelist !== l.pricelist) drift.push(`tariff: upstream ${u.pricelist}, state ${l.pricelist}`);
      const expected = l.state === 'suspended' ? STATUS.suspended : STATUS.active;
      if (u.status !== expected) drift.push(`status: upstream ${STATUS_WORD[u.status] ?? u.status}, state ${l.state}`);
      if (drift.length) out.push({ ...base, kind: 'drift', paidDaysLeft: paid, detail: `license ${l.upstreamId} of service ${l.item}: ${drift.join('; ')}`, fix: 'none here: sync_item refreshes the state, setparam moves the license' });
      continue;
    }
    if (l.state === 'free' && u.autoprolong) {
      out.push({ ...base, kind: 'autoprolong', paidDaysLeft: paid, detail: `pooled license ${l.upstreamId} has auto-renewal on at the licensing server: it would be paid for with nobody using it`, fix: 'turn auto-renewal off' });
    }
  }
  for (const u of account) {
    if (u.status === STATUS.deleted || known.has(u.id)) continue;
    const m = ITEM_NAME.exec(u.licname);
    const who = u.licname === FREE_LICNAME
      ? `named ${FREE_LICNAME}: adoptable`
      : m
        ? `named "${u.licname}": ${describeService(view, Number(m[1]))}${!view.services.has(Number(m[1])) || view.services.get(Number(m[1]))!.status === 4 ? ', adoptable' : ', in use'}`
        : `named "${u.licname}": not a name this module gives`;
    out.push({ kind: 'unmanaged', module, license: u.id, item: m ? Number(m[1]) : null, paidDaysLeft: days(u), detail: `account license ${u.id} (tariff ${u.pricelist}) is not managed by the module, ${who}`, fix: 'none here: pmisplicense pool adopt takes it into the pool' });
  }
  return out;
}

function paramFindings(ctx: AdminContext, modules: number[], state: ManagedLicense[], view: HostView): Finding[] {
  const out: Finding[] = [];
  const boundTo = new Map<number, ManagedLicense>();
  const byKey = new Map<string, ManagedLicense>();
  for (const l of state) {
    if (l.item !== null) boundTo.set(l.item, l);
    byKey.set(`${l.module}:${l.upstreamId}`, l);
  }
  for (const [item, lid] of view.licenseIds) {
    const s = view.services.get(item);
    if (!s || s.processingmodule === null || !modules.includes(s.processingmodule)) continue;
    const bound = boundTo.get(item);
    if (bound && bound.upstreamId === lid) continue;
    const held = byKey.get(`${s.processingmodule}:${lid}`);
    const where = !held
      ? 'a license the module does not hold'
      : held.state === 'bound' || held.state === 'suspended'
        ? `bound to service ${held.item}`
        : held.state === 'free'
          ? 'in the pool'
          : held.state === 'releasing'
            ? 'being released'
            : 'gone';
    out.push({ kind: 'params', module: s.processingmodule, license: lid, item, paidDaysLeft: held ? paidDaysLeft(held.period, held.expiredate, ctx.today) : null, detail: `${describeService(view, item)} names license ${lid} in license_id, which is ${where}`, fix: "clear the service's license_id, lickey and license_expiredate" });
  }
  return out;
}

function lifecycleFor(ctx: AdminContext, module: number, upstream: LicensingApi): Lifecycle {
  return new Lifecycle({ store: ctx.store, upstream, host: ctx.host, module, today: ctx.today, keyWaitMs: keyWaitSeconds() * 1000, orderSettleMs: orderSettleSeconds() * 1000 });
}

async function underLock<T>(ctx: AdminContext, item: number | null, fn: () => Promise<T>): Promise<T> {
  return item === null ? fn() : underServiceLock(ctx.store, item, 'reconcile', fn);
}

async function serviceIfKnown(ctx: AdminContext, item: number) {
  try {
    return await ctx.host.readService(item);
  } catch (e) {
    if (e instanceof ServiceNotFoundError) return null;
    throw e;
  }
}

/** Whether the host shows the service closed (4) or does not know it, read now. */
async function serviceClosed(ctx: AdminContext, item: number): Promise<boolean> {
  try {
    return (await ctx.host.readService(item)).status === 4;
  } catch (e) {
    if (e instanceof ServiceNotFoundError) return true;
    throw e;
  }
}

/** Applies one finding's fix if it still holds, read anew under the service's lock. */
export async function applyFinding(ctx: AdminContext, f: Finding): Promise<{ applied: boolean; message: string }> {
  const no = (message: string) => ({ applied: false, message });
  if (!FAULT_KINDS.includes(f.kind)) return no(`${f.kind} findings are information: nothing to apply`);
  // Several candidates or none: nothing is bound; the finding's detail says which.
  if (f.kind === 'unbound' && f.license === null) return no(f.detail);
  if (f.license === null) return no('the finding names no license');
  const lid = f.license;
  const upstream = await upstreamOf(ctx, f.module);
  const lifecycle = lifecycleFor(ctx, f.module, upstream);
  const done = (message: string) => {
    log.info(`reconcile: ${f.kind} license ${lid}${f.item !== null ? ` service ${f.item}` : ''}: ${message}`);
    return { applied: true, message };
  };
  return underLock(ctx, f.item, async () => {
    const cur: ManagedLicense | null = ctx.store.license(f.module, lid);
    switch (f.kind) {
      case 'leak': {
        if (!cur) return no('the license is no longer in the state');
        if (cur.state === 'releasing') {
          await lifecycle.finishReleasesOf(cur.releasedFrom!, (i) => serviceIfKnown(ctx, i));
          return done(`finished the release from service ${cur.releasedFrom}`);
        }
        const item = cur.item;
        if ((cur.state !== 'bound' && cur.state !== 'suspended') || item === null || item !== f.item) return no(`the license is now ${cur.state}${item !== null ? ` for service ${item}` : ''}`);
        if (await lifecycle.returnLeftReservation(item, lid, (i) => serviceIfKnown(ctx, i))) return done(`returned to the pool: its re-use for service ${item} did not finish`);
        if (!(await serviceClosed(ctx, item))) return no(`service ${item} is live again`);
        // The service stops naming it before it becomes free (SPEC 5.4 v3).
        await clearParamsIfNamed(ctx, item, lid);
        await lifecycle.release(item, cur);
        const after = ctx.store.license(f.module, lid);
        return done(`released from service ${item}: ${after?.state === 'free' ? 'now in the pool' : (after?.state ?? 'gone')}`);
      }
      case 'lost': {
        if (!cur || cur.state === 'gone') return no('the license is already gone in the state');
        let gone = false;
        try {
          gone = (await upstream.get(lid)).status === STATUS.deleted;
        } catch (e) {
          if (!(e instanceof LicenseMissingError)) throw e;
          gone = true;
        }
        if (!gone) return no('the licensing server has the license after all');
        // Its service (if it had one) stops naming a license that no longer exists: first, so that a
        // run cut short in between leaves it to the next one.
        if (cur.item !== null) await clearParamsIfNamed(ctx, cur.item, lid);
        if (!ctx.store.markGone(cur)) return no('another process changed the license meanwhile');
        const paid = paidTime(cur.period, cur.expiredate, ctx.today) === 'yes';
        if (paid) log.error(`reconcile: license ${lid} is lost upstream with paid time left (until ${cur.period === 0 ? 'lifetime' : cur.expiredate})`);
        return done('marked gone in the state');
      }
      case 'autoprolong': {
        if (!cur || cur.state !== 'free') return no(`the license is ${cur ? cur.state : 'no longer in the state'}`);
        const u = await upstream.get(lid);
        if (!u.autoprolong) return no('auto-renewal is already off');
        await upstream.edit(lid, { autoprolong: false });
        return done('auto-renewal turned off');
      }
      case 'unbound': {
        if (f.item === null) return no('the finding names no service');
        const { bindExisting, isLiveStatus, panelOf } = await import('./migrate.js');
        const s = await serviceIfKnown(ctx, f.item);
        if (!s) return no(`service ${f.item} is unknown to BILLmanager`);
        if (!isLiveStatus(s.status) || s.processingmodule !== f.module) return no(`service ${f.item} is no longer a live service of module ${f.module}`);
        if (ctx.store.licenseOfService(f.item)) return no(`service ${f.item} has a license bound now`);
        const panel = await panelOf(ctx.host, s);
        let bound;
        try {
          // bindExisting reads the license anew (with its key) and checks it still fits.
          bound = await bindExisting({ store: ctx.store, upstream, host: ctx.host, module: f.module, today: ctx.today }, s, lid, panel);
        } catch (e) {
          if (e instanceof LicenseMissingError) return no(`license ${lid} no longer exists upstream`);
          throw e;
        }
        if (!bound) return no(`license ${lid} no longer fits service ${f.item} (taken by another service, or its IP, tariff or status changed)`);
        return done(`bound to service ${f.item} as it is (key, IP and period kept), renamed "Item #${f.item}"; nothing bought`);
      }
      case 'params': {
        if (f.item === null) return no('the finding names no service');
        const s = await serviceIfKnown(ctx, f.item);
        if (!s) return no(`service ${f.item} is unknown to BILLmanager`);
        if (s.licenseId !== lid) return no(`service ${f.item} no longer names license ${lid}`);
        if (ctx.store.licenseOfService(f.item)?.upstreamId === lid) return no(`license ${lid} is bound to service ${f.item} after all`);
        await clearParams(ctx, f.item, s.lickey !== '', s.licenseExpiredate !== null);
        return done(`cleared the license params of service ${f.item}`);
      }
      default:
        return no('nothing to apply');
    }
  });
}

async function clearParams(ctx: AdminContext, item: number, hasKey: boolean, hasExpiry: boolean): Promise<void> {
  await ctx.host.saveParam(item, 'license_id', '');
  if (hasKey) await ctx.host.saveSecretParam(item, 'lickey', ''); // lickey only ever through -e
  if (hasExpiry) await ctx.host.saveParam(item, 'license_expiredate', '');
}

/** Clears the service's license params when they name this license (an unknown service: nothing):
 *  a released leak's service, or a live one whose license `pool adopt --force` takes, must not go on naming it. */
export async function clearParamsIfNamed(ctx: AdminContext, item: number, lid: number): Promise<void> {
  try {
    const s = await ctx.host.readService(item);
    if (s.licenseId === lid) await clearParams(ctx, item, s.lickey !== '', s.licenseExpiredate !== null);
  } catch (e) {
    if (!(e instanceof ServiceNotFoundError)) throw e;
  }
}
