// Seeded customer churn for period advice: services opening, paying and closing over months, in
// three shapes (growing, steady, shrinking). The same story drives the pure replay (as
// ServiceHistory) and the real module commands (as dated events) in the tests.
import { addMonths } from '../../src/dates.js';
import { dayNumber, dayString } from '../../src/advise/calendar.js';
import type { ServiceHistory } from '../../src/advise/model.js';
import { prng } from '../support/prng.js';

export type Shape = 'growing' | 'steady' | 'shrinking';

export interface ChurnService {
  item: number;
  tariff: string;
  hostPricelist: string;
  period: number;
  open: string;
  close: string | null;
  /** Paid-until after each payment: [day paid, paid until]; the first is the open day. */
  paid: Array<[string, string]>;
}

export interface ChurnOptions {
  seed: number;
  shape: Shape;
  services: number;
  start: string;
  months: number;
  tariffs?: readonly string[];
  periods?: readonly number[];
  /** BILLmanager tariff plans (ids) the services are spread over. */
  plans?: readonly string[];
  firstItem?: number;
}

export function churn(o: ChurnOptions): ChurnService[] {
  if ((o.periods ?? []).some((p) => p <= 0)) throw new Error('churn: service periods are months (> 0)');
  const rnd = prng(o.seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const tariffs = o.tariffs ?? ['3541', '4601'];
  const periods = o.periods ?? [1, 1, 1, 12, 3];
  const plans = o.plans ?? ['20', '21'];
  const start = dayNumber(o.start);
  const end = dayNumber(addMonths(o.start, o.months));
  const span = end - start;
  const out: ChurnService[] = [];
  for (let i = 0; i < o.services; i++) {
    // Growing: few at the start, opens spread over the year, long lives. Shrinking: most open on
    // day one and leave during the year. Steady: in between.
    const atStart = o.shape === 'growing' ? rnd() < 0.15 : o.shape === 'steady' ? rnd() < 0.5 : rnd() < 0.85;
    const open = atStart ? start : start + 1 + Math.floor(rnd() * (span - 2));
    const meanLife = o.shape === 'growing' ? span * 1.5 : o.shape === 'steady' ? span * 0.6 : span * 0.4;
    const life = Math.max(3, Math.floor(-Math.log(1 - rnd()) * meanLife));
    const close = open + life < end ? open + life : null;
    const period = pick(periods);
    const openDay = dayString(open);
    const paid: Array<[string, string]> = [];
    for (let k = 1; ; k++) {
      const from = k === 1 ? openDay : paid.at(-1)![1];
      const fromN = dayNumber(from);
      if (fromN >= end || (close !== null && fromN >= close)) break;
      paid.push([from, addMonths(openDay, k * period)]);
    }
    out.push({ item: (o.firstItem ?? 101) + i, tariff: pick(tariffs), hostPricelist: pick(plans), period, open: openDay, close: close === null ? null : dayString(close), paid });
  }
  return out;
}

export function asHistories(list: readonly ChurnService[]): ServiceHistory[] {
  return list.map((s) => ({
    item: s.item,
    tariff: s.tariff,
    hostPricelist: s.hostPricelist,
    itemtype: 'soft',
    period: s.period,
    open: dayNumber(s.open),
    close: s.close === null ? null : dayNumber(s.close),
    paid: s.paid.map(([from, until]) => ({ from: dayNumber(from), until: dayNumber(until) })),
  }));
}
