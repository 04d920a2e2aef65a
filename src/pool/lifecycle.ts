// The license lifecycle (SPEC 5): binding a license to a service (from the pool or a new order),
// keeping it renewed, suspending, resuming, changing it, and releasing it into the pool.
//
// Money rules this file exists to keep:
// - one service never pays twice: a new order is journaled before it is sent, and a rerun after a
//   crash or a lost reply adopts the order it finds upstream instead of buying again;
// - one license never serves two services: every change of a license's state is a compare-and-set
//   transition of the store (it names the version it read; a process that lost the race reads
//   again and decides anew), pool reservation is one BEGIN IMMEDIATE transaction, and SQLite's
//   unique index on the bound service backs it;
// - unknown is never destructive: only a known past expiry deletes a license (SPEC 5.4);
// - nothing is bought ahead of need: renewal follows the 5-day lead rule (renewal.ts).
// Upstream calls never happen inside a transaction; every step is safe to repeat.
import { addDays, addMonths, dayOf, type Day } from '../dates.js';
import { BadInputError, ConcurrentChangeError, IpChangeTooSoonError, LicenseMissingError, ModuleError, NoIpYetError, OrderInDoubtError, StateError, TransportError } from '../errors.js';
import type { Service } from '../host/types.js';
import { isServerIp, sameIp } from '../ip.js';
import { log } from '../log.js';
import type { LicensingApi, UpstreamLicense } from '../upstream/types.js';
import { STATUS } from '../upstream/types.js';
import { licensePeriod, parseServicePeriod } from './periods.js';
import { needsRenewal, RENEWAL_LEAD_DAYS } from './renewal.js';
import { isAlive } from './service-lock.js';
import type { JournalEntry, LicenseFacts, LicenseStore, ManagedLicense, Purchase } from './store.js';

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

/** A license with paid time vanished upstream: a failure the administrator must hear of (SPEC 5.7). */
export class PaidLicenseLostError extends ModuleError {
  constructor(id: number, paidUntil: string) {
    super('missed', `License ${id}, paid until ${paidUntil}, no longer exists at the licensing server: its paid time is lost. Check the account at the licensing server (pmisplicense reconcile shows it).`, false, 'elid', String(id));
  }
}

export function licnameOf(item: number): string {
  return `Item #${item}`;
}

export function monthPassed(lastChange: Day | null, today: Day): boolean {
  return lastChange === null || addMonths(lastChange, 1) <= today;
}

/** Paid time left: 'unknown' when the period or the expiry date is not known (SPEC 5.4). */
export function paidTime(period: number | null, expiredate: Day | null, today: Day): 'yes' | 'no' | 'unknown' {
  if (period === 0) return 'yes';
  if (period === null || expiredate === null) return 'unknown';
  return expiredate >= today ? 'yes' : 'no';
}

/** Known to have paid time left. */
export function hasPaidTime(period: number | null, expiredate: Day | null, today: Day): boolean {
  return paidTime(period, expiredate, today) === 'yes';
}

/** Eligible for re-use by what the module knows locally (the upstream is checked after). */
export function eligibleFromPool(l: ManagedLicense, today: Day): boolean {
  return hasPaidTime(l.period, l.expiredate, today) && monthPassed(l.ipChangeDate, today) && monthPassed(l.keyChangeDate, today);
}

/**
 * The upstream's facts in the store's terms. A full read (soft.edit, the list) is the authority:
 * a period or expiry it does not show is unknown now, whatever was known before (SPEC 5.4) — so
 * nothing decides from an old copy. A change reply (`partial`) may leave fields out: those are
 * kept from `known`.
 */
export function factsOf(u: UpstreamLicense, known: ManagedLicense | null, partial = false): LicenseFacts {
  const period = u.period !== null && [0, 1, 12].includes(u.period) ? u.period : null;
  return {
    pricelist: u.pricelist || known?.pricelist || '',
    tariffName: u.pricelistName || known?.tariffName || '',
    period: partial ? (period ?? known?.period ?? null) : period,
    ip: u.ip || known?.ip || '',
    expiredate: partial ? (u.expiredate ?? known?.expiredate ?? null) : u.expiredate,
    ipChangeDate: u.ipChangeDate ?? known?.ipChangeDate ?? null,
    keyChangeDate: u.keyChangeDate ?? known?.keyChangeDate ?? null,
    hasKey: (known?.hasKey ?? false) || u.lickey !== '',
  };
}

