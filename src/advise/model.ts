// The words of period advice: a service's history, a price table, a rule set and what a replay
// of the module under it spends. Pure data, no I/O.
import type { PeriodRule } from '../pool/store.js';
import type { Tariff } from '../upstream/types.js';

/** One customer service of the module, as its history shows it. Days are day numbers (calendar.ts). */
export interface ServiceHistory {
  item: number;
  /** The licensing server's tariff (the service's panel), e.g. '3541'. */
  tariff: string;
  /** BILLmanager's tariff plan of the service and its product type: the scope of a limited rule. */
  hostPricelist: string;
  itemtype: string;
  /** BILLmanager period code (months; 0 lifetime, -100 trial, -50 day). */
  period: number;
  open: number;
  /** The day it was closed (no license needed from that day on); null while it lives. */
  close: number | null;
  /** Paid-until steps: from day `from` on, the service is paid until `until` (inclusive). Sorted by `from`. */
  paid: ReadonlyArray<{ from: number; until: number }>;
}

/** Prices per licensing-server tariff and license period (1 month, 12 months, 0 lifetime). A
 *  missing price is unknown, never 0. */
export type PriceTable = Record<string, Partial<Record<'1' | '12' | '0', number>>>;

export type Rule = Omit<PeriodRule, 'id' | 'module'>;

export interface RuleSet {
  /** 'none', 'year', 'per-plan', 'current'. */
  key: string;
  name: string;
  rules: Rule[];
}

/** What a replay under one rule set spends (money in cents, to add exactly). */
export interface Spend {
  cents: number;
  orders: number;
  renewals: number;
  reuses: number;
  /** Per licensing-server tariff. */
  byTariff: Record<string, number>;
}

export function priceCents(prices: PriceTable, tariff: string, period: number): number | null {
  const p = prices[tariff]?.[String(period) as '1' | '12' | '0'];
  return p === undefined || !Number.isFinite(p) ? null : Math.round(p * 100);
}

/** pricelist.export in the replay's terms: a price per tariff and period; unknown ones left out. */
export function priceTable(tariffs: readonly Tariff[]): { prices: PriceTable; currency: string } {
  const prices: PriceTable = {};
  let currency = '';
  for (const t of tariffs) {
    const row: PriceTable[string] = {};
    for (const p of t.prices) {
      if (p.cost === null || ![0, 1, 12].includes(p.period)) continue;
      row[String(p.period) as '1' | '12' | '0'] = p.cost;
      currency ||= p.currency ?? '';
    }
    prices[t.id] = row;
  }
  return { prices, currency };
}
