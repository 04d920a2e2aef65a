// `pool list` (SPEC 3): the licenses the module manages. It only reads the state, opened read-only:
// it works on a read-only state file and never creates one. (`pool adopt` is src/commands/pool-adopt.ts.)
import type { Paths } from '../config.js';
import { addMonths, today, type Day } from '../dates.js';
import { NoStateError } from '../errors.js';
import { hasPaidTime } from '../pool/lifecycle.js';
import { LicenseStore, type ManagedLicense } from '../pool/store.js';

export interface PoolListOptions {
  /** Only this module's licenses; null: every module the state knows. */
  module: number | null;
  json: boolean;
}

/** One row of `pool list --json`, exactly SPEC 3's shape. */
export interface PoolRow {
  license: number;
  pricelist: number | null;
  period: number | null;
  /** A suspended service's license is still bound to it. */
  state: 'bound' | 'free' | 'gone';
  item: number | null;
  ip: string;
  expiredate: string | null;
  reusableFrom: string | null;
}

/** A period as a person says it; the same words as `periods list`. */
export function periodName(months: number): string {
  return months === 0 ? 'lifetime' : months === -100 ? 'trial' : months === -50 ? '1 day' : months === 1 ? '1 month' : `${months} months`;
}

/** The first day a free license can be re-used (SPEC 5.5: its last IP change and last key change a
 *  calendar month ago), today when it can be already; null when it never can (no paid time left
 *  then) or when it is not free. */
export function reusableFrom(l: ManagedLicense, day: Day): string | null {
  if (l.state !== 'free') return null;
  const first = [day, ...[l.ipChangeDate, l.keyChangeDate].filter((d): d is string => d !== null).map((d) => addMonths(d, 1))].sort().at(-1)!;
  return hasPaidTime(l.period, l.expiredate, first) ? first : null;
}

export function poolRow(l: ManagedLicense, day: Day): PoolRow {
  // SPEC 3 knows bound, free and gone: a license whose release from a closing service is not
  // finished is still that service's (bound), until the close's rerun or maintain finishes it.
  const state = l.state === 'suspended' || l.state === 'releasing' ? 'bound' : l.state;
  return {
    license: l.upstreamId,
    pricelist: /^\d+$/.test(l.pricelist) ? Number(l.pricelist) : null,
    period: l.period,
    state,
    item: state === 'bound' ? (l.item ?? l.releasedFrom) : null,
    ip: l.ip,
    // A lifetime license never expires, whatever its date says (SPEC 1).
    expiredate: l.period === 0 ? null : l.expiredate,
    reusableFrom: reusableFrom(l, day),
  };
}

export async function poolList(p: Paths, o: PoolListOptions): Promise<number> {
  let licenses: ManagedLicense[];
  try {
    const store = LicenseStore.open(p.db, { readonly: true });
    try {
      licenses = store.licenses(o.module);
    } finally {
      store.close();
    }
  } catch (e) {
    if (!(e instanceof NoStateError)) throw e;
    process.stdout.write(o.json ? '[]\n' : `The module manages no licenses: ${e.message}\n`);
    return 0;
  }
  const day = today();
  const rows = licenses.map((l) => ({ module: l.module, tariffName: l.tariffName, row: poolRow(l, day) }));
  if (o.json) {
    process.stdout.write(`${JSON.stringify(rows.map((r) => r.row))}\n`);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write(o.module === null ? 'The module manages no licenses yet.\n' : `Module ${o.module} manages no licenses yet.\n`);
    return 0;
  }
  const table: string[][] = [['MODULE', 'LICENSE', 'TARIFF', 'PERIOD', 'STATE', 'SERVICE', 'IP', 'EXPIRES', 'RE-USABLE FROM']];
  for (const { module, tariffName, row: r } of rows) {
    table.push([
      String(module),
      String(r.license),
      // The licensing server's name beside its id, where it gave one.
      `${r.pricelist ?? '?'}${tariffName ? ` ${tariffName}` : ''}`,
      r.period === null ? '?' : periodName(r.period),
      r.state,
      r.item === null ? '-' : String(r.item),
      r.ip || '-',
      r.period === 0 ? 'never' : (r.expiredate ?? '?'),
      r.state !== 'free' ? '' : r.reusableFrom === null ? 'never (no paid time)' : r.reusableFrom <= day ? 'now' : r.reusableFrom,
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const r of table) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]! + 2)).join('').trimEnd()}\n`);

  const byTariff = new Map<string, { bound: number; free: number; now: number; name: string }>();
  for (const { tariffName, row: r } of rows) {
    const key = String(r.pricelist ?? '?');
    const s = byTariff.get(key) ?? { bound: 0, free: 0, now: 0, name: '' };
    s.name ||= tariffName;
    if (r.state === 'bound') s.bound++;
    if (r.state === 'free') s.free++;
    if (r.state === 'free' && r.reusableFrom !== null && r.reusableFrom <= day) s.now++;
    byTariff.set(key, s);
  }
  process.stdout.write('\n');
  for (const [tariff, s] of byTariff) process.stdout.write(`tariff ${tariff}: ${s.bound} bound, ${s.free} free, ${s.now} re-usable now${s.name ? ` (${s.name})` : ''}\n`);
  return 0;
}