function sameFacts(l: ManagedLicense, f: LicenseFacts): boolean {
  return l.pricelist === f.pricelist && l.tariffName === f.tariffName && l.period === f.period && l.ip === f.ip && l.expiredate === f.expiredate && l.ipChangeDate === f.ipChangeDate && l.keyChangeDate === f.keyChangeDate && l.hasKey === f.hasKey;
}

/**
 * Pool re-uses of a module that a process reserved and left unfinished (killed, or its put-back
 * failed): reserved for a service whose lock no live process holds. By license id. `reconcile`
 * shows them and `maintain` returns them to the pool, until the open's retry finishes them.
 */
export function leftReservations(store: LicenseStore, module: number): Map<number, JournalEntry> {
  const out = new Map<number, JournalEntry>();
  for (const r of store.reservations(module)) {
    if (r.lockedBy === null || (r.lockedBy !== process.pid && !isAlive(r.lockedBy))) out.set(r.license.upstreamId, r.journal);
  }
  return out;
}

/** Inside completeReuse: the license read is not one to re-use (not a failure of the re-use). */
class NotReusable extends Error {}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Lifecycle {
  private readonly store: LicenseStore;
  private readonly upstream: LicensingApi;
  private readonly module: number;
  private readonly today: Day;
  /** The upstream view a pool re-use ended with (key included), so binding does not read it again. */
  private readonly reusedView = new Map<number, UpstreamLicense>();
  /** A re-use failed in this run: SPEC 5.2 step 4 carries on with a new order, not with the pool
   *  again (an outage would otherwise spend every pooled license's key change). */
  private reuseFailed = false;
  /** Pooled licenses this run found unusable: never picked twice in one run. */
  private readonly triedFromPool = new Set<number>();

  constructor(private readonly deps: LifecycleDeps) {
    this.store = deps.store;
    this.upstream = deps.upstream;
    this.module = deps.module;
    this.today = deps.today;
  }

  // --- protocol operations (the caller holds the service's lock) ------------------------------

