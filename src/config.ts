// Where the module finds the host and its own files (SPEC 2). Read once per process, from the
// environment, so that tests and sandboxes can point every path elsewhere.
import { join } from 'node:path';
import { now } from './dates.js';
import { EnvironmentError } from './errors.js';

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

/** A number of seconds from the environment. Unset or empty means the default; a value that is set
 *  but unusable (`abc`, `-5`, beyond the limit) is an error naming the variable, never silently
 *  replaced by the default (SPEC 2). */
function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number, range: { min: number; minIncluded: boolean; max: number }): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const t = raw.trim();
  const v = /^\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
  const aboveMin = range.minIncluded ? v >= range.min : v > range.min;
  if (!(Number.isFinite(v) && aboveMin && v <= range.max)) {
    const low = range.minIncluded ? `${range.min}` : `more than ${range.min}`;
    throw new EnvironmentError(name, raw, `it must be a number of seconds from ${low} to ${range.max}`);
  }
  return v;
}

/** Seconds a licensing-server request may take in all (the transport's limit: up to an hour). */
export function httpTimeoutSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return seconds(env, 'PMISPLICENSE_HTTP_TIMEOUT', 60, { min: 0, minIncluded: false, max: 3600 });
}

/** Seconds to wait in all for a freshly ordered license's key. SPEC 5.2 step 5 bounds the wait at
 *  60 s, so a larger setting waits 60 s. */
export function keyWaitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return Math.min(60, seconds(env, 'PMISPLICENSE_KEY_WAIT', 60, { min: 0, minIncluded: true, max: 86_400 }));
}

/** Seconds an order whose reply was lost is given to show up at the licensing server before the
 *  module may conclude it was not taken and order again (a slow upstream can carry out a request
 *  after the module gave up waiting). */
export function orderSettleSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return seconds(env, 'PMISPLICENSE_ORDER_SETTLE', 180, { min: 0, minIncluded: true, max: 86_400 });
}

/** Seconds to wait for another process working on the same service. */
export function lockWaitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return seconds(env, 'PMISPLICENSE_LOCK_WAIT', 60, { min: 0, minIncluded: true, max: 3600 });
}

/** Checks every setting of the environment once, before a command does anything (admin commands
 *  and the protocol alike): throws EnvironmentError naming the first unusable variable. */
export function checkEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  now(env);
  httpTimeoutSeconds(env);
  keyWaitSeconds(env);
  orderSettleSeconds(env);
  lockWaitSeconds(env);
}
