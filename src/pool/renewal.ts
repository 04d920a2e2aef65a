// The renewal rule (SPEC 5.3): a bound license of an active service never lapses and is never
// bought ahead of need. It is prolonged only while it expires within the lead AND the service is
// paid beyond it.
import { addDays, type Day } from '../dates.js';
import type { UpstreamLicense } from '../upstream/types.js';
import type { ManagedLicense } from './store.js';

export const RENEWAL_LEAD_DAYS = 5;

export interface RenewalFacts {
  licensePeriod: number;
  licenseExpires: Day | null;
  serviceExpires: Day | null;
  serviceActive: boolean;
  today: Day;
}

export function needsRenewal(f: RenewalFacts): boolean {
  if (!f.serviceActive || f.licensePeriod === 0) return false;
  if (f.licenseExpires === null || f.serviceExpires === null) return false;
  return f.licenseExpires <= addDays(f.today, RENEWAL_LEAD_DAYS) && f.serviceExpires > f.licenseExpires;
}

/** `maintain`'s shortcut (its dry run shares it): a bound license that needs no call of its own today: its key is known and it is paid beyond the
 *  renewal lead (or lifetime), so neither renewal nor the key can be due; and its expiry is the one
 *  recorded (one renewed by a run that died before recording it must reach its service's params). */
export function nothingToDo(lic: Pick<ManagedLicense, 'hasKey' | 'expiredate'>, u: Pick<UpstreamLicense, 'period' | 'expiredate'>, day: Day): boolean {
  if (!lic.hasKey || u.expiredate !== lic.expiredate) return false;
  if (u.period === 0) return true;
  return u.period !== null && u.expiredate !== null && u.expiredate > addDays(day, RENEWAL_LEAD_DAYS);
}
