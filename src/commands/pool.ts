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
    if (a.action === 'adopt') return await adopt(p, store, a);
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

async function adopt(p: Paths, store: ReturnType<typeof openStore>, a: PoolArgs): Promise<number> {
  if (!a.module || !a.license) throw new BadInputError('license', String(a.license ?? ''), 'pool adopt needs --module N --license ID.');
  if (store.isKnown(a.license)) throw new BadInputError('license', String(a.license), `License ${a.license} is already managed by this module.`);
  const settings = await new Host(p.mgrctl).readModule(a.module);
  const upstream = new LicensingClient(settings);
  const u = await upstream.get(a.license);
  const day = today();
  if (u.status !== STATUS.active && u.status !== STATUS.suspended) throw new BadInputError('license', String(u.id), `License ${u.id} has status ${u.status}; only active or suspended licenses can join the pool.`);
  if (!hasPaidTime(u.period, u.expiredate, day)) throw new BadInputError('license', String(u.id), `License ${u.id} expired on ${u.expiredate}; it has no paid time left to re-use.`);
  if (u.status !== STATUS.suspended) await upstream.suspend(u.id);
  if (u.licname !== FREE_LICNAME || u.autoprolong) await upstream.edit(u.id, { licname: FREE_LICNAME, autoprolong: false });
  store.saveLicense({ module: a.module, upstreamId: u.id, pricelist: u.pricelist, period: u.period, state: 'free', item: null, ip: u.ip, expiredate: u.expiredate, ipChangeDate: u.ipChangeDate, keyChangeDate: u.keyChangeDate, hasKey: u.lickey !== '' });
  log.info(`license ${u.id} adopted into the pool of module ${a.module} by the administrator`);
  process.stdout.write(`License ${u.id} (tariff ${u.pricelist}, paid until ${u.period === 0 ? 'lifetime' : u.expiredate}) is now in the pool of module ${a.module}.\n`);
  return 0;
}
