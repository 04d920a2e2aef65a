// The module replayed day by day under one rule set (SPEC 5.1–5.5), as it runs: an open takes the
// pooled license 5.5 picks or buys one of the period 5.1 gives; a bound license is renewed by 5.3
// (within the 5-day lead, only while the service is paid beyond it); a close puts a license with
// paid time into the pool; a pooled license that expires leaves it. Pure: no I/O, no clock.
//
// Within one day the order is the one BILLmanager and cron give the module: closes, then opens (by
// service id), then payments (prolong), then the daily maintain. Tariffs never share a license, so
// each licensing-server tariff is replayed on its own (advise re-runs only the tariffs a rule touches).
import { licensePeriod } from '../pool/periods.js';
import { RENEWAL_LEAD_DAYS } from '../pool/renewal.js';
import type { PeriodRule } from '../pool/store.js';
import { plusMonths } from './calendar.js';
import { priceCents, type PriceTable, type Rule, type ServiceHistory, type Spend } from './model.js';

/** A tariff whose price for a period the replay needed is unknown: it cannot be costed. */
export class UnknownPriceError extends Error {
  constructor(
    readonly tariff: string,
    readonly period: number,
  ) {
    super(`the licensing server gives no price for tariff ${tariff}, period ${period}`);
  }
}

const LIFETIME = Number.POSITIVE_INFINITY;

function asPeriodRules(rules: readonly Rule[]): PeriodRule[] {
  return rules.map((r, i) => ({ ...r, id: i + 1, module: 0 }));
}

/** The license period each service gets under the rules (SPEC 5.1). */
export function licensePeriods(services: readonly ServiceHistory[], rules: readonly Rule[]): number[] {
  const pr = asPeriodRules(rules);
  // Few distinct (period, product type, plan) triples among many services: each is looked up once.
  const seen = new Map<string, number>();
  return services.map((s) => {
    const key = `${s.period}\u0000${s.itemtype}\u0000${s.hostPricelist}`;
    let p = seen.get(key);
    if (p === undefined) {
      p = licensePeriod({ period: s.period, itemtype: s.itemtype, pricelist: s.hostPricelist }, pr);
      seen.set(key, p);
    }
    return p;
  });
}

export function emptySpend(): Spend {
  return { cents: 0, orders: 0, renewals: 0, reuses: 0, byTariff: {} };
}

export function addSpend(a: Spend, b: Spend): Spend {
  const byTariff = { ...a.byTariff };
  for (const [t, c] of Object.entries(b.byTariff)) byTariff[t] = (byTariff[t] ?? 0) + c;
  return { cents: a.cents + b.cents, orders: a.orders + b.orders, renewals: a.renewals + b.renewals, reuses: a.reuses + b.reuses, byTariff };
}

/** Index of the services' days: who opens, closes and pays on each day of [from, to). */
interface Calendar {
  opens: Map<number, number[]>;
  closes: Map<number, number[]>;
  pays: Map<number, Array<[number, number]>>;
}

function push<T>(m: Map<number, T[]>, k: number, v: T): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

/** Paid-until of a service on day d (the last step from on or before d; -Infinity before any). */
export function paidUntilOn(s: ServiceHistory, d: number): number {
  let until = Number.NEGATIVE_INFINITY;
  for (const p of s.paid) {
    if (p.from > d) break;
    until = p.until;
  }
  return until;
}

/** The same services are replayed under several rule sets: their calendar is built once. */
const calendars = new WeakMap<readonly ServiceHistory[], { from: number; to: number; cal: Calendar }>();

function calendarOf(services: readonly ServiceHistory[], from: number, to: number): Calendar {
  const hit = calendars.get(services);
  if (hit && hit.from === from && hit.to === to) return hit.cal;
  const cal = buildCalendar(services, from, to);
  calendars.set(services, { from, to, cal });
  return cal;
}

function buildCalendar(services: readonly ServiceHistory[], from: number, to: number): Calendar {
  const cal: Calendar = { opens: new Map(), closes: new Map(), pays: new Map() };
  services.forEach((s, i) => {
    if (s.open >= to || (s.close !== null && s.close <= Math.max(s.open, from))) return;
    const open = Math.max(s.open, from);
    push(cal.opens, open, i);
    if (s.close !== null && s.close < to) push(cal.closes, s.close, i);
    for (const p of s.paid) if (p.from > open && p.from < to && (s.close === null || p.from < s.close)) push(cal.pays, p.from, [i, p.until] as [number, number]);
  });
  for (const list of cal.opens.values()) list.sort((a, b) => services[a]!.item - services[b]!.item);
  return cal;
}

/**
 * Replays one licensing-server tariff's services over [from, to) (day numbers) under `rules`.
 * Throws UnknownPriceError when a purchase the replay needs has no price.
 */
