import { expect } from 'chai';
import { BadInputError } from '../../src/errors.js';
import { licensePeriod, parseLicensePeriod, parseServicePeriod } from '../../src/pool/periods.js';
import type { PeriodRule } from '../../src/pool/store.js';

const rule = (id: number, source: number, target: number, itemtype: string | null = null, pricelist: number | null = null): PeriodRule => ({ id, module: 1, source, target, itemtype, pricelist });
const svc = (period: number, pricelist = '10') => ({ period, itemtype: 'soft', pricelist });

describe('period mapping (SPEC 5.1)', () => {
  it('uses the service period when the licensing server sells it', () => {
    expect(licensePeriod(svc(1), [])).to.equal(1);
    expect(licensePeriod(svc(12), [])).to.equal(12);
    expect(licensePeriod(svc(0), [])).to.equal(0);
  });
  it('falls back to one month for periods not sold (3, 6, 24, 36, trial, day)', () => {
    for (const p of [3, 6, 24, 36, -100, -50]) expect(licensePeriod(svc(p), []), `period ${p}`).to.equal(1);
  });
  it('applies a global rule: 1 -> 12 buys yearly licenses for monthly services', () => {
    expect(licensePeriod(svc(1), [rule(1, 1, 12)])).to.equal(12);
    expect(licensePeriod(svc(3), [rule(1, 1, 12)])).to.equal(1);
  });
  it('a tariff-limited rule beats a global one, and only for its tariff', () => {
    const rules = [rule(1, 1, 12), rule(2, 1, 0, 'soft', 10)];
    expect(licensePeriod(svc(1, '10'), rules)).to.equal(0);
    expect(licensePeriod(svc(1, '11'), rules)).to.equal(12);
    expect(licensePeriod({ period: 1, itemtype: 'vds', pricelist: '10' }, rules)).to.equal(12);
  });
  it('refuses codes that are not periods', () => {
    for (const bad of ['5', '-7', 'abc', '', '1.5', '12a']) expect(() => parseServicePeriod(bad), bad).to.throw(BadInputError);
    expect(parseServicePeriod(' 36 ')).to.equal(36);
    expect(() => parseLicensePeriod('3')).to.throw(BadInputError, /1 \(month\), 12 \(year\) or 0/);
    expect(parseLicensePeriod('0')).to.equal(0);
  });
});
