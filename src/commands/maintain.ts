// `maintain` (SPEC 5.7), run daily by cron: every license the module manages is handled on its
// own; one failure is logged and does not stop the rest. Exit 1 when any failed.
import type { Paths } from '../config.js';
import { keyWaitSeconds, orderSettleSeconds } from '../config.js';
import { today } from '../dates.js';
import { asModuleError } from '../errors.js';
import { Host, ServiceNotFoundError } from '../host/host.js';
import { log } from '../log.js';
import { Lifecycle } from '../pool/lifecycle.js';
import { isAlive } from './item.js';
import { openStore } from '../pool/store.js';
import { LicensingClient } from '../upstream/client.js';
import type { UpstreamLicense } from '../upstream/types.js';

export async function maintain(p: Paths, onlyModule: number | null): Promise<number> {
  const store = openStore(p.db);
  const host = new Host(p.mgrctl);
  let handled = 0;
  let failed = 0;
  try {
    const licenses = store.licenses(onlyModule).filter((l) => l.state !== 'gone');
    const modules = [...new Set(licenses.map((l) => l.module))];
    for (const module of modules) {
      const mine = licenses.filter((l) => l.module === module);
      let lifecycle: Lifecycle;
      let upstream: LicensingClient;
      try {
        upstream = new LicensingClient(await host.readModule(module));
        lifecycle = new Lifecycle({ store, upstream, host, module, today: today(), keyWaitMs: keyWaitSeconds() * 1000, orderSettleMs: orderSettleSeconds() * 1000 });
      } catch (e) {
        failed += mine.length;
        log.error(`maintain: module ${module} unusable, ${mine.length} license(s) not handled: ${asModuleError(e).message}`);
        continue;
      }
      // The list serves only the pooled licenses: if it cannot be read, they fail and the bound
      // ones are still renewed (each license on its own, SPEC 5.7).
      let upstreamList: Map<number, UpstreamLicense> | null = null;
      const free = mine.filter((l) => l.state === 'free');
      if (free.length > 0) {
        try {
          upstreamList = new Map((await upstream.list()).map((u) => [u.id, u]));
        } catch (e) {
          failed += free.length;
          log.error(`maintain: the license list of module ${module} could not be read, ${free.length} pooled license(s) not handled: ${asModuleError(e).message}`);
        }
      }
      for (const lic of mine) {
        try {
          if (lic.state === 'free') {
            if (!upstreamList) continue;
            await lifecycle.maintainFree(lic, upstreamList.get(lic.upstreamId) ?? null);
          } else {
            const item = lic.item!;
            if (store.tryLock(item, 'maintain', isAlive) !== null) {
              log.warn(`maintain: service ${item} is being worked on by another process; left for tomorrow`);
              continue;
            }
            try {
              await lifecycle.maintainBound(await host.readService(item), lic);
            } finally {
              store.unlock(item);
            }
          }
          handled++;
        } catch (e) {
          if (e instanceof ServiceNotFoundError) {
            log.warn(`maintain: license ${lic.upstreamId} is bound to service ${lic.item}, which BILLmanager no longer knows; left for the administrator (pool adopt / close by hand)`);
            handled++;
            continue;
          }
          failed++;
          log.error(`maintain: license ${lic.upstreamId}${lic.item ? ` of service ${lic.item}` : ''} failed: ${asModuleError(e).message}`);
        }
      }
    }
  } finally {
    store.close();
  }
  log.info(`maintain: ${handled} license(s) handled, ${failed} failed`);
  process.stdout.write(`maintain: ${handled} license(s) handled, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}