export function replayTariff(tariff: string, services: readonly ServiceHistory[], rules: readonly Rule[], prices: PriceTable, from: number, to: number): Spend {
  const spend = emptySpend();
  const period = licensePeriods(services, rules);
  const cal = calendarOf(services, from, to);
  const paidUntil = new Float64Array(services.length);
  const licOf = new Int32Array(services.length).fill(-1);
  // Licenses: parallel arrays, id = index = purchase order (the upstream's ids grow the same way).
  const exp: number[] = [];
  const licPeriod: number[] = [];
  /** The first day a license can be re-used: a month after its last key/IP change (SPEC 5.5). */
  const reusableFrom: number[] = [];
  const free: number[] = [];
  const alive = new Set<number>();
  const cost = (p: number): number => {
    const c = priceCents(prices, tariff, p);
    if (c === null) throw new UnknownPriceError(tariff, p);
    spend.cents += c;
    spend.byTariff[tariff] = (spend.byTariff[tariff] ?? 0) + c;
    return c;
  };

  // Renewal is checked where it can fall due (SPEC 5.3 needs the license within the lead): on the
  // day a license enters the lead, and on the days its service opens or pays. Checking every
  // service every day gives the same result and was the bulk of the time at 10 000 services.
  const D = Math.max(0, to - from);
  const checks: number[][] = Array.from({ length: D }, () => []);
  const schedule = (i: number, l: number, d: number): void => {
    if (licPeriod[l] === 0) return;
    const at = Math.max(d + 1, exp[l]! - RENEWAL_LEAD_DAYS);
    if (at < to) checks[at - from]!.push(i);
  };
  const renewIfDue = (i: number, d: number): void => {
    const l = licOf[i]!;
    if (l < 0 || licPeriod[l] === 0) return;
    const e = exp[l]!;
    if (e > d + RENEWAL_LEAD_DAYS || paidUntil[i]! <= e) return;
    const by = period[i] === 0 ? licPeriod[l]! : period[i]!;
    cost(by);
    spend.renewals++;
    exp[l] = plusMonths(e >= d ? e : d, by);
    schedule(i, l, d);
  };
  const paidToday: number[] = [];
  /** Index of the first pooled license expiring after `day` (lifetime ones expire never). */
  const firstAfter = (day: number): number => {
    let lo = 0;
    let hi = free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (exp[free[mid]!]! > day) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  /** Where license l goes in the pool's (expiry, id) order. */
  const insertAt = (l: number): number => {
    let lo = 0;
    let hi = free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = free[mid]!;
      if (exp[m]! > exp[l]! || (exp[m] === exp[l] && m > l)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  for (let d = from; d < to; d++) {
    for (const i of cal.closes.get(d) ?? []) {
      alive.delete(i);
      const l = licOf[i]!;
      if (l < 0) continue;
      licOf[i] = -1;
      // SPEC 5.4: paid time left (or lifetime) → the pool; none → deleted.
      if (exp[l]! >= d) free.splice(insertAt(l), 0, l);
    }
    paidToday.length = 0;
    const opens = cal.opens.get(d);
    if (opens) {
      const leadEnd = d + RENEWAL_LEAD_DAYS;
      for (const i of opens) {
        alive.add(i);
        paidToday.push(i);
        paidUntil[i] = paidUntilOn(services[i]!, d);
        // SPEC 5.5: outlasting the lead, expires first; then lifetime; then within the lead. The pool
        // is kept sorted by (expiry, id), lifetime last, so that is one scan from the first license
        // outlasting the lead, then one from the start; expired ones (at the front) leave it.
        let dead = 0;
        while (dead < free.length && exp[free[dead]!]! < d) dead++;
        if (dead > 0) free.splice(0, dead);
        let best = -1;
        const outlasting = firstAfter(leadEnd);
        for (let j = outlasting; j < free.length && best < 0; j++) if (reusableFrom[free[j]!]! <= d) best = j;
        for (let j = 0; j < outlasting && best < 0; j++) if (reusableFrom[free[j]!]! <= d) best = j;
        if (best >= 0) {
          const l = free[best]!;
          free.splice(best, 1);
          reusableFrom[l] = plusMonths(d, 1);
          licOf[i] = l;
          spend.reuses++;
        } else {
          const p = period[i]!;
          cost(p);
          spend.orders++;
          licOf[i] = exp.length;
          exp.push(p === 0 ? LIFETIME : plusMonths(d, p));
          licPeriod.push(p);
          reusableFrom.push(plusMonths(d, 1));
        }
        schedule(i, licOf[i]!, d);
      }
    }
    for (const [i, until] of cal.pays.get(d) ?? []) {
      paidUntil[i] = until;
      paidToday.push(i);
    }
    // Renewal (SPEC 5.3), as open, prolong and the daily maintain apply it.
    for (const i of paidToday) if (alive.has(i)) renewIfDue(i, d);
    for (const i of checks[d - from]!) if (alive.has(i)) renewIfDue(i, d);
  }
  return spend;
}

/** Groups services by licensing-server tariff. */
export function byTariff(services: readonly ServiceHistory[]): Map<string, ServiceHistory[]> {
  const m = new Map<string, ServiceHistory[]>();
  for (const s of services) {
    const a = m.get(s.tariff);
    if (a) a.push(s);
    else m.set(s.tariff, [s]);
  }
  return m;
}

/** Every tariff replayed under one rule set. */
export function replay(services: readonly ServiceHistory[], rules: readonly Rule[], prices: PriceTable, from: number, to: number): Spend {
  let total = emptySpend();
  for (const [tariff, list] of byTariff(services)) total = addSpend(total, replayTariff(tariff, list, rules, prices, from, to));
  return total;
}
