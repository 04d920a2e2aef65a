// The BILLmanager host as the rest of the module sees it (SPEC 4): typed values only.
import type { Day } from '../dates.js';

export interface Service {
  id: number;
  /** '' when the server has no IP yet (retryable); otherwise a validated IPv4/IPv6 address. */
  ip: string;
  /** Enumeration internal name: the upstream tariff id, or 'nopanel'. */
  panel: string;
  /** BILLmanager period code as given (validated by the period rules, not here). */
  period: string;
  expiredate: Day | null;
  pricelist: string;
  itemtype: string;
  processingmodule: number | null;
  /** 2 = active. */
  status: number;
  /** Params this module saved earlier. */
  licenseId: number | null;
  lickey: string;
  licenseExpiredate: Day | null;
  /** Params named addon_<id>, passed to the order as they are. */
  addons: Record<string, string>;
}

export interface ModuleSettings {
  id: number;
  url: string;
  username: string;
  password: string;
}

export type PostOperation = 'open' | 'prolong' | 'close' | 'suspend' | 'resume' | 'setparam';
