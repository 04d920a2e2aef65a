// `maintain --dry-run` (SPEC 3 v3) and the parts of `diagnose` that say what the module would do:
// the same decisions as `maintain` (pool/lifecycle.ts, pool/renewal.ts) and `open` (the period rule,
// the pool's choice), made from reads only — the state opened read-only, the host's `soft` list and
// `soft.edit`, the licensing server's license list, `soft.edit` without `sok` and `pricelist.export`
// for the prices. Nothing here writes: no transition of the store, no upstream change, no host write.
import type { Paths } from '../config.js';
import { addDays, addMonths, today as todayOf, type Day } from '../dates.js';
import { asModuleError, BadInputError, LicenseMissingError, NoStateError } from '../errors.js';
import { Host, ServiceNotFoundError } from '../host/host.js';
import type { Service, ServiceListRow } from '../host/types.js';
import { log } from '../log.js';
import { eligibleFromPool, hasPaidTime, leftReservations, monthPassed, paidTime } from '../pool/lifecycle.js';
import { LICENSE_PERIODS, parseServicePeriod } from '../pool/periods.js';
import { needsRenewal, nothingToDo, RENEWAL_LEAD_DAYS } from '../pool/renewal.js';
import { LicenseStore, type ManagedLicense, type PeriodRule } from '../pool/store.js';
import { LicensingClient, priceOf } from '../upstream/client.js';
import { STATUS, type Tariff, type UpstreamLicense } from '../upstream/types.js';
import { periodName } from './pool.js';

// ------------------------------------------------------------------------------ money

/** "10.00 EUR", or "price unknown" where the licensing server's export gives none. */
export function priceWords(tariffs: readonly Tariff[] | null, pricelist: string, period: number): string {
  const p = priceOf(tariffs, pricelist, period);
  return p ? `${p.cost!.toFixed(2)}${p.currency ? ` ${p.currency}` : ''}` : 'price unknown';
}

/** Sums per currency, so that two currencies are never added up. */
class Totals {
  private readonly sums = new Map<string, number>();
  unknown = 0;
  add(tariffs: readonly Tariff[] | null, pricelist: string, period: number): void {
    const p = priceOf(tariffs, pricelist, period);
    if (!p) {
      this.unknown++;
      return;
    }
    const key = p.currency ?? '';
    this.sums.set(key, Math.round(((this.sums.get(key) ?? 0) + p.cost!) * 100) / 100);
  }
  words(): string {
    const parts = [...this.sums].map(([c, v]) => `${v.toFixed(2)}${c ? ` ${c}` : ''}`);
    if (this.unknown) parts.push(`${this.unknown} at a price unknown`);
    return parts.length ? parts.join(' + ') : '0.00';
  }
}

/** The licensing server's prices, or null (unknown) when its export cannot be read: a dry run
 *  still says what it would do, only without prices. */
async function tariffsOf(upstream: LicensingClient, module: number): Promise<Tariff[] | null> {
  try {
    return await upstream.tariffs();
  } catch (e) {
    log.warn(`module ${module}: the licensing server's prices (pricelist.export) could not be read: ${asModuleError(e).message}`);
    return null;
  }
}

// ------------------------------------------------------------------------------ the period rule

export interface PeriodChoice {
  /** The license period the service buys. */
  period: number;
  /** The rule that decided it, or null (no rule: the service period itself, or 1 month). */
  rule: PeriodRule | null;
  why: string;
}

/** Which license period a service buys and why — the same choice as pool/periods.ts licensePeriod(). */
export function explainPeriod(service: { period: number; itemtype: string; pricelist: string }, rules: readonly PeriodRule[]): PeriodChoice {
  const matching = rules.filter((r) => r.source === service.period);
  const limited = matching.find((r) => r.itemtype === service.itemtype && r.pricelist !== null && String(r.pricelist) === service.pricelist);
  const global = matching.find((r) => r.itemtype === null && r.pricelist === null);
  const rule = limited ?? global ?? null;
  if (rule) {
    const scope = rule === limited ? `limited to product type ${rule.itemtype}, tariff plan ${rule.pricelist}` : 'for all tariff plans';
    const beaten = rule === limited && global ? ` (it wins over global rule ${global.id})` : '';
    return { period: rule.target, rule, why: `rule ${rule.id}: ${periodName(rule.source)} → ${periodName(rule.target)}, ${scope}${beaten}` };
  }
  const own = (LICENSE_PERIODS as readonly number[]).includes(service.period);
  const others = rules.filter((r) => r.source === service.period).length;
  const none = others ? `no rule for ${periodName(service.period)} matches product type ${service.itemtype || '?'}, tariff plan ${service.pricelist || '?'}` : `no rule for ${periodName(service.period)}`;
  return own
    ? { period: service.period, rule: null, why: `${none}: the service period itself` }
    : { period: 1, rule: null, why: `${none}: licenses of ${periodName(service.period)} are not sold, so 1 month` };
}

