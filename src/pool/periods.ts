// Period mapping, "Periods comparison" (SPEC 5.1): which license period a service's period buys.
import { BadInputError } from '../errors.js';
import type { PeriodRule } from './store.js';

/** BILLmanager period codes (months; 0 lifetime, -100 trial, -50 day). */
export const SERVICE_PERIODS = [1, 3, 6, 12, 24, 36, 0, -100, -50] as const;
/** What the licensing server sells. */
export const LICENSE_PERIODS = [1, 12, 0] as const;

export function parseServicePeriod(raw: string, what = 'period'): number {
  const s = raw.trim();
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!(SERVICE_PERIODS as readonly number[]).includes(n)) {
    throw new BadInputError(what, raw, `"${raw}" is not a BillManager period code (${SERVICE_PERIODS.join(', ')}).`);
  }
  return n;
}

export function parseLicensePeriod(raw: string, what = 'target'): number {
  const s = raw.trim();
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!(LICENSE_PERIODS as readonly number[]).includes(n)) {
    throw new BadInputError(what, raw, `"${raw}" is not a license order period: licenses are sold for 1 (month), 12 (year) or 0 (lifetime).`);
  }
  return n;
}

export interface ServiceTariff {
  period: number;
  itemtype: string;
  pricelist: string;
}

/** The rule's target (a tariff-limited rule beats a global one), else the service period itself;
 *  a period the licensing server does not sell becomes 1 month. */
export function licensePeriod(service: ServiceTariff, rules: readonly PeriodRule[]): number {
  const matching = rules.filter((r) => r.source === service.period);
  const limited = matching.find((r) => r.itemtype === service.itemtype && r.pricelist !== null && String(r.pricelist) === service.pricelist);
  const global = matching.find((r) => r.itemtype === null && r.pricelist === null);
  const period = limited?.target ?? global?.target ?? service.period;
  return (LICENSE_PERIODS as readonly number[]).includes(period) ? period : 1;
}
