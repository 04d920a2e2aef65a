// The licensing server as the rest of the module sees it (SPEC 7): typed values only. The client
// in client.ts is the one place that turns its XML into these.
import type { Day } from '../dates.js';

/** Upstream license status: 1 ordered, 2 active, 3 suspended, 4 deleted, 5 processing. */
export type LicenseStatus = 1 | 2 | 3 | 4 | 5;
export const STATUS = { ordered: 1, active: 2, suspended: 3, deleted: 4, processing: 5 } as const;

export interface UpstreamLicense {
  id: number;
  licname: string;
  ip: string;
  /** Tariff id (pricelist_id where the reply carries both a name and an id). */
  pricelist: string;
  /** The tariff's name where the reply carries one beside the id; '' otherwise. */
  pricelistName: string;
  /** License period code: 1, 12 or 0 (lifetime); null when the reply gave none (unknown). */
  period: number | null;
  status: LicenseStatus;
  /** Last paid day; null when the upstream gave none. */
  expiredate: Day | null;
  createdate: Day | null;
  /** '' when the key is not ready yet or the reply (the list) carries none. */
  lickey: string;
  ipChangeDate: Day | null;
  keyChangeDate: Day | null;
  autoprolong: boolean;
  remoteid: string;
}

export interface LicenseChanges {
  licname?: string;
  ip?: string;
  /** false sends autoprolong=null (off). */
  autoprolong?: boolean;
  remoteid?: string;
}

export interface OrderRequest {
  pricelist: string;
  period: number;
  ip: string;
  licname: string;
  remoteid: string;
  /** Service params named addon_<id>, sent as they are. */
  addons: Record<string, string>;
}

/** One price of a tariff: what a license of `period` costs. */
export interface TariffPrice {
  /** License period in months: 1, 12; 0 = lifetime. */
  period: number;
  /** null = unknown (the export gave no readable price): never read as free. */
  cost: number | null;
  /** The price's currency as the licensing server names it; null when it gives none. */
  currency: string | null;
}

/** One tariff the account can order (`pricelist.export`, SPEC 7 v3). */
export interface Tariff {
  /** The tariff (pricelist) id, what the panel enumeration's internal name must be. */
  id: string;
  name: string;
  /** The periods the export lists for it, in the export's order. A period not listed is unknown. */
  prices: TariffPrice[];
}

export interface ConnectionSettings {
  url: string;
  username: string;
  password: string;
}

/** One method per licensing-server function the module uses. */
export interface LicensingApi {
  /** func=auth with username/password; throws CredentialsError when refused. */
  auth(): Promise<void>;
  /**
   * func=soft: every license on the account (no keys), all pages read (SPEC 7). A returned list is
   * always complete: callers conclude "not on the account" from it (5.2 step 3, 5.7), so a list
   * that cannot be read whole throws (a retryable TransportError) and never comes back partial.
   * A license ordered or deleted while the pages are read may still be missed or listed: read it
   * directly (get) before acting on its absence.
   */
  list(): Promise<UpstreamLicense[]>;
  /** The whole list read until two reads in a row agree: for concluding "not ordered" (SPEC 5.9). */
  listAgreed(): Promise<UpstreamLicense[]>;
  /** func=soft.edit elid=: one license with its key. */
  get(id: number): Promise<UpstreamLicense>;
  /** func=soft.edit elid= sok=ok …changes. */
  edit(id: number, changes: LicenseChanges): Promise<UpstreamLicense>;
  /** func=soft.edit clicked_button=newkey: returns the new key. */
  newKey(id: number): Promise<string>;
  /** func=soft.order.param: returns the new license id. */
  order(req: OrderRequest): Promise<number>;
  /** func=service.prolong: returns the new expiredate. */
  prolong(id: number, period: number): Promise<Day>;
  /** func=pricelist.export itemtype=soft onlyavailable=on: the tariffs the account can order. */
  tariffs(): Promise<Tariff[]>;
  suspend(id: number): Promise<void>;
  resume(id: number): Promise<void>;
  delete(id: number): Promise<void>;
}
