// The license lifecycle (SPEC 5): binding a license to a service (from the pool or a new order),
// keeping it renewed, suspending, resuming, changing it, and releasing it into the pool.
//
// Money rules this file exists to keep:
// - one service never pays twice: a new order is journaled before it is sent, and a rerun after a
//   crash or a lost reply adopts the order it finds upstream instead of buying again;
// - one license never serves two services: pool reservation is one BEGIN IMMEDIATE transaction
//   and SQLite's unique index on the bound service backs it;
// - nothing is bought ahead of need: renewal follows the 5-day lead rule (renewal.ts).
// Upstream calls never happen inside a transaction; every step is safe to repeat.
import { addMonths, dayOf, type Day } from '../dates.js';
import { BadInputError, IpChangeTooSoonError, LicenseMissingError, ModuleError, NoIpYetError, OrderInDoubtError, TransportError } from '../errors.js';
import type { Service } from '../host/types.js';
import { isServerIp } from '../ip.js';
import { log } from '../log.js';
import type { LicensingApi, UpstreamLicense } from '../upstream/types.js';
import { STATUS } from '../upstream/types.js';
import { licensePeriod, parseServicePeriod } from './periods.js';
import { needsRenewal } from './renewal.js';
import type { JournalEntry, LicenseStore, ManagedLicense } from './store.js';

export const FREE_LICNAME = 'free.lic';

/** What the lifecycle asks of the host beyond reading the service. */
export interface ServiceParamWriter {
  saveParam(item: number, name: string, value: string): Promise<void>;
  saveSecretParam(item: number, name: string, value: string): Promise<void>;
}

