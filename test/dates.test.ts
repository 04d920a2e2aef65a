import { expect } from 'chai';
import { addDays, addMonths, isDay, normalizeDay, now, today } from '../src/dates.js';
import { EnvironmentError } from '../src/errors.js';

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
  it('tells a calendar day from a date-shaped string for every day of 0000–0150 and 1999–2101', () => {
    // Against the Date round trip it replaced (which refused years before 100, read by Date.UTC as
    // 1900–1999): leap years (2000 yes, 2100 no), month ends, 00 and 13.
    const roundTrip = (s: string) => {
      const [y, m, d] = s.split('-').map(Number) as [number, number, number];
      return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10) === s;
    };
    let checked = 0;
    for (const y of [...Array.from({ length: 151 }, (_, i) => i), ...Array.from({ length: 103 }, (_, i) => 1999 + i)]) {
      for (let m = 0; m <= 13; m++) {
        for (let d = 0; d <= 32; d++) {
          const s = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
          const valid = m >= 1 && m <= 12 && d >= 1 && roundTrip(s);
          expect(isDay(s), s).to.equal(valid);
          checked++;
        }
      }
    }
    expect(checked).to.equal((151 + 103) * 14 * 33);
    expect([normalizeDay('0001-01-01'), normalizeDay('0099-12-31'), normalizeDay('0100-01-01')]).to.deep.equal([null, null, '0100-01-01']);
    expect([isDay('2025-1-01'), isDay('2025-01-01 '), isDay('20250101')]).to.deep.equal([false, false, false]);
  });

  describe('PMISPLICENSE_NOW (SPEC 2)', () => {
    // Far from UTC on both sides: a reading in local time would move the instant by hours (or the day).
    const savedTz = process.env.TZ;
    afterEach(() => {
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    });
    for (const tz of ['Pacific/Kiritimati', 'America/Los_Angeles', 'UTC']) {
      it(`without an offset is UTC (process time zone ${tz})`, () => {
        process.env.TZ = tz;
        expect(now({ PMISPLICENSE_NOW: '2026-01-10T12:00:00' }).toISOString()).to.equal('2026-01-10T12:00:00.000Z');
        expect(now({ PMISPLICENSE_NOW: '2026-01-10' }).toISOString()).to.equal('2026-01-10T00:00:00.000Z');
        expect(now({ PMISPLICENSE_NOW: '2026-01-10T23:30' }).toISOString()).to.equal('2026-01-10T23:30:00.000Z');
        expect(today({ PMISPLICENSE_NOW: '2026-01-10T23:30:00' })).to.equal('2026-01-10');
      });
    }
    it('honours an offset or Z, and fractions of a second', () => {
      expect(now({ PMISPLICENSE_NOW: '2026-01-10T12:00:00Z' }).toISOString()).to.equal('2026-01-10T12:00:00.000Z');
      expect(now({ PMISPLICENSE_NOW: '2026-01-10T02:00:00+03:00' }).toISOString()).to.equal('2026-01-09T23:00:00.000Z');
      expect(now({ PMISPLICENSE_NOW: '2026-01-10T12:00:00.250-0130' }).toISOString()).to.equal('2026-01-10T13:30:00.250Z');
      expect(now({ PMISPLICENSE_NOW: '2026-01-10 12:00:00' }).toISOString()).to.equal('2026-01-10T12:00:00.000Z');
    });
    it('unset or empty is the real clock', () => {
      for (const env of [{}, { PMISPLICENSE_NOW: '' }]) {
        const before = Date.now();
        const t = now(env).getTime();
        expect(t).to.be.within(before, Date.now());
      }
    });
    it('an unusable value is an error naming the variable, not the real clock', () => {
      for (const bad of ['garbage', '2026-02-30', '2026-01-10T25:00', '2026-1-10', '10/01/2026', '2026-01-10T12:00:00+25:00', 'now', '1736510400']) {
        expect(() => now({ PMISPLICENSE_NOW: bad }), bad).to.throw(EnvironmentError, /PMISPLICENSE_NOW/);
      }
    });
  });
});
