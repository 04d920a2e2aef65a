// The shared frame of every item command (open, prolong, close, suspend, resume, setparam,
// sync_item): read the service and its module from the host, connect to the licensing server,
// open the state, hold the service's lock, run the lifecycle step, report success to the host.
// Failures propagate to protocol.ts, which owns the error path.
import { keyWaitSeconds, orderSettleSeconds } from '../config.js';
import { today } from '../dates.js';
import { BadInputError, CommandError, HostError } from '../errors.js';
import { Host, ModuleNotFoundError } from '../host/host.js';
import type { ModuleSettings, PostOperation, Service } from '../host/types.js';
import { log } from '../log.js';
import { Lifecycle } from '../pool/lifecycle.js';
import { lockService } from '../pool/service-lock.js';
import { openStore, type LicenseStore } from '../pool/store.js';
import type { ProtocolCommand, ProtocolContext } from '../protocol.js';
import { LicensingClient } from '../upstream/client.js';

export interface ItemContext {
  service: Service;
  lifecycle: Lifecycle;
  store: LicenseStore;
}

/** SPEC 5.9: these commands bind an existing license of a live service that has none, or fail. */
const MIGRATING: ReadonlySet<string> = new Set(['prolong', 'resume', 'sync_item']);

/** Commands that may buy or bind a license: never for a service BILLmanager shows closed (status 4).
 *  BILLmanager does not send them for one, but an administrator restarting an old operation left
 *  manual can (found by the stress run: a setparam of a closed service bought a license for nobody). */
const BINDING: ReadonlySet<string> = new Set(['open', 'setparam', 'resume']);
const SERVICE_CLOSED = 4;

/** The module recorded with the service's license (bound, or being released from it); null when none. */
function ownerModule(store: LicenseStore, item: number): number | null {
  return store.licenseOfService(item)?.module ?? store.releasingFrom(item)[0]?.module ?? null;
}

/** The owner module's settings; a module the host no longer knows fails the command, saying so. */
async function readOwner(host: Host, module: number, current: number, item: number): Promise<ModuleSettings> {
  try {
    return await host.readModule(module);
  } catch (e) {
    if (module !== current && e instanceof ModuleNotFoundError) {
      throw new HostError(`The license of service ${item} belongs to processing module ${module}, which bought it, and BILLmanager no longer has that module (the service now uses module ${current}). Restore module ${module} (same licensing server account), or release the license by hand at the licensing server.`, false);
    }
    throw e;
  }
}

/** Builds the command for one item operation; `post` names the host's service.post<op>. */
export function itemCommand(command: string, post: PostOperation | null, step: (ctx: ItemContext) => Promise<void>): ProtocolCommand {
  return {
    async run({ args, paths }: ProtocolContext): Promise<string> {
      if (args.item === null) throw new CommandError(command, `--command ${command} needs --item <service id>.`);
      const item = args.item;
      const host = new Host(paths.mgrctl);
      const store = openStore(paths.db);
      try {
        // The lock comes first, so that what we read of the service is what the previous holder left.
        await lockService(store, item, command);
        try {
          let service = await host.readService(item);
          // Only these two need the panel and add-ons, hence BILLmanager's database (SPEC 4).
          if (command === 'open' || command === 'setparam') {
            const { withResolvedPanel } = await import('../host/panel.js');
            service = await withResolvedPanel(host, service);
          }
          if (BINDING.has(command) && service.status === SERVICE_CLOSED) {
            throw new BadInputError('status', String(service.status), `Service ${item} is closed (deleted) in BILLmanager: ${command} buys and binds nothing for it. If this was an old operation restarted by hand, delete the operation; a closed service's license is released by close (or pmisplicense reconcile --apply).`);
          }
          if (service.processingmodule === null) {
            throw new BadInputError('processingmodule', '', `Service ${item} has no processing module in BILLmanager; assign the pmisplicense module to its tariff.`);
          }
          // A license belongs to the module that bought it (SPEC 5.9): every call about the service's
          // license goes to the account recorded with it, also after the service moved to another module.
          const module = ownerModule(store, item) ?? service.processingmodule;
          const upstream = new LicensingClient(await readOwner(host, module, service.processingmodule, item));
          const day = today();
          const lifecycle = new Lifecycle({ store, upstream, host, module, today: day, keyWaitMs: keyWaitSeconds() * 1000, orderSettleMs: orderSettleSeconds() * 1000 });
          if (MIGRATING.has(command)) {
            const { bindIfUnbound } = await import('../pool/migrate.js');
            await bindIfUnbound({ store, upstream, host, module, today: day }, service, command);
          }
          await step({ service, lifecycle, store });
          try {
            // The service's own history, for period advice (`advise`); never a reason to fail.
            store.recordServiceEvent({ module: service.processingmodule, item, day, command, period: service.period, panel: service.panel, pricelist: service.pricelist, itemtype: service.itemtype, expiredate: service.expiredate });
          } catch (e) {
            log.warn(`service ${item}: could not record the ${command} for period advice: ${(e as Error).message}`);
          }
          if (post) await host.post(post, item);
          if (args.runningOperation !== null) store.resetFailures(item, command);
          log.info(`service ${item}: ${command} done`);
        } finally {
          store.unlock(item);
        }
      } finally {
        store.close();
      }
      return '';
    },
  };
}
