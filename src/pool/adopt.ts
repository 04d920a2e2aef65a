// Taking an account license the module does not manage into its pool (SPEC 3 `pool adopt`, the
// panel's *Adopt*). Without force only a license nobody uses: named free.lic, or `Item #N` where
// service N is closed or unknown to the host. A live service's license is never taken silently.
import type { Paths } from '../config.js';
import { BadInputError } from '../errors.js';
import { Host, ServiceNotFoundError } from '../host/host.js';
import { log } from '../log.js';
import { LicensingClient } from '../upstream/client.js';
import { STATUS, type LicensingApi, type UpstreamLicense } from '../upstream/types.js';
import { factsOf, FREE_LICNAME, paidTime } from './lifecycle.js';
import type { LicenseStore } from './store.js';

export interface AdminContext {
  store: LicenseStore;
  host: Host;
  paths: Paths;
  today: string;
}

export interface AdoptableLicense {
  id: number;
  licname: string;
  pricelist: string;
  /** The tariff's name as the licensing server gives it ('' when it does not). */
  tariffName: string;
  ip: string;
  period: number | null;
  expiredate: string | null;
  /** Why it may be adopted without --force. */
  why: string;
}

const ITEM_NAME = /^Item #(\d+)$/;
const LIVE_STATUSES: Record<number, string> = { 1: 'ordered', 2: 'active', 3: 'suspended', 5: 'being processed' };

/** Who uses the license, by its name: null = nobody (adoptable), else the reason it is not. */
async function userOf(host: Host, u: UpstreamLicense): Promise<{ free: true; why: string } | { free: false; why: string }> {
  if (u.licname === FREE_LICNAME) return { free: true, why: `named ${FREE_LICNAME}` };
  const m = ITEM_NAME.exec(u.licname);
  if (!m) return { free: false, why: `it is named "${u.licname}", not ${FREE_LICNAME} or "Item #N": it may be in use outside BILLmanager` };
  const item = Number(m[1]);
  try {
    const s = await host.readService(item);
    if (s.status === 4) return { free: true, why: `service ${item} is closed` };
    return { free: false, why: `service ${item} is ${LIVE_STATUSES[s.status] ?? `in status ${s.status}`} in BILLmanager and this is its license` };
  } catch (e) {
    if (e instanceof ServiceNotFoundError) return { free: true, why: `service ${item} is unknown to BILLmanager` };
    throw e;
  }
}

function adoptableState(u: UpstreamLicense, today: string): string | null {
  if (u.status !== STATUS.active && u.status !== STATUS.suspended) return `it has status ${u.status} at the licensing server (only active or suspended licenses can join the pool)`;
  const paid = paidTime(u.period, u.expiredate, today);
  if (paid === 'no') return `it expired on ${u.expiredate}: no paid time is left to re-use`;
  if (paid === 'unknown') return 'its paid time is unknown at the licensing server (try again once it is processed)';
  return null;
}

async function upstreamOf(ctx: AdminContext, module: number): Promise<LicensingApi> {
  return new LicensingClient(await ctx.host.readModule(module));
}

/** The account licenses `adopt` would take without force (what the panel's Adopt form offers). */
export async function adoptableLicenses(ctx: AdminContext, module: number): Promise<AdoptableLicense[]> {
  const upstream = await upstreamOf(ctx, module);
  const out: AdoptableLicense[] = [];
  for (const u of await upstream.list()) {
    if (ctx.store.isKnown(u.id) || adoptableState(u, ctx.today) !== null) continue;
    const user = await userOf(ctx.host, u);
    if (user.free) out.push({ id: u.id, licname: u.licname, pricelist: u.pricelist, tariffName: u.pricelistName, ip: u.ip, period: u.period, expiredate: u.expiredate, why: user.why });
  }
  return out;
}

/** Adopts one license; returns what it did, in words. A refusal is a BadInputError naming why. */
export async function adoptLicense(ctx: AdminContext, module: number, license: number, force: boolean): Promise<string> {
  const refuse = (why: string) => new BadInputError('license', String(license), `License ${license} was not adopted: ${why}.`);
  if (ctx.store.isKnown(license)) throw refuse('it is already managed by this module (pmisplicense pool list shows it)');
  const upstream = await upstreamOf(ctx, module);
  const u = await upstream.get(license);
  const stateProblem = adoptableState(u, ctx.today);
  if (stateProblem) throw refuse(stateProblem);
  const user = await userOf(ctx.host, u);
  if (!user.free && !force) throw refuse(`${user.why}. Adopting it would suspend it; if it is really unused, run again with --force`);
  // Forced over a live service that names it: that service stops naming it first (SPEC 5.4's order,
  // params before the pool), so that the pool never gives away a license a live service still shows.
  const item = ITEM_NAME.exec(u.licname);
  if (!user.free && item) {
    const { clearParamsIfNamed } = await import('./reconcile.js');
    await clearParamsIfNamed(ctx, Number(item[1]), u.id);
  }
  if (u.status === STATUS.active) await upstream.suspend(u.id);
  if (u.licname !== FREE_LICNAME || u.autoprolong) await upstream.edit(u.id, { licname: FREE_LICNAME, autoprolong: false });
  const adopted = ctx.store.adoptIntoPool({ module, upstreamId: u.id, ...factsOf(u, null) });
  if (!adopted) throw refuse('another process took it into the state meanwhile');
  const paid = u.period === 0 ? 'lifetime' : `paid until ${u.expiredate}`;
  const forced = user.free ? '' : ` (forced: ${user.why}; it was suspended and renamed ${FREE_LICNAME})`;
  log.info(`license ${u.id} adopted into the pool of module ${module} by the administrator${forced}`);
  return `License ${u.id} (tariff ${u.pricelist}, ${paid}) is now in the pool of module ${module}: suspended, named ${FREE_LICNAME}, auto-renewal off${forced}.`;
}