  /** SPEC 5.2. */
  async open(service: Service): Promise<void> {
    // A service that names a license not bound to it (a run cut short after releasing it) stops
    // naming it before anything else, so that it never names a license the pool may give away.
    if (service.licenseId !== null && this.store.licenseOfService(service.id)?.upstreamId !== service.licenseId) {
      log.warn(`service ${service.id}: its params name license ${service.licenseId}, which is not bound to it; cleared`);
      service = await this.clearServiceParams(service);
    }
    // A release this service started and did not finish (a close or panel change cut short): after
    // the params, so that the service never names a license that becomes free (SPEC 5.4 v3).
    await this.finishReleasesOf(service.id);
    if (service.panel === 'nopanel') {
      log.info(`service ${service.id}: no control panel ordered, nothing to do upstream`);
      return;
    }
    const need = this.need(service);
    const journal = this.store.openJournal(service.id);
    let lic = this.store.licenseOfService(service.id);

    if (lic && journal?.kind === 'reuse' && journal.upstreamId === lic.upstreamId) {
      // A re-use an earlier run reserved and did not finish (killed): finished with that same
      // license, or returned to the pool before anything else is taken (issue 17).
      ({ lic, service } = await this.completeReuse(service, need, lic, journal));
    } else if (!lic && journal?.kind === 'order') {
      lic = await this.adoptOrder(service, journal);
      if (lic) ({ lic, service } = await this.matchNeed(service, need, lic));
    } else {
      // A journal entry that no longer describes anything in progress must not block new work.
      if (journal) this.store.finishJournal(journal.id, 'superseded');
      if (lic) ({ lic, service } = await this.matchNeed(service, need, lic));
    }
    if (!lic) ({ lic, service } = await this.fromPool(service, need));
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

  /** SPEC 5.4 and 5.8 point 4: unbind (compare-and-set), then release upstream. */
  async close(service: Service): Promise<void> {
    let lic = this.store.licenseOfService(service.id);
    const journal = this.store.openJournal(service.id);
    if (!lic && journal?.kind === 'order') lic = await this.adoptOrder(service, journal);
    if (journal && this.store.openJournal(service.id)) this.store.finishJournal(journal.id, 'service closed');
    // The closed service stops naming its license before the license becomes free anywhere (SPEC
    // 5.4 v3): if clearing fails, nothing is released and the rerun does both.
    await this.clearServiceParams(service);
    await this.finishReleasesOf(service.id);
    if (!lic) log.info(`service ${service.id}: no license bound, nothing to release`);
    else await this.release(service.id, lic);
  }

  /** SPEC 5.6. */
  async suspend(service: Service): Promise<void> {
    const lic = this.store.licenseOfService(service.id);
    if (!lic) return;
    const u = await this.upstream.get(lic.upstreamId);
    if (u.status !== STATUS.suspended) await this.upstream.suspend(lic.upstreamId);
    const suspended = this.store.suspendBound(lic);
    if (!suspended) throw this.changedMeanwhile(lic);
    this.recordFacts(suspended, u);
  }

  /** SPEC 5.6: a license that expired meanwhile is prolonged first. */
  async resume(service: Service): Promise<void> {
    const lic = this.store.licenseOfService(service.id);
    if (!lic) return;
    const u = await this.renewAndRecord(service, lic, true);
    if (u.status === STATUS.suspended) await this.upstream.resume(lic.upstreamId);
    const current = this.store.licenseOfService(service.id);
    if (!current || current.upstreamId !== lic.upstreamId || !this.store.resumeBound(current)) throw this.changedMeanwhile(lic);
  }

  /** SPEC 5.6: a new IP, a new panel, or no panel any more. */
  async setparam(service: Service): Promise<void> {
    const lic = this.store.licenseOfService(service.id);
    if (service.panel === 'nopanel') {
      // Params first (SPEC 5.4 v3): the service never names a license that is free.
      await this.clearServiceParams(service);
      await this.finishReleasesOf(service.id);
      if (lic) await this.release(service.id, lic);
      return;
    }
    const need = this.need(service);
    if (lic && lic.pricelist !== need.pricelist) {
      log.info(`service ${service.id}: panel changed from ${lic.pricelist} to ${need.pricelist}; releasing license ${lic.upstreamId}`);
      // Before the release (SPEC 5.4 v3, 5.6): if getting the new license fails, or the release
      // does, the service does not name one back in the pool.
      service = await this.clearServiceParams(service);
      await this.release(service.id, lic);
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
      if (e instanceof LicenseMissingError) await this.forgetVanished(service, lic);
      throw e;
    }
    this.logDrift(lic, u);
    this.recordFacts(lic, u);
    await this.saveServiceParams(service, u);
  }

  // --- maintain (SPEC 5.7): the caller has read `lic` anew, under the service's lock -----------

  /** One bound license: renewal by the service's own status, and a missing key. A license gone
   *  upstream is marked gone and reported (a failure of the run). */
  async maintainBound(service: Service, lic: ManagedLicense): Promise<void> {
    let u: UpstreamLicense;
    try {
      u = await this.renewAndRecord(service, lic, service.status === 2);
    } catch (e) {
      if (!(e instanceof LicenseMissingError)) throw e;
      await this.forgetVanished(service, lic);
      throw hasPaidTime(lic.period, lic.expiredate, this.today)
        ? new PaidLicenseLostError(lic.upstreamId, lic.period === 0 ? 'lifetime' : lic.expiredate!)
        : new LicenseMissingError(lic.upstreamId, `bound to service ${service.id}, which now has no license`);
    }
    if (u.lickey && u.lickey !== service.lickey) await this.deps.host.saveSecretParam(service.id, 'lickey', u.lickey);
  }

  /**
   * One pooled license, with its entry from the complete upstream list (null: not listed). Not
   * listed is not gone: it is read directly, and only `missed` (or status deleted) makes it gone.
   * Every change names the row as read; a license another process took meanwhile is left to it.
   */
  async maintainFree(lic: ManagedLicense, listed: UpstreamLicense | null): Promise<void> {
    let u = listed;
    if (!u) {
      try {
        u = await this.upstream.get(lic.upstreamId);
      } catch (e) {
        if (!(e instanceof LicenseMissingError)) throw e;
        u = null;
      }
    }
    if (!u || u.status === STATUS.deleted) {
      if (!this.store.markGone(lic)) return this.leftToOther(lic);
      if (hasPaidTime(lic.period, lic.expiredate, this.today)) throw new PaidLicenseLostError(lic.upstreamId, lic.period === 0 ? 'lifetime' : lic.expiredate!);
      log.info(`pooled license ${lic.upstreamId} is gone upstream; it leaves the pool`);
      return;
    }
    const facts = factsOf(u, lic);
    const paid = paidTime(facts.period, facts.expiredate, this.today);
    if (paid === 'no') {
      if (!this.store.markGone(lic, facts)) return this.leftToOther(lic);
      log.info(`pooled license ${lic.upstreamId} expired on ${facts.expiredate}; it leaves the pool (the licensing server deletes it after 30 days)`);
      return;
    }
    if (paid === 'unknown') log.warn(`pooled license ${lic.upstreamId}: its paid time is unknown upstream (period ${u.period ?? '?'}, expires ${u.expiredate ?? '?'}); kept in the pool, not re-used until it is known`);
    if (u.autoprolong) {
      // Checked again right before acting: a license an open took meanwhile is not ours to touch.
      const now = this.store.license(lic.module, lic.upstreamId);
      if (!now || now.version !== lic.version) return this.leftToOther(lic);
      log.warn(`pooled license ${lic.upstreamId} had auto-renewal on; turning it off`);
      await this.upstream.edit(lic.upstreamId, { autoprolong: false });
    }
    if (!sameFacts(lic, facts) && !this.store.refresh(lic, facts)) this.leftToOther(lic);
  }

  /** A bound license that the licensing server no longer has: gone locally, and the service stops
   *  naming it (it needs a new license: open). */
  async forgetVanished(service: Service, lic: ManagedLicense): Promise<void> {
    log.error(`service ${service.id}: its license ${lic.upstreamId} no longer exists upstream; marked gone, the service needs a new one (open)`);
    // The service's params first: killed between the two steps, the license is still bound and the
    // next run does both again; the other way round nothing would ever clear them.
    if (service.licenseId === lic.upstreamId) await this.clearServiceParams(service);
    if (!this.store.markGone(lic)) return this.leftToOther(lic);
  }

  /** A license a close (or panel change) took off a service and did not finish releasing. With
   *  `readService` (maintain, reconcile: no service at hand), a service still naming one stops
   *  naming it first (SPEC 5.4 v3; the protocol commands clear their service's params before). */
  async finishReleasesOf(item: number, readService?: (item: number) => Promise<Service | null>): Promise<void> {
    const releasing = this.store.releasingFrom(item).filter((r) => r.module === this.module);
    if (releasing.length && readService) {
      const s = await readService(item);
      if (s && s.licenseId !== null && releasing.some((r) => r.upstreamId === s.licenseId)) await this.clearServiceParams(s);
    }
    for (const r of releasing) {
      log.info(`license ${r.upstreamId}: finishing its release from service ${item}, which an earlier run started`);
      await this.finishRelease(r);
    }
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

  /** A license already bound (a retry, or setparam): bring its IP and panel in line. The service
   *  comes back as it now is (its params cleared when the license goes). */
  private async matchNeed(service: Service, need: Need, lic: ManagedLicense): Promise<{ lic: ManagedLicense | null; service: Service }> {
    if (lic.pricelist !== need.pricelist) {
      // Params first (SPEC 5.4 v3): the service never names a license that is free.
      service = await this.clearServiceParams(service);
      await this.release(service.id, lic);
      return { lic: null, service };
    }
    if (!sameIp(lic.ip, need.ip)) return { lic: await this.changeIp(lic, need.ip), service };
    return { lic, service };
  }

  private async changeIp(lic: ManagedLicense, ip: string): Promise<ManagedLicense> {
    const u = await this.upstream.get(lic.upstreamId);
    if (sameIp(u.ip, ip)) return this.recordFacts(lic, u);
    if (!monthPassed(u.ipChangeDate, this.today)) {
      throw new IpChangeTooSoonError(lic.upstreamId, addMonths(u.ipChangeDate!, 1));
    }
    log.info(`license ${lic.upstreamId}: IP ${u.ip} -> ${ip}`);
    const changed = await this.upstream.edit(lic.upstreamId, { ip });
    return this.recordFacts(lic, { ...changed, ip, ipChangeDate: changed.ipChangeDate ?? this.today }, true);
  }

  /** SPEC 5.5: reserve the eligible free license to take (see poolCandidates), atomically, then re-use it. */
  private async fromPool(service: Service, need: Need): Promise<{ lic: ManagedLicense | null; service: Service }> {
    while (!this.reuseFailed) {
      const reserved = this.store.reservePooled(
        { module: this.module, pricelist: need.pricelist, item: service.id, ip: need.ip, period: need.period, today: this.today, leadEnd: addDays(this.today, RENEWAL_LEAD_DAYS) },
        (l) => !this.triedFromPool.has(l.upstreamId) && eligibleFromPool(l, this.today),
      );
      if (!reserved) return { lic: null, service };
      this.triedFromPool.add(reserved.license.upstreamId);
      log.info(`service ${service.id}: reserved pooled license ${reserved.license.upstreamId} (expires ${reserved.license.period === 0 ? 'never' : reserved.license.expiredate})`);
      const done = await this.completeReuse(service, need, reserved.license, reserved.journal);
      if (done.lic) return done;
      service = done.service;
    }
    return { lic: null, service };
  }

  /** SPEC 5.2 step 4. Every step checks the upstream first, so a rerun after a crash carries on
   *  where it stopped (the key is changed once a month at most: it is not changed twice). A re-use
   *  that cannot finish puts the license back (putBack); the service comes back as it now is. */
  private async completeReuse(service: Service, need: Need, lic: ManagedLicense, journal: JournalEntry): Promise<{ lic: ManagedLicense | null; service: Service }> {
    const id = lic.upstreamId;
    let u: UpstreamLicense | null = null;
    let problem: string | null = null;
    // Whether the license may have been changed upstream for this service: by an earlier run (a
    // reservation it left), or by a change request of this one.
    let touched = !this.triedFromPool.has(id);
    try {
      u = await this.upstream.get(id);
      const reservedOn = dayOf(new Date(journal.startedAt));
      const keyChangedByUs = u.keyChangeDate !== null && u.keyChangeDate >= reservedOn && u.licname === licnameOf(service.id);
      problem = this.reuseProblem(u, need, keyChangedByUs);
      if (problem) throw new NotReusable();
      const changes = { licname: u.licname === licnameOf(service.id) ? undefined : licnameOf(service.id), ip: sameIp(u.ip, need.ip) ? undefined : need.ip, remoteid: u.remoteid === String(service.id) ? undefined : String(service.id) };
      touched = true;
      if (changes.licname || changes.ip || changes.remoteid) {
        await this.upstream.edit(id, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)));
      }
      if (!keyChangedByUs) await this.upstream.newKey(id);
      const after = await this.upstream.get(id);
      if (after.status === STATUS.suspended) await this.upstream.resume(id);
      const fresh: UpstreamLicense = { ...after, status: STATUS.active };
      this.reusedView.set(id, fresh);
      const bound = this.store.exclusive(() => {
        const cur = this.store.license(this.module, id);
        if (!cur || cur.item !== service.id) throw this.changedMeanwhile(lic);
        const l = this.store.refresh(cur, { ...factsOf(fresh, cur), ip: need.ip }) ?? cur;
        this.store.finishJournal(journal.id, 'reused');
        return l;
      });
      log.info(`service ${service.id}: re-used pooled license ${id} instead of buying a new one`);
      return { lic: bound, service };
    } catch (e) {
      if (e instanceof NotReusable) {
        log.info(`pooled license ${id} cannot be re-used: ${problem}`);
        // A rerun may find it already renamed, re-keyed and resumed for this service by the run
        // that reserved it: it goes back the whole way, not only in the state (issue 17). A
        // failure of that propagates: the reservation stays for the next run, nothing else is taken.
        return { lic: null, service: await this.putBack(service, lic, journal, u, `not re-usable: ${problem}`) };
      }
      if (e instanceof LicenseMissingError) {
        this.settleReservation(service.id, lic, 'gone', null, journal, 'gone upstream');
        return { lic: null, service };
      }
      if (e instanceof ConcurrentChangeError || e instanceof StateError) throw e;
      log.warn(`re-use of pooled license ${id} for service ${service.id} failed (${(e as Error).message}); putting it back into the pool`);
      this.reuseFailed = true;
      if (!touched) {
        // Reserved by this run and failed before any change was sent: still free.lic and suspended
        // upstream as the pool keeps it, so it is free again locally and step 5 follows.
        this.settleReservation(service.id, lic, 'free', null, journal, 'put back into the pool');
        return { lic: null, service };
      }
      // Read anew: the step that failed may have been applied (its reply lost).
      return { lic: null, service: await this.putBack(service, lic, journal, null, 'put back into the pool') };
    }
  }

