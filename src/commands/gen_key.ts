// `gen_key` (SPEC 3): BILLmanager's "new key" for a software service. ISPsystem's processing module
// base dispatches it like the item operations (`gen_key --item N` → GenKey(item), then prints
// `<doc><ok/></doc>`: Module::Run in processing/certificate/sslstore/module.cpp of the public repo
// ISPsystemLLC/billmanager, PROCESSING_GEN_KEY = "gen_key"). Here: a new key for the license bound
// to the service (`soft.edit clicked_button=newkey`, SPEC 7), within the licensing server's
// one-key-change-a-month rule, saved as the service's `lickey` (through mgrctl's -e form only).
import { addMonths, today } from '../dates.js';
import { BadInputError, CommandError } from '../errors.js';
import { Host } from '../host/host.js';
import { log } from '../log.js';
import { factsOf, monthPassed } from '../pool/lifecycle.js';
import { lockService } from '../pool/service-lock.js';
import { openStore, type ManagedLicense } from '../pool/store.js';
import type { ProtocolContext } from '../protocol.js';
import { LicensingClient } from '../upstream/client.js';

function tooSoon(item: number, lic: ManagedLicense, lastChange: string): BadInputError {
  const next = addMonths(lastChange, 1);
  return new BadInputError(
    'lickey',
    next,
    `The key of license ${lic.upstreamId} (service ${item}) was changed on ${lastChange}; the licensing server allows one key change a month, so the next new key can be made on ${next}.`,
  );
}

export async function run({ args, paths }: ProtocolContext): Promise<string> {
  if (args.item === null) throw new CommandError('gen_key', '--command gen_key needs --item <service id>.');
  const item = args.item;
  const day = today();
  const host = new Host(paths.mgrctl);
  const store = openStore(paths.db);
  try {
    await lockService(store, item, 'gen_key');
    try {
      const lic = store.licenseOfService(item);
      if (!lic) {
        throw new BadInputError('item', String(item), `Service ${item} has no license bound by pmisplicense, so there is no key to renew. Open the service first (or see pmisplicense reconcile).`);
      }
      // The module's copy of the last key change decides first: too soon means no call upstream at all.
      if (!monthPassed(lic.keyChangeDate, day)) throw tooSoon(item, lic, lic.keyChangeDate!);
      // The license's own module (account) answers for it (SPEC 5.9), whatever the service's is now.
      const upstream = new LicensingClient(await host.readModule(lic.module));
      // The licensing server is the authority for the date: read it before spending the change.
      const before = await upstream.get(lic.upstreamId);
      if (!monthPassed(before.keyChangeDate, day)) {
        store.refresh(lic, factsOf(before, lic));
        throw tooSoon(item, lic, before.keyChangeDate!);
      }
      const key = await upstream.newKey(lic.upstreamId);
      log.info(`service ${item}: license ${lic.upstreamId} has a new key`);
      // Saved first: the service (held under its lock) must show the key the license now has.
      if (key) await host.saveSecretParam(item, 'lickey', key);
      else log.warn(`service ${item}: license ${lic.upstreamId} got a new key that the licensing server does not show yet; maintain/sync_item fill it in`);
      const after = await upstream.get(lic.upstreamId).catch(() => ({ ...before, lickey: key, keyChangeDate: day }));
      const seen = { ...after, keyChangeDate: after.keyChangeDate ?? day };
      // Compare-and-set from the row as read; a row another process changed meanwhile gets the
      // facts only while it still serves this service (SPEC 5.8).
      if (!store.refresh(lic, factsOf(seen, lic))) {
        const cur = store.license(lic.module, lic.upstreamId);
        if (!cur || cur.item !== item || !store.refresh(cur, factsOf(seen, cur))) log.warn(`license ${lic.upstreamId} was changed by another process meanwhile; its new key date is recorded by the next read`);
      }
    } finally {
      store.unlock(item);
    }
  } finally {
    store.close();
  }
  return '<doc><ok/></doc>\n';
}
