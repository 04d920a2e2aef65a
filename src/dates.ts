// Calendar-day arithmetic in UTC (SPEC 1). Dates are 'YYYY-MM-DD' strings, which compare
// correctly as strings; months are added with clamping to the month's end.

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export type Day = string;

export function isDay(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return d.toISOString().slice(0, 10) === s;
}

/** "Now" for every rule: PMISPLICENSE_NOW when set (tests, dry runs), else the real clock. */
export function now(env: NodeJS.ProcessEnv = process.env): Date {
  const forced = env.PMISPLICENSE_NOW;
  if (forced) {
    const d = new Date(forced);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return new Date();
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
