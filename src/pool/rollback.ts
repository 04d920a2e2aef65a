// A failed setparam after a tariff change (SPEC 5.6 v3, v3.1). BILLmanager changes a service's
// tariff and then runs setparam; when that fails, ISPsystem's processing module base asks
// BILLmanager to return the service to its previous tariff: `SELECT lastpricelist FROM item`, and
// when it is > 0, `service.changepricelist.rollback sok=ok elid=<item>` (Module::Run, the
// PROCESSING_SETPARAM branch, in processing/certificate/sslstore/module.cpp of the public repo
// ISPsystemLLC/billmanager). This module does the same, and then gives the service back the
// license it released for the change, when that license is still free in the pool — same key and
// IP, resumed, renamed `Item #<item>`, params saved — so the customer's panel keeps working.
//
// Best effort by design: the setparam error is what BILLmanager records; nothing here throws.
import type { Paths } from '../config.js';
import { today } from '../dates.js';
import { Host } from '../host/host.js';
import { openOptionsReader } from '../host/options.js';
import { log } from '../log.js';
import type { UpstreamLicense } from '../upstream/types.js';
import { STATUS } from '../upstream/types.js';
import { factsOf, FREE_LICNAME, licnameOf, paidTime } from './lifecycle.js';
import { lockService } from './service-lock.js';
import { openStore, type LicenseStore, type ManagedLicense } from './store.js';

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** item.lastpricelist from BILLmanager's database; 0 without a database or a pending change. */
async function pendingTariffChange(host: Host, item: number): Promise<number> {
  const reader = await openOptionsReader(await host.readDatabaseSettings());
  if (!reader) return 0; // no database named: nothing tells of a tariff change (SPEC 4)
  try {
    return await reader.lastPricelist(item);
  } finally {
    await reader.close();
  }
}

/**
 * After a failed setparam of `item`: rolls a pending tariff change back and binds back `before`
 * (the license the service had when setparam started) if the failed change released it into the
 * pool and it is still free there.
 */
export async function rollbackFailedSetparam(paths: Paths, item: number, before: ManagedLicense | null): Promise<void> {
  const host = new Host(paths.mgrctl);
  let last: number;
  try {
    last = await pendingTariffChange(host, item);
  } catch (e) {
    log.error(`service ${item}: setparam failed and whether a tariff change is pending cannot be read (${reason(e)}); nothing rolled back`);
    return;
  }
  if (last === 0) return; // not a tariff change: the failure stands as it is (SPEC 5.6)
  try {
    log.warn(`service ${item}: setparam failed during a tariff change (previous tariff ${last}); asking BILLmanager to roll the change back`);
    await host.rollbackTariffChange(item);
  } catch (e) {
    log.error(`service ${item}: BILLmanager did not roll the tariff change back (${reason(e)}); the service keeps its new tariff and no license is bound back`);
    return;
  }
  if (!before) return;
  let store: LicenseStore;
  try {
    store = openStore(paths.db);
  } catch (e) {
    log.error(`service ${item}: the state cannot be opened to bind license ${before.upstreamId} back (${reason(e)})`);
    return;
  }
  try {
    await lockService(store, item, 'setparam-rollback');
    try {
      await bindBack(host, store, item, before);
    } finally {
      store.unlock(item);
    }
  } catch (e) {
    log.error(`service ${item}: license ${before.upstreamId} could not be bound back after the tariff rollback (${reason(e)}); open or setparam binds a license again`);
  } finally {
    store.close();
  }
}

