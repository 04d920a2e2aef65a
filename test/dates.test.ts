import { expect } from 'chai';
import { addDays, addMonths, isDay, normalizeDay, today } from '../src/dates.js';

describe('dates', () => {
  it('adds calendar months clamping to the month end', () => {
    expect(addMonths('2025-01-31', 1)).to.equal('2025-02-28');
    expect(addMonths('2024-01-31', 1)).to.equal('2024-02-29');
    expect(addMonths('2025-03-15', 12)).to.equal('2026-03-15');
    expect(addMonths('2025-12-31', 2)).to.equal('2026-02-28');
  });
  it('adds days across month and year ends', () => {
    expect(addDays('2025-12-30', 5)).to.equal('2026-01-04');
    expect(addDays('2025-03-01', -1)).to.equal('2025-02-28');
  });
  it('takes "now" from PMISPLICENSE_NOW when set', () => {
    expect(today({ PMISPLICENSE_NOW: '2030-06-15T23:59:00Z' })).to.equal('2030-06-15');
  });
  it('normalizes upstream dates and rejects non-dates', () => {
    expect(normalizeDay('2025-02-03 10:00:00')).to.equal('2025-02-03');
    expect(normalizeDay('0000-00-00')).to.equal(null);
    expect(normalizeDay('')).to.equal(null);
    expect(isDay('2025-02-30')).to.equal(false);
  });
});