// ------------------------------------------------------------------------------ the pool's choice

export interface PoolChoice {
  license: ManagedLicense | null;
  /** One sentence: which one and why, or why none. */
  why: string;
}

function whyNotReusable(l: ManagedLicense, day: Day): string {
  const paid = paidTime(l.period, l.expiredate, day);
  if (paid === 'no') return `${l.upstreamId} expired on ${l.expiredate}`;
  if (paid === 'unknown') return `${l.upstreamId} has paid time the licensing server did not tell (period ${l.period ?? '?'}, expires ${l.expiredate ?? '?'})`;
  if (!monthPassed(l.ipChangeDate, day)) return `${l.upstreamId} changed its IP on ${l.ipChangeDate}, first allowed ${addMonths(l.ipChangeDate!, 1)}`;
  if (!monthPassed(l.keyChangeDate, day)) return `${l.upstreamId} changed its key on ${l.keyChangeDate}, first allowed ${addMonths(l.keyChangeDate!, 1)}`;
  return `${l.upstreamId} is eligible`;
}

/**
 * The pooled license `open` would take for a service needing `pricelist` (SPEC 5.5, the order of
 * LicenseStore.poolCandidates), or why none — read from the state only, reserving nothing. (The
 * licensing server is asked at the re-use itself; a license it no longer has is skipped then.)
 */
export function poolChoice(store: LicenseStore, module: number, pricelist: string, day: Day): PoolChoice {
  for (const cand of store.poolCandidates(module, pricelist, day, addDays(day, RENEWAL_LEAD_DAYS))) {
    if (eligibleFromPool(cand, day)) {
      const until = cand.period === 0 ? 'lifetime' : `paid until ${cand.expiredate}`;
      return { license: cand, why: `pooled license ${cand.upstreamId} (${cand.period === null ? '?' : periodName(cand.period)}, ${until}, IP ${cand.ip || '?'}): the eligible one that expires first` };
    }
  }
  const free = store.licenses(module).filter((l) => l.state === 'free' && l.pricelist === pricelist);
  if (free.length === 0) return { license: null, why: `the pool has no license of tariff ${pricelist}: a new one would be ordered` };
  const reasons = free.map((l) => whyNotReusable(l, day));
  return { license: null, why: `the pool has ${free.length} license(s) of tariff ${pricelist}, none eligible: ${reasons.join('; ')} — a new one would be ordered` };
}

// ------------------------------------------------------------------------------ maintain --dry-run

type Action = 'renew' | 'key' | 'drop' | 'autoprolong' | 'release' | 'return' | 'leak' | 'lost' | 'bind' | 'unbound';

interface Step {
  action: Action;
  line: string;
}

/** The period maintain renews by (lifecycle renewAndRecord): the service's rule, else the license's own. */
function renewalPeriod(service: Service, lic: ManagedLicense, u: UpstreamLicense, rules: readonly PeriodRule[]): number {
  let period = lic.period ?? u.period ?? 1;
  try {
    period = explainPeriod({ period: parseServicePeriod(service.period), itemtype: service.itemtype, pricelist: service.pricelist }, rules).period;
  } catch (e) {
    if (!(e instanceof BadInputError)) throw e;
  }
  // A lifetime target cannot prolong a term license: its own period is used (lifecycle renew).
  return period === 0 ? (u.period ?? 1) : period;
}

/**
 * maintain's part of SPEC 5.9 (pool/migrate.ts maintainUnbound), from reads only: a live service of
 * the covered modules with no license bound gets its one candidate bound as it is, or is a failure
 * of the run (none, or more than one).
 */
