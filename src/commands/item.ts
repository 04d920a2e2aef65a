// The shared frame of every item command (open, prolong, close, suspend, resume, setparam,
// sync_item): read the service and its module from the host, connect to the licensing server,
// open the state, hold the service's lock, run the lifecycle step, report success to the host.
// Failures propagate to protocol.ts, which owns the error path.
import { keyWaitSeconds, orderSettleSeconds } from '../config.js';
import { today } from '../dates.js';
import { BadInputError, CommandError } from '../errors.js';
import { Host } from '../host/host.js';
import type { PostOperation, Service } from '../host/types.js';
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
          if (service.processingmodule === null) {
            throw new BadInputError('processingmodule', '', `Service ${item} has no processing module in BILLmanager; assign the pmisplicense module to its tariff.`);
          }
          const upstream = new LicensingClient(await host.readModule(service.processingmodule));
          const lifecycle = new Lifecycle({ store, upstream, host, module: service.processingmodule, today: today(), keyWaitMs: keyWaitSeconds() * 1000, orderSettleMs: orderSettleSeconds() * 1000 });
          await step({ service, lifecycle, store });
          try {
            // The service's own history, for period advice (`advise`); never a reason to fail.
            store.recordServiceEvent({ module: service.processingmodule, item, day: today(), command, period: service.period, panel: service.panel, pricelist: service.pricelist, itemtype: service.itemtype, expiredate: service.expiredate });
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
