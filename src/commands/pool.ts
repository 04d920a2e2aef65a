// `pool list|adopt`: what the module manages, and taking over a free.lic license it did not
// release itself (SPEC 5.5: such licenses are never taken automatically).
import type { Paths } from '../config.js';
import { addMonths, today } from '../dates.js';
import { BadInputError } from '../errors.js';
import { Host } from '../host/host.js';
import { log } from '../log.js';
import { eligibleFromPool, FREE_LICNAME, hasPaidTime } from '../pool/lifecycle.js';
import { openStore, type ManagedLicense } from '../pool/store.js';
import { LicensingClient } from '../upstream/client.js';
import { STATUS } from '../upstream/types.js';

export interface PoolArgs {
  action: 'list' | 'adopt';
  module?: number;
  license?: number;
  json: boolean;
}

/** The first day the license may take a new IP and key (SPEC 5.5). */
export function reusableFrom(l: ManagedLicense): string | null {
  const dates = [l.ipChangeDate, l.keyChangeDate].filter((d): d is string => d !== null).map((d) => addMonths(d, 1));
  return dates.sort().at(-1) ?? null;
}

export async function poolCommand(p: Paths, a: PoolArgs): Promise<number> {
  const store = openStore(p.db);
  try {
    const day = today();
    const rows = store.licenses(a.module ?? null).map((l) => ({
      module: l.module,
      license: l.upstreamId,
      pricelist: l.pricelist,
      period: l.period,
      state: l.state,
      service: l.item,
      ip: l.ip,
      expiredate: l.period === 0 ? null : l.expiredate,
      reusableFrom: l.state === 'free' ? reusableFrom(l) : null,
      eligibleNow: l.state === 'free' && eligibleFromPool(l, day),
    }));
    if (a.json) {
      process.stdout.write(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      process.stdout.write('The module manages no licenses yet.\n');
      return 0;
    }
    process.stdout.write('MODULE LICENSE  TARIFF  PERIOD STATE      SERVICE  IP                EXPIRES     RE-USABLE FROM\n');
    for (const r of rows) {
      process.stdout.write(
        `${String(r.module).padEnd(7)}${String(r.license).padEnd(9)}${r.pricelist.padEnd(8)}${String(r.period === 0 ? 'life' : r.period).padEnd(7)}${r.state.padEnd(11)}${String(r.service ?? '-').padEnd(9)}${r.ip.padEnd(18)}${(r.expiredate ?? (r.period === 0 ? 'never' : '?')).padEnd(12)}${r.state === 'free' ? (r.eligibleNow ? 'now' : (r.reusableFrom ?? '?')) : ''}\n`,
      );
    }
    const byTariff = new Map<string, { bound: number; free: number; eligible: number }>();
    for (const r of rows) {
      const s = byTariff.get(r.pricelist) ?? { bound: 0, free: 0, eligible: 0 };
      if (r.state === 'bound' || r.state === 'suspended') s.bound++;
      if (r.state === 'free') s.free++;
      if (r.eligibleNow) s.eligible++;
      byTariff.set(r.pricelist, s);
    }
    process.stdout.write('\n');
    for (const [tariff, s] of byTariff) process.stdout.write(`tariff ${tariff}: ${s.bound} bound, ${s.free} free, ${s.eligible} re-usable now\n`);
    return 0;
  } finally {
    store.close();
  }
}