async function unboundDryRun(store: LicenseStore, host: Host, onlyModule: number | null, stateModules: readonly number[], services: readonly ServiceListRow[], steps: Step[], fail: (what: string, e: unknown) => void): Promise<void> {
  const { candidatesFor, describeCandidates, isLiveStatus, ownModulesOfHost, panelsOf } = await import('../pool/migrate.js');
  const modules = onlyModule !== null ? [onlyModule] : await ownModulesOfHost(host, stateModules);
  const unbound = services.filter((s) => s.processingmodule !== null && modules.includes(s.processingmodule) && isLiveStatus(s.status) && !store.licenseOfService(s.id) && store.releasingFrom(s.id).length === 0);
  if (unbound.length === 0) return;
  const panels = await panelsOf(host, unbound.map((s) => s.id));
  const managed = store.managedUpstreamIds();
  const accounts = new Map<number, Promise<UpstreamLicense[]>>();
  const account = (m: number) => {
    let a = accounts.get(m);
    if (!a) {
      a = host.readModule(m).then((settings) => new LicensingClient(settings).list());
      accounts.set(m, a);
    }
    return a;
  };
  for (const row of unbound) {
    const p = panels.get(row.id)!;
    if (p.panel === 'nopanel') continue;
    try {
      if (p.panel === null) throw new BadInputError('panel', '', p.error);
      const cands = candidatesFor(row, p.panel, await account(row.processingmodule!), managed);
      if (cands.length === 1) {
        steps.push({ action: 'bind', line: `bind    license ${cands[0]!.id} to service ${row.id} as it is (bought outside the module: key, IP and period kept, renamed Item #${row.id}; nothing bought): ${describeCandidates(cands)}` });
      } else {
        steps.push({
          action: 'unbound',
          line: `unbound service ${row.id} (module ${row.processingmodule}, IP ${row.ip || '(none)'}, tariff ${p.panel}): ${cands.length === 0 ? 'no license on the account could be its own' : `${cands.length} licenses could be its own: ${describeCandidates(cands)}`}; left for the administrator (reconcile shows it), a failure of the run`,
        });
      }
    } catch (e) {
      fail(`service ${row.id} (no license bound)`, e);
    }
  }
}

