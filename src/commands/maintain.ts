// `maintain` (SPEC 5.7), run daily by cron: every license the module manages is handled on its
// own; one failure is logged, written as one line on stderr (cron mails stderr) and does not stop
// the rest. Exit 1 when any failed.
//
// Nothing is written from the copy read at the start: a license is changed only through the
// store's compare-and-set transitions, and a bound (or releasing) one is read again under its
// service's lock first, so an open or close running beside maintain always wins cleanly (5.8).
import type { Paths } from '../config.js';
import { keyWaitSeconds, orderSettleSeconds } from '../config.js';
import { today } from '../dates.js';
import { asModuleError, HostError, type ModuleError } from '../errors.js';
import { Host, ServiceNotFoundError } from '../host/host.js';
import type { Service, ServiceListRow } from '../host/types.js';
import { log } from '../log.js';
import { Lifecycle, leftReservations } from '../pool/lifecycle.js';
import { nothingToDo } from '../pool/renewal.js';
import { openStore } from '../pool/store.js';
import { LicensingClient } from '../upstream/client.js';
import type { UpstreamLicense } from '../upstream/types.js';
import { underServiceLock } from '../pool/service-lock.js';

export async function maintain(p: Paths, onlyModule: number | null): Promise<number> {
  const store = openStore(p.db);
  const host = new Host(p.mgrctl);
  const day = today();
  let handled = 0;
  let failed = 0;
  const fail = (what: string, e: unknown) => {
    failed++;
    const msg = asModuleError(e).message;
    log.error(`maintain: ${what}: ${msg}`);
    process.stderr.write(`pmisplicense maintain: ${what}: ${msg}\n`);
  };
  try {
    const licenses = store.licenses(onlyModule).filter((l) => l.state !== 'gone');
    const modules = [...new Set(licenses.map((l) => l.module))];
    // One read of the host's services: a bound license whose service is closed or unknown is
    // seen without a call of its own (a leak: reported, and left to reconcile --apply).
    let services: Map<number, ServiceListRow> | null = null;
    try {
      services = new Map((await host.listServices()).map((s) => [s.id, s]));
    } catch (e) {
      log.warn(`maintain: the host's service list could not be read (${asModuleError(e).message}); bound licenses are checked one by one`);
    }
    for (const module of modules) {
      const mine = licenses.filter((l) => l.module === module);
      let lifecycle: Lifecycle;
      let upstream: LicensingClient;
      try {
        upstream = new LicensingClient(await host.readModule(module));
        lifecycle = new Lifecycle({ store, upstream, host, module, today: day, keyWaitMs: keyWaitSeconds() * 1000, orderSettleMs: orderSettleSeconds() * 1000 });
      } catch (e) {
        for (const lic of mine) fail(`license ${lic.upstreamId} (module ${module} unusable)`, e);
        continue;
      }
      // One read of the whole account (every page: the client returns a complete list or fails).
      // Without it the pooled licenses cannot be judged; bound ones are still read one by one.
      let listed: Map<number, UpstreamLicense> | null = null;
      let listError: ModuleError | null = null;
      try {
        listed = new Map((await upstream.list()).map((u) => [u.id, u]));
      } catch (e) {
        listError = asModuleError(e);
      }
      // Pool re-uses a killed process left reserved: returned to the pool (issue 17), not renewed.
      const reserved = leftReservations(store, module);
      const readService = async (item: number): Promise<Service | null> => {
        try {
          return await host.readService(item);
        } catch (e) {
          if (e instanceof ServiceNotFoundError) return null;
          throw e;
        }
      };
      for (const lic of mine) {
        const what = `license ${lic.upstreamId}${lic.item !== null ? ` of service ${lic.item}` : lic.releasedFrom !== null ? ` released from service ${lic.releasedFrom}` : ' (pooled)'}`;
        try {
          if (lic.state === 'free') {
            if (!listed) throw listError!;
            await lifecycle.maintainFree(lic, listed.get(lic.upstreamId) ?? null);
          } else if (lic.state === 'releasing') {
            await underServiceLock(store, lic.releasedFrom!, 'maintain', () => lifecycle.finishReleasesOf(lic.releasedFrom!, readService));
          } else if (reserved.has(lic.upstreamId)) {
            const item = lic.item!;
            await underServiceLock(store, item, 'maintain', () => lifecycle.returnLeftReservation(item, lic.upstreamId, readService));
          } else {
            const entry = listed?.get(lic.upstreamId);
            const hostService = services?.get(lic.item!);
            if (services && (!hostService || hostService.status === 4)) {
              // Judged from the row read again under the lock: a close that finished meanwhile is no leak.
              const stillBound = await underServiceLock(store, lic.item!, 'maintain', async () => store.license(module, lic.upstreamId)?.item === lic.item);
              if (stillBound) {
                throw new HostError(`BILLmanager ${hostService ? 'shows the service closed' : 'no longer knows the service'}, yet the license is bound to it: left for the administrator (pmisplicense reconcile shows it as a leak, --apply releases it)`, false);
              }
              handled++;
              continue;
            }
            // Nothing due is nothing written: no row bound to a service changes without its
            // service's lock (drift is reconcile's and sync_item's to report).
            if (!entry || !nothingToDo(lic, entry, day)) {
              const item = lic.item!;
              await underServiceLock(store, item, 'maintain', async () => {
                const cur = store.license(module, lic.upstreamId);
                if (!cur || cur.item !== item || (cur.state !== 'bound' && cur.state !== 'suspended')) {
                  log.info(`maintain: license ${lic.upstreamId} changed hands meanwhile (now ${cur?.state ?? 'unknown'}); nothing to do`);
                  return;
                }
                let service;
                try {
                  service = await host.readService(item);
                } catch (e) {
                  if (e instanceof ServiceNotFoundError) {
                    throw new ServiceNotFoundError(item, `the license stays bound and is left for the administrator: pmisplicense reconcile shows it as a leak, --apply releases it`);
                  }
                  throw e;
                }
                await lifecycle.maintainBound(service, cur);
              });
            }
          }
          handled++;
        } catch (e) {
          fail(what, e);
        }
      }
    }
    // SPEC 5.9: a live service of the module with no license bound never passes silently.
    if (services) {
      const { maintainUnbound } = await import('../pool/migrate.js');
      const r = await maintainUnbound({ store, host, today: day, onlyModule, stateModules: modules, services: [...services.values()], fail });
      handled += r;
    }
  } finally {
    store.close();
  }
  log.info(`maintain: ${handled} license(s) handled, ${failed} failed`);
  process.stdout.write(`maintain: ${handled} license(s) handled, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}
