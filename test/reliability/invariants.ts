// The money invariants every reliability case ends by checking, on both sides: the licensing
// server's account (the sandbox) and the module's state file and the host's service params.
import type { World } from '../support/world.js';
import { hostServices } from './stress-kit.js';

export interface Invariants {
  /** Services that paid for more than one new license (orders named `Item #N` taken upstream). */
  doublePurchases: number;
  /** Licenses serving two services (locally, or in the host's license_id params). */
  doubleBindings: number;
  /** Paid licenses upstream that the module does not know: money nobody will ever use. */
  lostRecords: number;
  /** Bound services whose local license, upstream license and host params disagree. */
  inconsistencies: number;
  /** Paid licenses out of the pool's hands: bound to a closed service, left `releasing` (taken off
   *  a service, never put into the pool) with no rerun to come, or pooled rows that the upstream
   *  does not show as pooled (gone, named for a service, auto-renewal on). */
  leaks: number;
  problems: string[];
}

export interface InvariantOptions {
  /** Upstream licenses the test put there itself and the module is not meant to know. */
  ignoreUpstream?: number[];
  /** Services whose failed command has not been run again yet: a license taken off one of them
   *  and not yet released may be `releasing` (SPEC 5.8 point 4: the rerun finishes the release).
   *  Without a rerun to come, a `releasing` license with paid time is a leak. */
  rerunPending?: number[];
}

export function checkInvariants(w: World, o: InvariantOptions = {}): Invariants {
  const problems: string[] = [];
  const orders = w.sandbox.requests('soft.order.param').filter((r) => r.applied);
  const perItem = new Map<string, number>();
  for (const r of orders) perItem.set(r.params.licname ?? '', (perItem.get(r.params.licname ?? '') ?? 0) + 1);
  let doublePurchases = 0;
  for (const [licname, n] of perItem) {
    if (n > 1) {
      doublePurchases++;
      problems.push(`${licname}: ${n} orders taken upstream`);
    }
  }

  const local = w.store((s) => s.licenses());
  const bound = local.filter((l) => l.item !== null);
  let doubleBindings = 0;
  const byLicense = new Map<number, number[]>();
  for (const l of bound) byLicense.set(l.upstreamId, [...(byLicense.get(l.upstreamId) ?? []), l.item!]);
  const services = w.host.sim;
  const paramOwners = new Map<string, number[]>();
  // Every service of the host (its SQLite file, whatever the ids), except closed ones (SPEC 5.8 1).
  const hostAll = hostServices(w.host.dbPath);
  for (const s of hostAll) {
    const lid = s.params.license_id;
    if (lid && s.status !== 4) paramOwners.set(lid, [...(paramOwners.get(lid) ?? []), s.id]);
  }
  for (const [lid, items] of [...byLicense, ...[...paramOwners].map(([k, v]) => [Number(k), v] as const)]) {
    if (new Set(items).size > 1) {
      doubleBindings++;
      problems.push(`license ${lid} bound to services ${items.join(', ')}`);
    }
  }

  const known = new Set(local.filter((l) => l.state !== 'gone').map((l) => l.upstreamId));
  const ignore = new Set(o.ignoreUpstream ?? []);
  const today = w.sandbox.today();
  let lostRecords = 0;
  for (const u of w.sandbox.licenses()) {
    if (u.deleted || ignore.has(u.id)) continue;
    const paid = u.period === 0 || u.expiredate >= today;
    if (paid && !known.has(u.id)) {
      lostRecords++;
      problems.push(`upstream license ${u.id} (${u.licname}) is paid but unknown to the module`);
    }
  }

  let inconsistencies = 0;
  for (const l of bound) {
    const u = w.sandbox.license(l.upstreamId);
    const s = services.service(l.item!);
    if (!u || u.deleted) {
      inconsistencies++;
      problems.push(`service ${l.item}: bound license ${l.upstreamId} does not exist upstream`);
    } else if (u.licname !== `Item #${l.item}`) {
      inconsistencies++;
      problems.push(`service ${l.item}: license ${l.upstreamId} is named "${u.licname}" upstream`);
    } else if (s && s.params.license_id && s.params.license_id !== String(l.upstreamId)) {
      inconsistencies++;
      problems.push(`service ${l.item}: host says license ${s.params.license_id}, module says ${l.upstreamId}`);
    }
  }
  // Pooled rows against the upstream, and bound rows against closed services (SPEC 5.8 3).
  let leaks = 0;
  for (const l of local) {
    const u = w.sandbox.license(l.upstreamId);
    const paid = u !== undefined && !u.deleted && (u.period === 0 || u.expiredate >= today);
    if (l.state === 'free') {
      if (!u || u.deleted) {
        leaks++;
        problems.push(`pooled license ${l.upstreamId} does not exist upstream`);
      } else if (u.licname !== 'free.lic' || u.autoprolongOn) {
        leaks++;
        problems.push(`pooled license ${l.upstreamId} is "${u.licname}"${u.autoprolongOn ? ' with auto-renewal on' : ''} upstream`);
      }
    } else if (l.state === 'releasing' && paid && !(o.rerunPending ?? []).includes(l.releasedFrom!)) {
      // Neither in use nor in the pool: nothing will re-use it or stop paying for it (SPEC 5.8 3).
      leaks++;
      problems.push(`paid license ${l.upstreamId} was taken off service ${l.releasedFrom} and left releasing (neither bound nor pooled)`);
    } else if (l.item !== null && paid) {
      const s = hostAll.find((x) => x.id === l.item);
      if (!s || s.status === 4) {
        leaks++;
        problems.push(`paid license ${l.upstreamId} is bound to service ${l.item}, which is ${s ? 'closed' : 'unknown'} in the host`);
      }
    }
  }
  return { doublePurchases, doubleBindings, lostRecords, inconsistencies, leaks, problems };
}