export async function maintainDryRun(p: Paths, onlyModule: number | null): Promise<number> {
  const day = todayOf();
  let store: LicenseStore;
  try {
    store = LicenseStore.open(p.db, { readonly: true });
  } catch (e) {
    if (!(e instanceof NoStateError)) throw e;
    process.stdout.write(`maintain --dry-run: nothing to do: ${e.message}\n`);
    return 0;
  }
  const host = new Host(p.mgrctl);
  const steps: Step[] = [];
  const renewals = new Totals();
  let quiet = 0;
  let failed = 0;
  const fail = (what: string, e: unknown) => {
    failed++;
    const msg = asModuleError(e).message;
    process.stderr.write(`pmisplicense maintain --dry-run: ${what}: ${msg}\n`);
  };
  try {
    const licenses = store.licenses(onlyModule).filter((l) => l.state !== 'gone');
    const modules = [...new Set(licenses.map((l) => l.module))];
    let services: Map<number, ServiceListRow> | null = null;
    try {
      services = new Map((await host.listServices()).map((s) => [s.id, s]));
    } catch (e) {
      log.warn(`maintain --dry-run: the host's service list could not be read (${asModuleError(e).message})`);
    }
    for (const module of modules) {
      const mine = licenses.filter((l) => l.module === module);
      let upstream: LicensingClient;
      try {
        upstream = new LicensingClient(await host.readModule(module));
      } catch (e) {
        for (const lic of mine) fail(`license ${lic.upstreamId} (module ${module} unusable)`, e);
        continue;
      }
      const [listedResult, tariffs] = await Promise.all([
        upstream.list().then((l) => new Map(l.map((u) => [u.id, u])), (e: unknown) => asModuleError(e)),
        tariffsOf(upstream, module),
      ]);
      const listed = listedResult instanceof Map ? listedResult : null;
      const rules = store.periodRules(module);
      // Pool re-uses a killed process left reserved: maintain returns them to the pool (issue 17).
      const reserved = leftReservations(store, module);
      /** The license's upstream view: the list's row, or its form (a read) when it is not listed. */
      const view = async (lic: ManagedLicense): Promise<UpstreamLicense | null> => {
        if (!listed) throw listedResult;
        const row = listed.get(lic.upstreamId);
        if (row) return row;
        try {
          return await upstream.get(lic.upstreamId);
        } catch (e) {
          if (e instanceof LicenseMissingError) return null;
          throw e;
        }
      };
      for (const lic of mine) {
        try {
          if (lic.state === 'free') {
            const u = await view(lic);
            if (!u || u.status === STATUS.deleted) {
              const lost = hasPaidTime(lic.period, lic.expiredate, day);
              steps.push({ action: 'drop', line: `drop    license ${lic.upstreamId} (pooled): the licensing server no longer has it; it leaves the pool${lost ? ` (paid ${lic.period === 0 ? 'for life' : `until ${lic.expiredate}`}: that paid time is lost, a failure of the run)` : ''}` });
              continue;
            }
            const period = u.period !== null && [0, 1, 12].includes(u.period) ? u.period : null;
            if (paidTime(period, u.expiredate, day) === 'no') {
              steps.push({ action: 'drop', line: `drop    license ${lic.upstreamId} (pooled, tariff ${lic.pricelist}): expired on ${u.expiredate}; it leaves the pool (the licensing server deletes it 30 days later)` });
              continue;
            }
            if (u.autoprolong) {
              steps.push({ action: 'autoprolong', line: `autorenew license ${lic.upstreamId} (pooled): auto-renewal is on at the licensing server; it would be turned off` });
              continue;
            }
            quiet++;
          } else if (lic.state === 'releasing') {
            steps.push({ action: 'release', line: `release license ${lic.upstreamId}: finish its release from service ${lic.releasedFrom} (into the pool, or deleted when no paid time is left)` });
          } else if (reserved.has(lic.upstreamId)) {
            steps.push({ action: 'return', line: `return  license ${lic.upstreamId}: reserved for service ${lic.item} by a pool re-use that did not finish; it would go back to the pool (free.lic, auto-renewal off, suspended), the service's open then takes what the pool gives or orders` });
          } else {
            const item = lic.item!;
            const row = services?.get(item);
            if (services && (!row || row.status === 4)) {
              steps.push({ action: 'leak', line: `leak    license ${lic.upstreamId} of service ${item}: BILLmanager ${row ? 'shows the service closed' : 'no longer knows the service'}; left for the administrator (reconcile --apply releases it), a failure of the run` });
              continue;
            }
            const listedRow = listed?.get(lic.upstreamId);
            if (listedRow && nothingToDo(lic, listedRow, day)) {
              quiet++;
              continue;
            }
            let service: Service;
            try {
              service = await host.readService(item);
            } catch (e) {
              if (e instanceof ServiceNotFoundError) {
                steps.push({ action: 'leak', line: `leak    license ${lic.upstreamId} of service ${item}: BILLmanager no longer knows the service; left for the administrator` });
                continue;
              }
              throw e;
            }
            let u: UpstreamLicense;
            try {
              u = await upstream.get(lic.upstreamId);
            } catch (e) {
              if (!(e instanceof LicenseMissingError)) throw e;
              steps.push({ action: 'lost', line: `lost    license ${lic.upstreamId} of service ${item}: the licensing server no longer has it; it would be marked gone and the service's params cleared (the service needs open), a failure of the run` });
              continue;
            }
            let did = false;
            if (u.period !== null) {
              const active = service.status === 2;
              if (needsRenewal({ licensePeriod: u.period, licenseExpires: u.expiredate, serviceExpires: service.expiredate, serviceActive: active, today: day })) {
                const by = renewalPeriod(service, lic, u, rules);
                renewals.add(tariffs, u.pricelist, by);
                steps.push({
                  action: 'renew',
                  line: `renew   license ${lic.upstreamId} of service ${item} (tariff ${u.pricelist}${u.pricelistName ? ` ${u.pricelistName}` : ''}): expires ${u.expiredate}, service paid until ${service.expiredate}; prolong by ${periodName(by)}: ${priceWords(tariffs, u.pricelist, by)}`,
                });
                did = true;
              }
            }
            if (u.lickey && u.lickey !== service.lickey) {
              steps.push({ action: 'key', line: `key     license ${lic.upstreamId} of service ${item}: the licensing server has ${service.lickey ? 'a new key' : 'its key now'}; it would be written into the service` });
              did = true;
            }
            if (!did) quiet++;
          }
        } catch (e) {
          fail(`license ${lic.upstreamId}`, e);
        }
      }
    }
    if (services) {
      try {
        await unboundDryRun(store, host, onlyModule, modules, [...services.values()], steps, fail);
      } catch (e) {
        fail('services with no license bound', e);
      }
    }
  } finally {
    store.close();
  }
  const count = (a: Action) => steps.filter((s) => s.action === a).length;
  const out = [`maintain --dry-run: what a run on ${day} would do${onlyModule !== null ? ` for module ${onlyModule}` : ''} (nothing is changed)`];
  for (const s of steps) out.push(`  ${s.line}`);
  if (steps.length === 0) out.push('  nothing to do');
  out.push(
    `would renew ${count('renew')} license(s) for ${renewals.words()}, fill in ${count('key')} key(s), drop ${count('drop')} pooled license(s)` +
      `${count('autoprolong') ? `, turn auto-renewal off on ${count('autoprolong')}` : ''}${count('release') ? `, finish ${count('release')} release(s)` : ''}` +
      `${count('return') ? `, return ${count('return')} reserved license(s) to the pool` : ''}${count('bind') ? `, bind ${count('bind')} existing license(s)` : ''}` +
      `; ${count('leak') + count('lost') + count('unbound')} for the administrator; ${quiet} need nothing`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return failed === 0 ? 0 : 1;
}