  /** Ends a reservation: the license leaves this service for the pool (or gone), journal closed. */
  private settleReservation(item: number, read: ManagedLicense, to: 'free' | 'gone', facts: LicenseFacts | null, journal: JournalEntry, outcome: string): void {
    this.store.exclusive(() => {
      const cur = this.store.license(this.module, read.upstreamId);
      if (cur && cur.item === item) {
        if (!this.store.settle(cur, to, facts)) throw this.changedMeanwhile(read);
      }
      this.store.finishJournal(journal.id, outcome);
    });
  }

  private reuseProblem(u: UpstreamLicense, need: Need, keyChangedByUs: boolean): string | null {
    if (u.status !== STATUS.active && u.status !== STATUS.suspended) return `status ${u.status}`;
    if (u.pricelist !== need.pricelist) return `tariff ${u.pricelist}, not ${need.pricelist}`;
    const paid = paidTime(u.period, u.expiredate, this.today);
    if (paid === 'no') return `expired on ${u.expiredate}`;
    if (paid === 'unknown') return 'its paid time is unknown upstream';
    if (!sameIp(u.ip, need.ip) && !monthPassed(u.ipChangeDate, this.today)) return `IP changed on ${u.ipChangeDate}`;
    if (!keyChangedByUs && !monthPassed(u.keyChangeDate, this.today)) return `key changed on ${u.keyChangeDate}`;
    return null;
  }

