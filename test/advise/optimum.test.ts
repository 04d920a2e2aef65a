import { expect } from 'chai';
import { advise, adviceLine } from '../../src/advise/advise.js';
import { dayNumber, dayString, plusMonths } from '../../src/advise/calendar.js';
import type { PriceTable, ServiceHistory } from '../../src/advise/model.js';
import { cheapestCover, type LicenseKind } from '../../src/advise/optimum.js';
import { replay } from '../../src/advise/simulate.js';
import { addMonths } from '../../src/dates.js';
import { prng } from '../support/prng.js';
import { asHistories, churn, type Shape } from './churn.js';

/** Every count of licenses bought on every day, cheapest that covers the demand (days in order:
 *  once the licenses starting on day s are chosen, day s's cover is final). */
function bruteForce(demand: number[], kinds: Array<{ cents: number; length: number }>): number {
  const D = demand.length;
  const max = Math.max(...demand);
  const cover = new Array<number>(D + 20).fill(0);
  let best = Infinity;
  const go = (s: number, k: number, cost: number): void => {
    if (cost >= best) return;
    if (s === D) {
      best = cost;
      return;
    }
    if (k === kinds.length) {
      if (cover[s]! < demand[s]!) return;
      go(s + 1, 0, cost);
      return;
    }
    const { cents, length } = kinds[k]!;
    for (let n = 0; n <= max; n++) {
      for (let d = s; d < s + length; d++) cover[d]! += n;
      go(s, k + 1, cost + n * cents);
      for (let d = s; d < s + length; d++) cover[d]! -= n;
    }
  };
  go(0, 0, 0);
  return best;
}

const PRICES: PriceTable = { '3541': { '1': 10, '12': 100 }, '4601': { '1': 20, '12': 200 } };

describe('advise: the offline optimum (min-cost flow)', () => {
  it('equals brute force on 300 small random cases', () => {
    const rnd = prng(16_001);
    for (let c = 0; c < 300; c++) {
      const D = 2 + Math.floor(rnd() * 7);
      const demand = Array.from({ length: D }, () => Math.floor(rnd() * 3));
      const lengths = [1 + Math.floor(rnd() * 3), 2 + Math.floor(rnd() * 5)];
      const kinds = lengths.map((length, i) => ({ cents: 1 + Math.floor(rnd() * 20), length, months: i + 1 }));
      const flow = cheapestCover(
        demand,
        kinds.map((k): LicenseKind => ({ months: k.months, cents: k.cents, end: (s) => s + k.length - 1 })),
      );
      expect(flow.cents, `case ${c}: demand ${demand.join(' ')}, kinds ${JSON.stringify(kinds)}`).to.equal(bruteForce(demand, kinds));
      // The licenses it says it bought pay exactly what it says it spent.
      expect(kinds.reduce((sum, k) => sum + k.cents * (flow.bought[k.months] ?? 0), 0)).to.equal(flow.cents);
    }
  });

  it('buys a year when twelve months cost more, and months for a short need', () => {
    const year: LicenseKind = { months: 12, cents: 10_000, end: (s) => plusMonths(dayNumber('2026-01-01') + s, 12) - dayNumber('2026-01-01') };
    const month: LicenseKind = { months: 1, cents: 1_000, end: (s) => plusMonths(dayNumber('2026-01-01') + s, 1) - dayNumber('2026-01-01') };
    expect(cheapestCover(new Array(365).fill(1), [month, year])).to.deep.equal({ cents: 10_000, bought: { 1: 0, 12: 1 } });
    // 2026-01-01 … 2026-03-01 inclusive: two months bought on Jan 1 and Feb 2 cover it (Jan 1 + 1 month = Feb 1, the last paid day).
    expect(cheapestCover(new Array(60).fill(1), [month, year])).to.deep.equal({ cents: 2_000, bought: { 1: 2, 12: 0 } });
  });
});

