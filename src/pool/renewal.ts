// The renewal rule (SPEC 5.3): a bound license of an active service never lapses and is never
// bought ahead of need. It is prolonged only while it expires within the lead AND the service is
// paid beyond it.
import { addDays, type Day } from '../dates.js';

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