export interface LifecycleDeps {
  store: LicenseStore;
  upstream: LicensingApi;
  host: ServiceParamWriter;
  module: number;
  today: Day;
  /** Total wait for a freshly ordered license's key (SPEC 5.2: at most 60 s). */
  keyWaitMs: number;
  /** How long an order without a reply may still appear upstream (config.orderSettleSeconds). */
  orderSettleMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/** What a service needs: validated before anything is bought or changed. */
interface Need {
  ip: string;
  pricelist: string;
  period: number;
}

export function licnameOf(item: number): string {
  return `Item #${item}`;
}

export function monthPassed(lastChange: Day | null, today: Day): boolean {
  return lastChange === null || addMonths(lastChange, 1) <= today;
}

export function hasPaidTime(period: number, expiredate: Day | null, today: Day): boolean {
  return period === 0 || (expiredate !== null && expiredate >= today);
}

/** Eligible for re-use by what the module knows locally (the upstream is checked after). */
export function eligibleFromPool(l: ManagedLicense, today: Day): boolean {
  return hasPaidTime(l.period, l.expiredate, today) && monthPassed(l.ipChangeDate, today) && monthPassed(l.keyChangeDate, today);
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Lifecycle {
  private readonly store: LicenseStore;
  private readonly upstream: LicensingApi;
  private readonly module: number;
  private readonly today: Day;
  /** The upstream view a pool re-use ended with (key included), so binding does not read it again. */
  private readonly reusedView = new Map<number, UpstreamLicense>();
  /** A re-use failed in this run: SPEC 5.2 step 4 carries on with a new order, not with the pool
   *  again (an outage would otherwise spend every pooled license's key change, or retry one 10 times). */
  private reuseFailed = false;

  constructor(private readonly deps: LifecycleDeps) {
    this.store = deps.store;
    this.upstream = deps.upstream;
    this.module = deps.module;
    this.today = deps.today;
  }

  // --- protocol operations -------------------------------------------------------------------

  /** SPEC 5.2. */
  async open(service: Service): Promise<void> {
    if (service.panel === 'nopanel') {
      log.info(`service ${service.id}: no control panel ordered, nothing to do upstream`);
      return;
    }
    const need = this.need(service);
    const journal = this.store.openJournal(service.id);
    let lic = this.store.licenseOfService(service.id);

    if (lic && journal?.kind === 'reuse' && journal.upstreamId === lic.upstreamId) {
      lic = await this.completeReuse(service, need, lic, journal);
    } else if (!lic && journal?.kind === 'order') {
      lic = await this.adoptOrder(service, journal);
      if (lic) lic = await this.reconcile(service, need, lic);
    } else {
      // A journal entry that no longer describes anything in progress must not block new work.
      if (journal) this.store.finishJournal(journal.id, 'superseded');
      if (lic) lic = await this.reconcile(service, need, lic);
    }
    lic ??= await this.fromPool(service, need);
    lic ??= await this.orderNew(service, need);
    await this.afterBinding(service, lic, need, true);
  }

  /** SPEC 5.3: the customer paid. A suspended service buys nothing: the resume that follows does. */
  async prolong(service: Service): Promise<void> {
    const lic = this.store.licenseOfService(service.id);
    if (!lic) {
      log.info(`service ${service.id}: no license bound, nothing to prolong`);
      return;
    }
    await this.renewAndRecord(service, lic, service.status === 2);
  }

  /** SPEC 5.4. */
  async close(service: Service): Promise<void> {
    let lic = this.store.licenseOfService(service.id);
    const journal = this.store.openJournal(service.id);
    if (!lic && journal?.kind === 'order') lic = await this.adoptOrder(service, journal);
    if (journal && this.store.openJournal(service.id)) this.store.finishJournal(journal.id, 'service closed');
    if (!lic) log.info(`service ${service.id}: no license bound, nothing to release`);
    else await this.release(lic);
    // The closed service must not go on naming a license that the pool may give to another service.
    await this.clearServiceParams(service);
  }

  /** SPEC 5.6. */
  async suspend(service: Service): Promise<void> {
    const lic = this.store.licenseOfService(service.id);
    if (!lic) return;
    const u = await this.upstream.get(lic.upstreamId);
    if (u.status !== STATUS.suspended) await this.upstream.suspend(lic.upstreamId);
    this.record(lic, u, { state: 'suspended' });
  }

  /** SPEC 5.6: a license that expired meanwhile is prolonged first. */
  async resume(service: Service): Promise<void> {
    const lic = this.store.licenseOfService(service.id);
    if (!lic) return;
    const u = await this.renewAndRecord(service, lic, true);
    if (u.status === STATUS.suspended) await this.upstream.resume(lic.upstreamId);
    const current = this.store.licenseOfService(service.id) ?? lic;
    this.store.saveLicense({ ...current, state: 'bound' });
  }

  /** SPEC 5.6: a new IP, a new panel, or no panel any more. */
  async setparam(service: Service): Promise<void> {
    const lic = this.store.licenseOfService(service.id);
    if (service.panel === 'nopanel') {
      if (lic) await this.release(lic);
      await this.clearServiceParams(service);
      return;
    }
    const need = this.need(service);
    if (lic && lic.pricelist !== need.pricelist) {
      log.info(`service ${service.id}: panel changed from ${lic.pricelist} to ${need.pricelist}; releasing license ${lic.upstreamId}`);
      await this.release(lic);
    }
    await this.open(service);
  }

  /** SPEC 5.6: the upstream is the truth; log drift and bring local state and the service in step. */
  async sync(service: Service): Promise<void> {
    const lic = this.store.licenseOfService(service.id);
    if (!lic) {
      log.info(`service ${service.id}: no license bound, nothing to sync`);
      return;
    }
    let u: UpstreamLicense;
    try {
      u = await this.upstream.get(lic.upstreamId);
    } catch (e) {
      if (e instanceof LicenseMissingError) {
        log.error(`service ${service.id}: its license ${lic.upstreamId} no longer exists upstream; marked gone, the service needs a new one (open)`);
        this.store.saveLicense({ ...lic, state: 'gone', item: null });
      }
      throw e;
    }
    this.logDrift(lic, u);
    this.record(lic, u, {});
    await this.saveServiceParams(service, u);
  }

  /** SPEC 5.7 for one bound license: renewal by the service's own status, and a missing key. */
  async maintainBound(service: Service, lic: ManagedLicense): Promise<void> {
    const u = await this.renewAndRecord(service, lic, service.status === 2);
    if (u.lickey && u.lickey !== service.lickey) await this.deps.host.saveSecretParam(service.id, 'lickey', u.lickey);
  }

  /** SPEC 5.7 for one pooled license, with its entry from the upstream list (null: not listed). */
  async maintainFree(lic: ManagedLicense, u: UpstreamLicense | null): Promise<void> {
    if (!u || u.status === STATUS.deleted) {
      log.info(`pooled license ${lic.upstreamId} is gone upstream; it leaves the pool`);
      this.store.saveLicense({ ...lic, state: 'gone' });
      return;
    }
    if (!hasPaidTime(u.period, u.expiredate, this.today)) {
      log.info(`pooled license ${lic.upstreamId} expired on ${u.expiredate}; it leaves the pool (the licensing server deletes it after 30 days)`);
      this.record(lic, u, { state: 'gone' });
      return;
    }
    if (u.autoprolong) {
      log.warn(`pooled license ${lic.upstreamId} had auto-renewal on; turning it off`);
      await this.upstream.edit(lic.upstreamId, { autoprolong: false });
    }
    this.record(lic, u, {});
  }

  // --- binding -------------------------------------------------------------------------------

  private need(service: Service): Need {
    if (service.ip === '') throw new NoIpYetError(service.id);
    if (!isServerIp(service.ip)) {
      throw new BadInputError('ip', service.ip, `Service ${service.id} has IP address "${service.ip}", which is not a server address a license can be bound to. Correct the service's IP.`);
    }
    if (!/^[1-9]\d{0,9}$/.test(service.panel)) {
      throw new BadInputError('panel', service.panel, `The control panel "${service.panel}" of service ${service.id} is not a tariff id of the licensing server: the enumeration value's internal name must be the tariff id (e.g. 3541) or nopanel.`);
    }
    const period = parseServicePeriod(service.period);
    return { ip: service.ip, pricelist: service.panel, period: licensePeriod({ period, itemtype: service.itemtype, pricelist: service.pricelist }, this.store.periodRules(this.module)) };
  }

  /** A license already bound (a retry, or setparam): bring its IP and panel in line. */
  private async reconcile(service: Service, need: Need, lic: ManagedLicense): Promise<ManagedLicense | null> {
    if (lic.pricelist !== need.pricelist) {
      await this.release(lic);
      return null;
    }
    if (lic.ip !== need.ip) return this.changeIp(lic, need.ip);
    return lic;
  }

  private async changeIp(lic: ManagedLicense, ip: string): Promise<ManagedLicense> {
    const u = await this.upstream.get(lic.upstreamId);
    if (u.ip === ip) return this.record(lic, u, {});
    if (!monthPassed(u.ipChangeDate, this.today)) {
      throw new IpChangeTooSoonError(lic.upstreamId, addMonths(u.ipChangeDate!, 1));
    }
    log.info(`license ${lic.upstreamId}: IP ${u.ip} -> ${ip}`);
    const changed = await this.upstream.edit(lic.upstreamId, { ip });
    return this.record(lic, { ...changed, ip, ipChangeDate: changed.ipChangeDate ?? this.today }, {});
  }

  /** SPEC 5.5: reserve the eligible free license that expires first, atomically, then re-use it. */
  private async fromPool(service: Service, need: Need): Promise<ManagedLicense | null> {
    for (let attempt = 0; attempt < 10 && !this.reuseFailed; attempt++) {
      const reserved = this.store.exclusive(() => {
        const cand = this.store.poolCandidates(this.module, need.pricelist).find((l) => eligibleFromPool(l, this.today));
        if (!cand) return null;
        const lic: ManagedLicense = { ...cand, state: 'bound', item: service.id };
        this.store.saveLicense(lic);
        const journal = this.store.startJournal({ module: this.module, item: service.id, kind: 'reuse', upstreamId: cand.upstreamId, pricelist: need.pricelist, ip: need.ip, period: need.period });
        return { lic, journal };
      });
      if (!reserved) return null;
      log.info(`service ${service.id}: reserved pooled license ${reserved.lic.upstreamId} (expires ${reserved.lic.expiredate})`);
      const lic = await this.completeReuse(service, need, reserved.lic, reserved.journal);
      if (lic) return lic;
    }
    return null;
  }

  /** SPEC 5.2 step 4. Every step checks the upstream first, so a rerun after a crash carries on
   *  where it stopped (the key is changed once a month at most: it is not changed twice). */
  private async completeReuse(service: Service, need: Need, lic: ManagedLicense, journal: JournalEntry): Promise<ManagedLicense | null> {
    const id = lic.upstreamId;
    let u: UpstreamLicense | null = null;
    try {
      u = await this.upstream.get(id);
      const reservedOn = dayOf(new Date(journal.startedAt));
      const keyChangedByUs = u.keyChangeDate !== null && u.keyChangeDate >= reservedOn && u.licname === licnameOf(service.id);
      const problem = this.reuseProblem(u, need, keyChangedByUs);
      if (problem) {
        log.info(`pooled license ${id} cannot be re-used: ${problem}`);
        if (u.status === STATUS.deleted || !hasPaidTime(u.period, u.expiredate, this.today)) {
          this.store.exclusive(() => {
            this.record(lic, u!, { state: 'gone', item: null });
            this.store.finishJournal(journal.id, `not re-usable: ${problem}`);
          });
        } else {
          this.store.exclusive(() => {
            this.record(lic, u!, { state: 'free', item: null });
            this.store.finishJournal(journal.id, `not re-usable: ${problem}`);
          });
        }
        return null;
      }
      const changes = { licname: u.licname === licnameOf(service.id) ? undefined : licnameOf(service.id), ip: u.ip === need.ip ? undefined : need.ip, remoteid: u.remoteid === String(service.id) ? undefined : String(service.id) };
      if (changes.licname || changes.ip || changes.remoteid) {
        await this.upstream.edit(id, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)));
      }
      if (!keyChangedByUs) await this.upstream.newKey(id);
      const after = await this.upstream.get(id);
      if (after.status === STATUS.suspended) await this.upstream.resume(id);
      const fresh = { ...after, status: STATUS.active } as UpstreamLicense;
      this.reusedView.set(id, fresh);
      const bound = this.store.exclusive(() => {
        const l = this.record(lic, fresh, { state: 'bound', item: service.id, ip: need.ip });
        this.store.finishJournal(journal.id, 'reused');
        return l;
      });
      log.info(`service ${service.id}: re-used pooled license ${id} instead of buying a new one`);
      return bound;
    } catch (e) {
      if (e instanceof LicenseMissingError) {
        this.store.exclusive(() => {
          this.store.saveLicense({ ...lic, state: 'gone', item: null });
          this.store.finishJournal(journal.id, 'gone upstream');
        });
        return null;
      }
      log.warn(`re-use of pooled license ${id} for service ${service.id} failed (${(e as Error).message}); putting it back into the pool`);
      this.reuseFailed = true;
      await this.putBack(lic, journal, u);
      return null;
    }
  }