  /**
   * Ends a reservation that does not become a re-use (SPEC 5.2 step 4): the service stops naming
   * the license first (5.4 v3), then the license goes back upstream — renamed free.lic, auto-renewal
   * off, suspended — and only then is free locally (gone when it has no paid time left), journal
   * closed. Each upstream step must succeed: a failure leaves the reservation as it is and
   * propagates (retryable), and the next process that meets it (the open's retry, maintain,
   * reconcile --apply) finishes the return. So a license is never free, or taken by another run,
   * while it is still named for the service (issue 17). `fresh`: the upstream view just read.
   */
  private async putBack<S extends Service | null>(service: S, lic: ManagedLicense, journal: JournalEntry, fresh: UpstreamLicense | null, outcome: string): Promise<S> {
    const id = lic.upstreamId;
    const item = journal.item;
    // Only params that name this license or none (a key or expiry an interrupted run wrote): a
    // reserved service has no other license.
    if (service && (service.licenseId === null || service.licenseId === id)) service = (await this.clearServiceParams(service)) as S;
    let u = fresh;
    if (!u) {
      try {
        u = await this.upstream.get(id);
      } catch (e) {
        if (!(e instanceof LicenseMissingError)) throw e;
        this.settleReservation(item, lic, 'gone', null, journal, `${outcome}; gone upstream`);
        return service;
      }
    }
    if (u.status !== STATUS.deleted) {
      if (u.licname !== FREE_LICNAME || u.autoprolong) await this.upstream.edit(id, { licname: FREE_LICNAME, autoprolong: false });
      if (u.status === STATUS.active) await this.upstream.suspend(id);
    }
    const gone = u.status === STATUS.deleted || paidTime(u.period, u.expiredate, this.today) === 'no';
    this.settleReservation(item, lic, gone ? 'gone' : 'free', factsOf(u, lic), journal, outcome);
    log.info(`license ${id}: back in the pool from service ${item}'s unfinished re-use (free.lic, auto-renewal off, suspended)${gone ? '; it has no paid time left, so it leaves the pool' : ''}`);
    return service;
  }

