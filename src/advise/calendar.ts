// Days as whole numbers (days since 1970-01-01, UTC) for the replay: a year of 10 000 services is
// millions of day comparisons, too many for date strings. Months add with SPEC 1's clamp, exactly
// as src/dates.ts does it (checked against it in test/advise/calendar.test.ts).
import type { Day } from '../dates.js';

const MS_PER_DAY = 86_400_000;

const dayCache = new Map<string, number>();

export function dayNumber(day: Day): number {
  const hit = dayCache.get(day);
  if (hit !== undefined) return hit;
  const n = parseDayNumber(day);
  if (dayCache.size > 100_000) dayCache.clear();
  dayCache.set(day, n);
  return n;
}

function parseDayNumber(day: Day): number {
  const y = Number(day.slice(0, 4));
  const m = Number(day.slice(5, 7));
  const d = Number(day.slice(8, 10));
  return Date.UTC(y, m - 1, d) / MS_PER_DAY;
}

export function dayString(n: number): Day {
  return new Date(n * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Memoised: the replay asks the same few (day, months) pairs again and again. */
const monthCache = new Map<number, number>();

/** 2025-01-31 + 1 month = 2025-02-28 (SPEC 1). `months` ≥ 0 and < 1000. */
export function plusMonths(n: number, months: number): number {
  const key = n * 1000 + months;
  const hit = monthCache.get(key);
  if (hit !== undefined) return hit;
  const date = new Date(n * MS_PER_DAY);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth() + months;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const out = Date.UTC(y, m, Math.min(date.getUTCDate(), last)) / MS_PER_DAY;
  if (monthCache.size > 200_000) monthCache.clear();
  monthCache.set(key, out);
  return out;
}