describe('advise: the replay of the module', () => {
  const h = (o: { item?: number; tariff?: string; open: string; close?: string | null; period?: number }): ServiceHistory => {
    const open = dayNumber(o.open);
    const close = o.close ? dayNumber(o.close) : null;
    const period = o.period ?? 1;
    const paid: Array<{ from: number; until: number }> = [];
    for (let k = 1; ; k++) {
      const from = k === 1 ? open : paid.at(-1)!.until;
      if ((close !== null && from >= close) || from > dayNumber('2027-06-01')) break;
      paid.push({ from, until: dayNumber(addMonths(o.open, k * period)) });
    }
    return { item: o.item ?? 1, tariff: o.tariff ?? '3541', hostPricelist: '20', itemtype: 'soft', period, open, close, paid };
  };
  const from = dayNumber('2026-01-10');
  const to = dayNumber('2026-04-20');

  it('renews a monthly license on the day the customer pays (5.3), and buys a year under 1 → 12', () => {
    const s = [h({ open: '2026-01-10' })];
    // Jan 10 order; the customer pays on Feb 10, Mar 10, Apr 10: three renewals.
    expect(replay(s, [], PRICES, from, to)).to.deep.include({ cents: 4_000, orders: 1, renewals: 3, reuses: 0 });
    expect(replay(s, [{ source: 1, target: 12, itemtype: null, pricelist: null }], PRICES, from, to)).to.deep.include({ cents: 10_000, orders: 1, renewals: 0 });
  });

  it('re-uses a pooled license once its key change is a month old (5.5), and not before', () => {
    const a = h({ item: 1, open: '2026-01-10', close: '2026-02-12' });
    const soon = h({ item: 2, open: '2026-02-09' });
    const later = h({ item: 3, open: '2026-02-15' });
    const rules = [{ source: 1, target: 12, itemtype: null, pricelist: null }];
    expect(replay([a, later], rules, PRICES, from, to)).to.deep.include({ orders: 1, reuses: 1 });
    expect(replay([a, soon], rules, PRICES, from, to)).to.deep.include({ orders: 2, reuses: 0 });
  });

  it('takes the pooled license that outlasts the lead before one that would need renewing at once (5.5)', () => {
    // Monthly licenses: A's (renewed Feb 10 to Mar 10) and B's (renewed Feb 20 to Mar 20) are pooled
    // on Mar 1. C opens on Mar 7: A's expires within the 5-day lead, B's outlasts it. Taking A's
    // would renew it at once (a third renewal before Mar 14); taking B's renews nothing yet.
    const s = [h({ item: 1, open: '2026-01-10', close: '2026-03-01' }), h({ item: 2, open: '2026-01-20', close: '2026-03-01' }), h({ item: 3, open: '2026-03-07' })];
    expect(replay(s, [], PRICES, from, dayNumber('2026-03-14'))).to.deep.include({ orders: 2, reuses: 1, renewals: 2 });
    // With only A's in the pool it is taken all the same (still paid), and renewed at once.
    expect(replay([s[0]!, s[2]!], [], PRICES, from, dayNumber('2026-03-14'))).to.deep.include({ orders: 1, reuses: 1, renewals: 2 });
  });

  it('is never above a rule set with a lifetime target either', () => {
    const services = asHistories(churn({ seed: 9, shape: 'steady', services: 40, start: '2026-01-10', months: 12 }));
    const prices: PriceTable = { '3541': { '1': 10, '12': 100, '0': 30 }, '4601': { '1': 20, '12': 200, '0': 60 } };
    const current = [{ id: 1, module: 1, source: 1, target: 0, itemtype: null, pricelist: null }];
    const r = advise({ module: 1, services, current, prices, purchases: [], from: dayNumber('2026-01-10'), to: dayNumber('2027-01-10') });
    const now = r.candidates.find((c) => c.key === 'current')!;
    expect(r.optimum.cents).to.be.at.most(now.spend.cents);
    expect(r.optimum.bought[0]).to.be.greaterThan(0);
  });

  for (const shape of ['growing', 'steady', 'shrinking'] as Shape[]) {
    it(`never finds the optimum above a rule set's spend, on a year of ${shape} churn (5 seeds)`, () => {
      for (let seed = 1; seed <= 5; seed++) {
        const services = asHistories(churn({ seed, shape, services: 40, start: '2026-01-10', months: 12 }));
        const start = dayNumber('2026-01-10');
        const end = dayNumber(addMonths('2026-01-10', 12));
        const r = advise({ module: 1, services, current: [], prices: PRICES, purchases: [], from: start, to: end });
        expect(r.candidates.length).to.be.greaterThan(1);
        for (const c of r.candidates) expect(r.optimum.cents, `${shape} seed ${seed}: ${c.name}`).to.be.at.most(c.spend.cents);
        expect(r.from).to.equal('2026-01-10');
        const best = r.candidates.find((c) => c.key === r.recommended.key)!;
        const now = r.candidates.find((c) => c.key === 'current')!;
        expect(r.recommended.savesCents).to.equal(now.spend.cents - best.spend.cents);
        expect(Math.min(...r.candidates.map((c) => c.spend.cents))).to.equal(best.spend.cents);
        expect(adviceLine(r, 'EUR')).to.include(r.recommended.keep ? 'keep them' : `(${(r.recommended.savesCents / 100).toFixed(2)} EUR less)`);
        expect(r.to).to.equal(dayString(end - 1));
      }
    });
  }
});
