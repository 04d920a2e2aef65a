// Where the module finds the host and its own files (SPEC 2). Read once per process, from the
// environment, so that tests and sandboxes can point every path elsewhere.
import { join } from 'node:path';

export interface Paths {
  mgrRoot: string;
  mgrctl: string;
  db: string;
  log: string;
}

export function paths(env: NodeJS.ProcessEnv = process.env): Paths {
  const mgrRoot = env.MGR_ROOT || '/usr/local/mgr5';
  return {
    mgrRoot,
    mgrctl: env.PMISPLICENSE_MGRCTL || join(mgrRoot, 'sbin', 'mgrctl'),
    db: env.PMISPLICENSE_DB || join(mgrRoot, 'var', 'pmisplicense.db'),
    log: env.PMISPLICENSE_LOG || join(mgrRoot, 'var', 'pmisplicense.log'),
  };
}

/** Seconds to wait in all for a freshly ordered license's key (SPEC 5.2 step 5: at most 60). */
export function keyWaitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.PMISPLICENSE_KEY_WAIT);
  return Number.isFinite(v) && v >= 0 && v <= 60 ? v : 60;
}

/** Seconds an order whose reply was lost is given to show up at the licensing server before the
 *  module may conclude it was not taken and order again (a slow upstream can carry out a request
 *  after the module gave up waiting). PMISPLICENSE_ORDER_SETTLE, default 180. */
export function orderSettleSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.PMISPLICENSE_ORDER_SETTLE);
  return env.PMISPLICENSE_ORDER_SETTLE !== undefined && Number.isFinite(v) && v >= 0 ? v : 180;
}