  /**
   * A pool re-use that a process reserved and did not finish (killed, or its put-back failed), met
   * by maintain or reconcile --apply: the caller holds the service's lock, so no open is running
   * for it. Read anew; if the reservation is still there, the license goes back to the pool as
   * SPEC 5.2 step 4 says (the open's retry then takes what the pool gives, or orders). False when
   * there is no such reservation any more.
   */
  async returnLeftReservation(item: number, upstreamId: number, readService: (item: number) => Promise<Service | null>): Promise<boolean> {
    const journal = this.store.openJournal(item);
    const lic = this.store.license(this.module, upstreamId);
    if (!lic || lic.item !== item || journal?.kind !== 'reuse' || journal.upstreamId !== upstreamId) return false;
    log.warn(`license ${upstreamId}: reserved for service ${item} by a pool re-use that did not finish (started ${journal.startedAt}); returning it to the pool`);
    await this.putBack(await readService(item), lic, journal, null, 'returned to the pool: the re-use did not finish');
    return true;
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
    const lic = this.store.bindOrdered(
      { module: this.module, upstreamId: id, item: service.id, pricelist: need.pricelist, tariffName: '', period: need.period, ip: need.ip, expiredate: null, ipChangeDate: this.today, keyChangeDate: this.today, hasKey: false },
      journal.id,
      `ordered license ${id}`,
    );
    // Under the service's lock nobody else binds this service: a refusal is a broken invariant.
    if (!lic) throw new StateError(`license ${id}, just ordered for service ${service.id}, could not be recorded: the state already has it or the service has another license`);
    this.ledger({ kind: 'order', upstreamId: id, item: service.id, pricelist: need.pricelist, period: need.period });
    log.info(`service ${service.id}: ordered license ${id}`);
    return lic;
  }