  private reuseProblem(u: UpstreamLicense, need: Need, keyChangedByUs: boolean): string | null {
    if (u.status !== STATUS.active && u.status !== STATUS.suspended) return `status ${u.status}`;
    if (u.pricelist !== need.pricelist) return `tariff ${u.pricelist}, not ${need.pricelist}`;
    if (!hasPaidTime(u.period, u.expiredate, this.today)) return `expired on ${u.expiredate}`;
    if (u.ip !== need.ip && !monthPassed(u.ipChangeDate, this.today)) return `IP changed on ${u.ipChangeDate}`;
    if (!keyChangedByUs && !monthPassed(u.keyChangeDate, this.today)) return `key changed on ${u.keyChangeDate}`;
    return null;
  }

  /** A failed re-use: free.lic, auto-renewal off, suspended (best effort), free locally. */
  private async putBack(lic: ManagedLicense, journal: JournalEntry, known: UpstreamLicense | null): Promise<void> {
    const id = lic.upstreamId;
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        log.warn(`license ${id}: could not ${what} while putting it back into the pool: ${(e as Error).message}`);
      }
    };
    await attempt('rename it free.lic and turn auto-renewal off', () => this.upstream.edit(id, { licname: FREE_LICNAME, autoprolong: false }));
    await attempt('suspend it', () => this.upstream.suspend(id));
    let u = known;
    await attempt('read it', async () => {
      u = await this.upstream.get(id);
    });
    this.store.exclusive(() => {
      const current = this.store.license(this.module, id) ?? lic;
      if (u) this.record(current, u, { state: 'free', item: null });
      else this.store.saveLicense({ ...current, state: 'free', item: null });
      this.store.finishJournal(journal.id, 'put back into the pool');
    });
  }

  /** SPEC 5.2 step 5. The journal entry is written before the order is sent and stays open until
   *  the license is recorded; a TransportError leaves it open (the order may have been taken). */
  private async orderNew(service: Service, need: Need): Promise<ManagedLicense> {
    const journal = this.store.exclusive(() =>
      this.store.startJournal({ module: this.module, item: service.id, kind: 'order', upstreamId: null, pricelist: need.pricelist, ip: need.ip, period: need.period }),
    );
    log.info(`service ${service.id}: ordering a new license, tariff ${need.pricelist}, period ${need.period}, IP ${need.ip}`);
    let id: number;
    try {
      id = await this.upstream.order({ pricelist: need.pricelist, period: need.period, ip: need.ip, licname: licnameOf(service.id), remoteid: String(service.id), addons: service.addons });
    } catch (e) {
      if (e instanceof TransportError) {
        log.warn(`service ${service.id}: the order's reply was lost; the next attempt looks for it upstream before ordering again`);
      } else {
        this.store.finishJournal(journal.id, `refused: ${(e as ModuleError).message ?? String(e)}`);
      }
      throw e;
    }
    return this.store.exclusive(() => {
      this.store.setJournalLicense(journal.id, id);
      const lic: ManagedLicense = {
        module: this.module,
        upstreamId: id,
        pricelist: need.pricelist,
        period: need.period,
        state: 'bound',
        item: service.id,
        ip: need.ip,
        expiredate: null,
        ipChangeDate: this.today,
        keyChangeDate: this.today,
        hasKey: false,
        updatedAt: '',
      };
      this.store.saveLicense(lic);
      this.store.finishJournal(journal.id, `ordered license ${id}`);
      log.info(`service ${service.id}: ordered license ${id}`);
      return lic;
    });
  }

  /** SPEC 5.2 step 3: an order that was sent but never recorded. Find it upstream and adopt it. */
  private async adoptOrder(service: Service, journal: JournalEntry): Promise<ManagedLicense | null> {
    let found: UpstreamLicense | undefined;
    if (journal.upstreamId !== null) {
      found = await this.upstream.get(journal.upstreamId);
    } else {
      const candidates = (await this.upstream.list()).filter(
        (u) => u.licname === licnameOf(service.id) && u.ip === journal.ip && u.pricelist === journal.pricelist && u.status !== STATUS.deleted && !this.store.isKnown(u.id),
      );
      if (candidates.length > 1) log.warn(`service ${service.id}: ${candidates.length} unrecorded licenses named "${licnameOf(service.id)}" upstream (${candidates.map((c) => c.id).join(', ')}); adopting ${candidates[0]!.id}, the others are left for the administrator`);
      found = candidates[0];
    }
    if (!found) {
      const age = journal.startedWallMs === null ? Infinity : Date.now() - journal.startedWallMs;
      if (age < this.deps.orderSettleMs) {
        log.warn(`service ${service.id}: the interrupted order (sent ${Math.round(age / 1000)} s ago) is not visible upstream yet; not ordering again before ${Math.round(this.deps.orderSettleMs / 1000)} s have passed`);
        throw new OrderInDoubtError(service.id, journal.startedAt, Math.round(this.deps.orderSettleMs / 1000));
      }
      log.info(`service ${service.id}: the interrupted order was not taken upstream; ordering normally`);
      this.store.finishJournal(journal.id, 'not found upstream');
      return null;
    }
    const u = found;
    return this.store.exclusive(() => {
      const lic = this.record(
        { module: this.module, upstreamId: u.id, pricelist: u.pricelist, period: u.period, state: 'bound', item: service.id, ip: u.ip, expiredate: u.expiredate, ipChangeDate: u.ipChangeDate, keyChangeDate: u.keyChangeDate, hasKey: false, updatedAt: '' },
        u,
        {},
      );
      this.store.finishJournal(journal.id, `adopted license ${u.id}`);
      log.warn(`service ${service.id}: adopted license ${u.id} ordered by an interrupted run (no second purchase)`);
      return lic;
    });
  }

  /** SPEC 5.2 step 6: key, renewal, and the service's params. */
  private async afterBinding(service: Service, lic: ManagedLicense, need: Need, active: boolean): Promise<void> {
    let u = this.reusedView.get(lic.upstreamId) ?? (await this.upstream.get(lic.upstreamId));
    if (!u.lickey) u = await this.waitForKey(lic.upstreamId, u);
    u = await this.renew(service, u, active, need.period);
    this.record(this.store.license(this.module, lic.upstreamId) ?? lic, u, {});
    await this.saveServiceParams(service, u);
  }

  /** Bounded wait with back-off; the license stays bound without a key (maintain fills it in). */
  private async waitForKey(id: number, first: UpstreamLicense): Promise<UpstreamLicense> {
    const sleep = this.deps.sleep ?? defaultSleep;
    const deadline = Date.now() + this.deps.keyWaitMs;
    let delay = 250;
    let u = first;
    while (!u.lickey && Date.now() < deadline) {
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 2, 8000);
      u = await this.upstream.get(id);
    }
    if (!u.lickey) log.warn(`license ${id}: no key after ${Math.round(this.deps.keyWaitMs / 1000)} s; the service is bound and maintain/sync_item fill the key in`);
    return u;
  }

  /** Reads the license, applies the renewal rule, records it; returns the upstream view. */
  private async renewAndRecord(service: Service, lic: ManagedLicense, active: boolean): Promise<UpstreamLicense> {
    let u = await this.upstream.get(lic.upstreamId);
    let period = lic.period;
    try {
      period = licensePeriod({ period: parseServicePeriod(service.period), itemtype: service.itemtype, pricelist: service.pricelist }, this.store.periodRules(this.module));
    } catch (e) {
      if (!(e instanceof BadInputError)) throw e;
      log.warn(`service ${service.id}: period "${service.period}" unknown; renewing by the license's own period ${lic.period}`);
    }
    u = await this.renew(service, u, active, period);
    this.record(lic, u, {});
    if (u.expiredate && u.expiredate !== service.licenseExpiredate) await this.deps.host.saveParam(service.id, 'license_expiredate', u.expiredate);
    return u;
  }

  /** SPEC 5.3. One period per application: maintain runs daily, so a service paid a year ahead is
   *  covered month by month. A lifetime target cannot prolong a term license: its own period is used. */
  private async renew(service: Service, u: UpstreamLicense, active: boolean, period: number): Promise<UpstreamLicense> {
    const facts = { licensePeriod: u.period, licenseExpires: u.expiredate, serviceExpires: service.expiredate, serviceActive: active, today: this.today };
    if (!needsRenewal(facts)) return u;
    const by = period === 0 ? u.period : period;
    log.info(`license ${u.id} of service ${service.id}: expires ${u.expiredate}, service paid until ${service.expiredate}; prolonging by ${by} month(s)`);
    const newExpire = await this.upstream.prolong(u.id, by);
    return { ...u, expiredate: newExpire, status: u.status };
  }

  /** SPEC 5.4: paid time left → the pool; none → deleted. "Not found" counts as released. */
  async release(lic: ManagedLicense): Promise<void> {
    let u: UpstreamLicense;
    try {
      u = await this.upstream.get(lic.upstreamId);
    } catch (e) {
      if (!(e instanceof LicenseMissingError)) throw e;
      log.info(`license ${lic.upstreamId} no longer exists upstream; counted as released`);
      this.store.saveLicense({ ...lic, state: 'gone', item: null });
      return;
    }
    if (u.status !== STATUS.deleted && hasPaidTime(u.period, u.expiredate, this.today)) {
      if (u.status !== STATUS.suspended) await this.upstream.suspend(lic.upstreamId);
      if (u.licname !== FREE_LICNAME || u.autoprolong) await this.upstream.edit(lic.upstreamId, { licname: FREE_LICNAME, autoprolong: false });
      this.record(lic, { ...u, licname: FREE_LICNAME, autoprolong: false }, { state: 'free', item: null });
      log.info(`license ${lic.upstreamId} released into the pool (paid until ${u.period === 0 ? 'lifetime' : u.expiredate})`);
      return;
    }
    if (u.status !== STATUS.deleted) {
      try {
        await this.upstream.delete(lic.upstreamId);
      } catch (e) {
        if (!(e instanceof LicenseMissingError)) throw e;
      }
    }
    this.record(lic, u, { state: 'gone', item: null });
    log.info(`license ${lic.upstreamId} had no paid time left; deleted upstream`);
  }

  // --- records -------------------------------------------------------------------------------

  /** Writes the upstream's view of a license into the local row (the upstream is the authority
   *  for dates and IP); `over` sets the local state and binding. */
  private record(lic: ManagedLicense, u: UpstreamLicense, over: Partial<Pick<ManagedLicense, 'state' | 'item' | 'ip'>>): ManagedLicense {
    const next: ManagedLicense = {
      ...lic,
      pricelist: u.pricelist || lic.pricelist,
      period: [0, 1, 12].includes(u.period) ? u.period : lic.period,
      ip: u.ip || lic.ip,
      expiredate: u.expiredate ?? lic.expiredate,
      ipChangeDate: u.ipChangeDate ?? lic.ipChangeDate,
      keyChangeDate: u.keyChangeDate ?? lic.keyChangeDate,
      hasKey: lic.hasKey || u.lickey !== '',
      ...over,
    };
    this.store.saveLicense(next);
    return next;
  }

  private async clearServiceParams(service: Service): Promise<void> {
    const h = this.deps.host;
    if (service.licenseId !== null) await h.saveParam(service.id, 'license_id', '');
    if (service.lickey) await h.saveSecretParam(service.id, 'lickey', ''); // lickey only ever through -e
    if (service.licenseExpiredate) await h.saveParam(service.id, 'license_expiredate', '');
  }

  private async saveServiceParams(service: Service, u: UpstreamLicense): Promise<void> {
    const h = this.deps.host;
    if (service.licenseId !== u.id) await h.saveParam(service.id, 'license_id', String(u.id));
    if (u.lickey && u.lickey !== service.lickey) await h.saveSecretParam(service.id, 'lickey', u.lickey);
    if (u.expiredate && u.expiredate !== service.licenseExpiredate) await h.saveParam(service.id, 'license_expiredate', u.expiredate);
  }

  private logDrift(lic: ManagedLicense, u: UpstreamLicense): void {
    if (u.ip !== lic.ip) log.warn(`license ${lic.upstreamId}: IP drift, local ${lic.ip}, upstream ${u.ip}`);
    if (u.pricelist !== lic.pricelist) log.warn(`license ${lic.upstreamId}: tariff drift, local ${lic.pricelist}, upstream ${u.pricelist}`);
    const expected = lic.state === 'suspended' ? STATUS.suspended : STATUS.active;
    if (u.status !== expected) log.warn(`license ${lic.upstreamId}: status drift, local ${lic.state}, upstream status ${u.status}`);
  }
}