async function bindBack(host: Host, store: LicenseStore, item: number, before: ManagedLicense): Promise<void> {
  const id = before.upstreamId;
  const read = store.license(before.module, id);
  if (!read || read.state !== 'free') {
    if (read?.item !== item) log.info(`service ${item}: license ${id} is not free in the pool (${read?.state ?? 'unknown'}); nothing to bind back`);
    return;
  }
  if (store.licenseOfService(item)) return log.info(`service ${item}: it has a license again; license ${id} stays in the pool`);
  // An order whose reply was lost may still be taken upstream: the rerun must find it (5.2 step 3),
  // not a service that looks served.
  if (store.openJournal(item)) return log.warn(`service ${item}: an unfinished order or re-use is on record; license ${id} stays in the pool`);
  // Compare-and-set first: from here no other process can take the license from the pool.
  const taken = store.rebindReleased(read, item);
  if (!taken) return log.info(`license ${id} was taken by another process meanwhile; left to it`);
  // The license's own account (SPEC 5.9).
  const { LicensingClient } = await import('../upstream/client.js');
  const upstream = new LicensingClient(await host.readModule(taken.module));
  let saved = false;
  try {
    const u = await upstream.get(id);
    if ((u.status !== STATUS.active && u.status !== STATUS.suspended) || paidTime(u.period, u.expiredate, today()) === 'no') {
      throw new Error(`license ${id} is not usable upstream (status ${u.status}, expires ${u.expiredate ?? '?'})`);
    }
    const changes = { licname: u.licname === licnameOf(item) ? undefined : licnameOf(item), remoteid: u.remoteid === String(item) ? undefined : String(item) };
    if (changes.licname !== undefined || changes.remoteid !== undefined) {
      await upstream.edit(id, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)));
    }
    if (u.status === STATUS.suspended) await upstream.resume(id);
    const after: UpstreamLicense = await upstream.get(id);
    const facts = factsOf(after, taken);
    if (!store.refresh(taken, facts)) log.warn(`license ${id} was changed by another process while it was bound back; its facts are recorded by the next read`);
    saved = true; // from the first saveparam on, the service may name the license
    await host.saveParam(item, 'license_id', String(id));
    if (after.lickey) await host.saveSecretParam(item, 'lickey', after.lickey);
    if (after.expiredate) await host.saveParam(item, 'license_expiredate', after.expiredate);
    log.warn(`service ${item}: license ${id} bound back after the tariff rollback (same key and IP, resumed, named ${licnameOf(item)})`);
  } catch (e) {
    log.warn(`service ${item}: binding license ${id} back failed (${reason(e)}); it goes back to the pool`);
    await putBack(host, store, item, taken, saved, upstream);
  }
}

/** The service stops naming the license before it is free again (SPEC 5.4's order), then the pool. */
async function putBack(host: Host, store: LicenseStore, item: number, taken: ManagedLicense, saved: boolean, upstream: import('../upstream/client.js').LicensingClient): Promise<void> {
  const id = taken.upstreamId;
  if (saved) {
    try {
      await host.saveParam(item, 'license_id', '');
      await host.saveSecretParam(item, 'lickey', '');
      await host.saveParam(item, 'license_expiredate', '');
    } catch (e) {
      // The service may name the license: it stays bound to it (consistent), for open/setparam/reconcile.
      log.error(`service ${item}: its license params could not be cleared (${reason(e)}); license ${id} stays bound to it`);
      return;
    }
  }
  // Each upstream step must succeed before the license is free again (as Lifecycle's put-back,
  // issue 17): a license named for the service must never sit in the pool. A failure leaves it
  // bound to the service (consistent: the service's open or setparam goes on with it).
  try {
    const u = await upstream.get(id);
    if (u.status !== STATUS.deleted) {
      if (u.licname !== FREE_LICNAME || u.autoprolong) await upstream.edit(id, { licname: FREE_LICNAME, autoprolong: false });
      if (u.status === STATUS.active) await upstream.suspend(id);
    }
  } catch (e) {
    log.error(`license ${id}: could not be put back into the pool upstream (${reason(e)}); it stays bound to service ${item}`);
    return;
  }
  const cur = store.license(taken.module, id);
  if (cur && cur.item === item && store.settle(cur, 'free', null)) return;
  log.warn(`license ${id} was changed by another process meanwhile; left to it`);
}
