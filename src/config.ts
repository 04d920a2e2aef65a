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

/** A number of seconds from the environment; unset, empty, or out of range means the default. */
function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name]?.trim();
  const v = raw ? Number(raw) : NaN;
  return Number.isFinite(v) && v >= 0 && v <= max ? v : fallback;
}

/** Seconds to wait in all for a freshly ordered license's key (SPEC 5.2 step 5: at most 60). */
export function keyWaitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return seconds(env, 'PMISPLICENSE_KEY_WAIT', 60, 60);
}

/** Seconds an order whose reply was lost is given to show up at the licensing server before the
 *  module may conclude it was not taken and order again (a slow upstream can carry out a request
 *  after the module gave up waiting). */
export function orderSettleSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return seconds(env, 'PMISPLICENSE_ORDER_SETTLE', 180, 86_400);
}

/** Seconds to wait for another process working on the same service. */
export function lockWaitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return seconds(env, 'PMISPLICENSE_LOCK_WAIT', 60, 3600);
}
