// The BILLmanager host as the rest of the module sees it (SPEC 4): typed values only.
import type { Day } from '../dates.js';

export interface Service {
  id: number;
  /** '' when the server has no IP yet (retryable); otherwise a validated IPv4/IPv6 address. */
  ip: string;
  /**
   * Enumeration internal name: the upstream tariff id, or 'nopanel'. As read from soft.edit it is
   * the product-type parameter `panel` ('' when the form has none); `open` and `setparam` replace it
   * with the resolution of SPEC 4 (src/host/panel.ts), which reads the tariff options.
   */
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
  /**
   * The upstream add-ons sent with an order: tariff options named addon_<digits> with their totals
   * (SPEC 4). Never a field of soft.edit (its addon_<N> are the host's own option ids): empty as
   * read from soft.edit, filled by the resolution for `open` and `setparam`.
   */
  addons: Record<string, string>;
}

/** One child of the soft.edit document, as the host gave it (for `diagnose`). */
export interface FormField {
  name: string;
  value: string;
}

/** A row of the `soft` list (SPEC 4): what `reconcile` needs of every service in one call. */
export interface ServiceListRow {
  id: number;
  /** 1 ordered, 2 active, 3 suspended, 4 deleted, 5 processing; 0 when the host gave none. */
  status: number;
  processingmodule: number | null;
  ip: string;
}

/** BILLmanager's own database as `paramlist` names it (SPEC 4). */
export interface DatabaseSettings {
  host: string;
  user: string;
  password: string;
  /** '' = no database: no tariff options are read. */
  name: string;
  /** Unix socket; when set it is used instead of TCP to `host`. */
  socket: string;
}

export interface ModuleSettings {
  id: number;
  url: string;
  username: string;
  password: string;
  /** The module's kind as processing.edit names it (`module`); '' when the reply has none. */
  kind?: string;
}

/** A row of the host's `processing` list (SPEC 3: `reconcile` without `--module`). */
export interface ProcessingModuleRow {
  id: number;
  name: string;
  /** The module's kind (`module`, e.g. pmisplicense, ispmanager6); '' when the row has none. */
  kind: string;
}

export type PostOperation = 'open' | 'prolong' | 'close' | 'suspend' | 'resume' | 'setparam';
