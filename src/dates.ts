// Calendar-day arithmetic in UTC (SPEC 1). Dates are 'YYYY-MM-DD' strings, which compare
// correctly as strings; months are added with clamping to the month's end.
import { EnvironmentError } from './errors.js';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export type Day = string;

export function isDay(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  // Arithmetic, not a Date round trip: the state's reader checks every date of every row.
  const year = +m[1]!;
  const month = +m[2]!;
  const day = +m[3]!;
  // Years before 100 are refused as the Date round trip refused them (Date.UTC reads 0–99 as
  // 1900–1999): a placeholder such as 0001-01-01 is an unknown date, never "expired long ago".
  if (year < 100 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
}

// ISO-8601 as PMISPLICENSE_NOW takes it: a day, or a day and a time (minutes, seconds and a fraction
// optional) with an optional offset. Without an offset it is UTC (SPEC 2) — unlike JavaScript's
// Date, which reads an offset-less date-time as local time.
const INSTANT_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** Parses an ISO-8601 day or instant (UTC unless it carries an offset); null when it is not one. */
export function parseInstant(value: string): Date | null {
  const m = INSTANT_RE.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  if (!isDay(`${y}-${mo}-${d}`) || +h > 23 || +mi > 59 || +s > 59) return null;
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const oh = +z[2]!;
    const om = +(z[3] ?? '0');
    if (oh > 23 || om > 59) return null;
    offsetMin = (z[1] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  return new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s, ms) - offsetMin * 60_000);
}

/** "Now" for every rule: PMISPLICENSE_NOW when set (tests, dry runs), else the real clock. An
 *  unusable value is an error naming the variable, never the real clock in disguise. */
export function now(env: NodeJS.ProcessEnv = process.env): Date {
  const forced = env.PMISPLICENSE_NOW;
  if (forced === undefined || forced === '') return new Date();
  const d = parseInstant(forced);
  if (!d) throw new EnvironmentError('PMISPLICENSE_NOW', forced, 'it must be an ISO-8601 day or instant such as 2026-01-10 or 2026-01-10T12:00:00Z (UTC unless an offset is given)');
  return d;
}

export function dayOf(d: Date): Day {
  return d.toISOString().slice(0, 10);
}

export function today(env: NodeJS.ProcessEnv = process.env): Day {
  return dayOf(now(env));
}

function parts(day: Day): [number, number, number] {
  const m = DATE_RE.exec(day);
  if (!m) throw new RangeError(`not a date: ${day}`);
  return [+m[1]!, +m[2]!, +m[3]!];
}

export function addDays(day: Day, n: number): Day {
  const [y, mo, d] = parts(day);
  return dayOf(new Date(Date.UTC(y, mo - 1, d + n)));
}

/** 2025-01-31 + 1 month = 2025-02-28. */
export function addMonths(day: Day, n: number): Day {
  const [y, mo, d] = parts(day);
  const first = new Date(Date.UTC(y, mo - 1 + n, 1));
  const lastOfMonth = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  return dayOf(new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(d, lastOfMonth))));
}

/** Upstream dates may carry a time ('2025-01-01 10:00:00') or be empty/'0000-00-00'. */
export function normalizeDay(s: string | undefined | null): Day | null {
  if (!s) return null;
  const d = s.trim().slice(0, 10);
  return isDay(d) ? d : null;
}