  /** SPEC 5.2 step 3: an order that was sent but never recorded. Find it upstream and adopt it. */
  private async adoptOrder(service: Service, journal: JournalEntry): Promise<ManagedLicense | null> {
    let found: UpstreamLicense | undefined;
    if (journal.upstreamId !== null) {
      found = await this.upstream.get(journal.upstreamId);
    } else {
      // "Not in it" means not ordered only for a list that two whole reads agree on (SPEC 5.9: one
      // read can be complete by count and miss a license); IPs compared canonically (an upstream
      // may write an IPv6 address otherwise than it was sent).
      const candidates = (await this.upstream.listAgreed()).filter(
        (u) => u.licname === licnameOf(service.id) && sameIp(u.ip, journal.ip) && u.pricelist === journal.pricelist && u.status !== STATUS.deleted && !this.store.isKnown(u.id),
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
    const lic = this.store.bindOrdered({ module: this.module, upstreamId: u.id, item: service.id, ...factsOf(u, null) }, journal.id, `adopted license ${u.id}`);
    if (!lic) throw new StateError(`license ${u.id}, ordered for service ${service.id} by an interrupted run, could not be recorded: the state already has it or the service has another license`);
    log.warn(`service ${service.id}: adopted license ${u.id} ordered by an interrupted run (no second purchase)`);
    return lic;
  }

  /** SPEC 5.2 step 6: key, renewal, and the service's params. */
  private async afterBinding(service: Service, lic: ManagedLicense, need: Need, active: boolean): Promise<void> {
    let u = this.reusedView.get(lic.upstreamId) ?? (await this.upstream.get(lic.upstreamId));
    if (!u.lickey) u = await this.waitForKey(lic.upstreamId, u);
    u = await this.renew(service, u, active, need.period);
    this.recordFacts(this.store.license(this.module, lic.upstreamId) ?? lic, u);
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
    let period = lic.period ?? u.period ?? 1;
    try {
      period = licensePeriod({ period: parseServicePeriod(service.period), itemtype: service.itemtype, pricelist: service.pricelist }, this.store.periodRules(this.module));
    } catch (e) {
      if (!(e instanceof BadInputError)) throw e;
      log.warn(`service ${service.id}: period "${service.period}" unknown; renewing by the license's own period ${period}`);
    }
    u = await this.renew(service, u, active, period);
    this.recordFacts(lic, u);
    if (u.expiredate && u.expiredate !== service.licenseExpiredate) await this.deps.host.saveParam(service.id, 'license_expiredate', u.expiredate);
    return u;
  }

  /** SPEC 5.3. One period per application: maintain runs daily, so a service paid a year ahead is
   *  covered month by month. A lifetime target cannot prolong a term license: its own period is used. */
  private async renew(service: Service, u: UpstreamLicense, active: boolean, period: number): Promise<UpstreamLicense> {
    if (u.period === null) {
      if (active) log.warn(`license ${u.id} of service ${service.id}: its period is unknown upstream; not prolonged until it is known`);
      return u;
    }
    const facts = { licensePeriod: u.period, licenseExpires: u.expiredate, serviceExpires: service.expiredate, serviceActive: active, today: this.today };
    if (!needsRenewal(facts)) return u;
    const by = period === 0 ? u.period : period;
    log.info(`license ${u.id} of service ${service.id}: expires ${u.expiredate}, service paid until ${service.expiredate}; prolonging by ${by} month(s)`);
    const newExpire = await this.upstream.prolong(u.id, by);
    this.ledger({ kind: 'prolong', upstreamId: u.id, item: service.id, pricelist: u.pricelist, period: by });
    return { ...u, expiredate: newExpire, status: u.status };
  }

  /**
   * SPEC 5.4 / 5.8 point 4: takes the license off the service (compare-and-set), then releases it
   * upstream. If the licensing server fails in between, the license stays 'releasing' (in nobody's
   * hands, not in the pool) and the error propagates: the rerun finishes the release.
   */
  async release(item: number, lic: ManagedLicense): Promise<void> {
    let taken = this.store.unbind(lic);
    if (!taken) {
      const cur = this.store.license(lic.module, lic.upstreamId);
      taken = cur && cur.item === item ? this.store.unbind(cur) : null;
      if (!taken) return this.leftToOther(lic);
    }
    await this.finishRelease(taken);
  }

  /** Paid time left (or unknown) → the pool; a known past expiry → deleted. "Not found" counts as released. */
  private async finishRelease(taken: ManagedLicense): Promise<void> {
    const id = taken.upstreamId;
    let u: UpstreamLicense;
    try {
      u = await this.upstream.get(id);
    } catch (e) {
      if (!(e instanceof LicenseMissingError)) throw e;
      if (!this.store.markGone(taken)) return this.leftToOther(taken);
      if (hasPaidTime(taken.period, taken.expiredate, this.today)) log.error(`license ${id} no longer exists upstream although it was paid until ${taken.period === 0 ? 'lifetime' : taken.expiredate}: its paid time is lost (reconcile shows it as lost)`);
      else log.info(`license ${id} no longer exists upstream; counted as released`);
      return;
    }
    const facts = factsOf(u, taken);
    const paid = paidTime(facts.period, facts.expiredate, this.today);
    if (u.status !== STATUS.deleted && paid !== 'no') {
      if (u.status === STATUS.active) await this.upstream.suspend(id);
      if (u.licname !== FREE_LICNAME || u.autoprolong) await this.upstream.edit(id, { licname: FREE_LICNAME, autoprolong: false });
      if (!this.store.settle(taken, 'free', facts)) return this.leftToOther(taken);
      if (paid === 'unknown') log.warn(`license ${id} released into the pool with its paid time unknown (period ${u.period ?? '?'}, expires ${u.expiredate ?? '?'}): kept, not deleted; not re-used until maintain learns its expiry`);
      else log.info(`license ${id} released into the pool (paid until ${facts.period === 0 ? 'lifetime' : facts.expiredate})`);
      return;
    }
    if (u.status !== STATUS.deleted) {
      try {
        await this.upstream.delete(id);
      } catch (e) {
        if (!(e instanceof LicenseMissingError)) throw e;
      }
    }
    if (!this.store.markGone(taken, facts)) return this.leftToOther(taken);
    log.info(`license ${id} had no paid time left (expired ${facts.expiredate}); deleted upstream`);
  }

  // --- records -------------------------------------------------------------------------------

  /** What was spent, for period advice (`advise`): never a reason to fail a command that has paid. */
  private ledger(p: Omit<Purchase, 'module' | 'day'>): void {
    try {
      this.store.recordPurchase({ ...p, module: this.module, day: this.today });
    } catch (e) {
      log.warn(`could not record the ${p.kind} of license ${p.upstreamId} for period advice: ${(e as Error).message}`);
    }
  }

  /** Writes the upstream's facts over the row as read (never its state or service). If another
   *  process changed the row meanwhile, the facts go onto the fresh row only when it still serves
   *  the same service in the same state; otherwise they are dropped (the next read brings them). */
  private recordFacts(read: ManagedLicense, u: UpstreamLicense, partial = false): ManagedLicense {
    const facts = factsOf(u, read, partial);
    if (sameFacts(read, facts)) return read;
    const written = this.store.refresh(read, facts);
    if (written) return written;
    const cur = this.store.license(read.module, read.upstreamId);
    if (cur && cur.state === read.state && cur.item === read.item) return this.store.refresh(cur, factsOf(u, cur, partial)) ?? cur;
    return cur ?? read;
  }

  private leftToOther(lic: ManagedLicense): void {
    log.warn(`license ${lic.upstreamId} was changed by another process meanwhile; left to it`);
  }

  private changedMeanwhile(lic: ManagedLicense): ConcurrentChangeError {
    return new ConcurrentChangeError(lic.upstreamId);
  }

  /** Clears the service's license params (saveparam with an empty value); returns the service as it now is. */
  private async clearServiceParams(service: Service): Promise<Service> {
    const h = this.deps.host;
    if (service.licenseId !== null) await h.saveParam(service.id, 'license_id', '');
    if (service.lickey) await h.saveSecretParam(service.id, 'lickey', ''); // lickey only ever through -e
    if (service.licenseExpiredate) await h.saveParam(service.id, 'license_expiredate', '');
    return { ...service, licenseId: null, lickey: '', licenseExpiredate: null };
  }

  private async saveServiceParams(service: Service, u: UpstreamLicense): Promise<void> {
    const h = this.deps.host;
    if (service.licenseId !== u.id) await h.saveParam(service.id, 'license_id', String(u.id));
    if (u.lickey && u.lickey !== service.lickey) await h.saveSecretParam(service.id, 'lickey', u.lickey);
    if (u.expiredate && u.expiredate !== service.licenseExpiredate) await h.saveParam(service.id, 'license_expiredate', u.expiredate);
  }

  private logDrift(lic: ManagedLicense, u: UpstreamLicense): void {
    if (!sameIp(u.ip, lic.ip)) log.warn(`license ${lic.upstreamId}: IP drift, local ${lic.ip}, upstream ${u.ip}`);
    if (u.pricelist !== lic.pricelist) log.warn(`license ${lic.upstreamId}: tariff drift, local ${lic.pricelist}, upstream ${u.pricelist}`);
    const expected = lic.state === 'suspended' ? STATUS.suspended : STATUS.active;
    if (u.status !== expected) log.warn(`license ${lic.upstreamId}: status drift, local ${lic.state}, upstream status ${u.status}`);
  }
}
