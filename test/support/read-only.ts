// What "no call that changes anything" means for dry runs (SPEC 3 v3): at the licensing server only
// reading functions (auth, the license list, a license's form without sok, the price export); at
// the host only reads (no sok=ok, no saveparam, no post*, no task or running-operation write).
import type { SimCall } from '../../src/sandbox/host.js';
import type { RecordedRequest } from '../../src/sandbox/licensing-server.js';

const UPSTREAM_READS = new Set(['auth', 'soft', 'pricelist.export']);

/** The upstream requests that could have changed something. */
export function changingRequests(reqs: readonly RecordedRequest[]): RecordedRequest[] {
  return reqs.filter((r) => !(UPSTREAM_READS.has(r.func) || (r.func === 'soft.edit' && r.params.sok === undefined)));
}

/** The host calls that could have changed something. */
export function changingCalls(calls: readonly SimCall[]): SimCall[] {
  return calls.filter((c) => c.argv.some((a) => a === 'sok=ok') || /saveparam|^service\.post|setmanual|^task\.edit|^runningoperation\.edit|delete/.test(c.func));
}
