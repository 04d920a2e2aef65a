// `setparam` (SPEC 3, 5): see Lifecycle.setparam. A failure during a tariff change is rolled back
// as ISPsystem's module base does (SPEC 5.6 v3: src/pool/rollback.ts); the error stands.
import { BusyError } from '../errors.js';
import type { ManagedLicense } from '../pool/store.js';
import type { ProtocolContext } from '../protocol.js';
import { itemCommand } from './item.js';

export async function run(ctx: ProtocolContext): Promise<string> {
  // The license the service had when the change started: the one a failed change may give back.
  let before: ManagedLicense | null = null;
  const command = itemCommand('setparam', 'setparam', ({ lifecycle, service, store }) => {
    before = store.licenseOfService(service.id);
    return lifecycle.setparam(service);
  });
  try {
    return await command.run(ctx);
  } catch (e) {
    // Not when the service was never taken: another process holds it and this run changed nothing.
    if (ctx.args.item !== null && !(e instanceof BusyError)) {
      const { rollbackFailedSetparam } = await import('../pool/rollback.js');
      await rollbackFailedSetparam(ctx.paths, ctx.args.item, before);
    }
    throw e;
  }
}
