// The sandbox licensing server's account (SPEC 7, 9): licenses, balance, prices and the clock,
// with the upstream's rules. No HTTP here, so every rule can be read in one place; the server in
// licensing-server.ts turns requests into calls of these methods and their results into XML.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { addDays, addMonths, dayOf, isDay, now as envNow, type Day } from '../dates.js';
import type { LicenseStatus } from '../upstream/types.js';
import { dropXmlForbidden } from '../xml-out.js';

/** License order periods the upstream sells (SPEC 1): months; 0 = lifetime. */
export type OrderPeriod = 1 | 12 | 0;
export type PriceTable = Record<string, Partial<Record<'1' | '12' | '0', number>>>;

/** Prices per tariff (pricelist id) and period. Options replace whole entries of this table. */
export const DEFAULT_PRICES: PriceTable = {
  '3541': { '1': 10, '12': 100, '0': 300 },
  '4601': { '1': 20, '12': 200, '0': 600 },
  '55331': { '1': 15, '12': 150, '0': 450 },
  '55333': { '1': 30, '12': 300, '0': 900 },
  '55335': { '1': 60, '12': 600, '0': 1800 },
  '55227': { '1': 8, '12': 80, '0': 240 },
  '55228': { '1': 12, '12': 120, '0': 360 },
  '55229': { '1': 16, '12': 160, '0': 480 },
  '55230': { '1': 24, '12': 240, '0': 720 },
};

/** Tariff names, sent as `pricelist` beside `pricelist_id` as a real billing does. */
export const DEFAULT_TARIFF_NAMES: Record<string, string> = {
  '3541': 'ISPmanager Lite',
  '4601': 'ISPmanager Business',
  '55331': 'BILLmanager 6 Startup',
  '55333': 'BILLmanager 6 Advanced',
  '55335': 'BILLmanager 6 Corporate',
  '55227': 'ISPmanager 6 Lite',
  '55228': 'ISPmanager 6 Pro',
  '55229': 'ISPmanager 6 Host',
  '55230': 'ISPmanager 6 Business',
};

export const DEFAULT_BALANCE = 100;
/** The account's currency, as `pricelist.export` names it in `<price currency="…">`. */
export const DEFAULT_CURRENCY = 'EUR';

/** One tariff of `pricelist.export`: what the account can order and its prices per order period. */
export interface ExportedTariff {
  id: string;
  name: string;
  /** Order periods the tariff is sold for, in the table's order (1, 12, 0), with their prices. */
  prices: { period: OrderPeriod; cost: number }[];
}
/** A lifetime license carries this expiredate and never expires whatever the clock says. */
export const LIFETIME_EXPIREDATE: Day = '2099-12-31';
/** An expired license is deleted on expiredate + this many days (suspended the days before). */
export const DELETE_AFTER_DAYS = 30;
export const FIRST_LICENSE_ID = 1001;

// Characters XML 1.0 does not allow in a document (C0 controls but tab/LF/CR, lone surrogates,
// U+FFFE/U+FFFF) cannot be escaped, so the sandbox drops them from what it stores and from every
// reply (the module's own filter, src/xml-out.ts): one license name with a control character must
// not make every later list reply unreadable.

/** BILLmanager period codes accepted as an autoprolong value ("on" for that period). */
const PERIOD_CODES = new Set(['1', '3', '6', '12', '24', '36', '0', '-100', '-50']);

/** A refusal the server sends as `<error type object><msg>`. */
export class SandboxApiError extends Error {
  constructor(
    readonly type: string,
    readonly object: string,
    message: string,
  ) {
    super(message);
    this.name = 'SandboxApiError';
  }
}

/** One license as the sandbox holds it, with everything a test may want to assert on. */
export interface SandboxLicense {
  id: number;
  licname: string;
  ip: string;
  /** Tariff id (what the API sends as `pricelist_id`). */
  pricelist: string;
  /** Tariff name (what the API sends as `pricelist`). */
  pricelistName: string;
  period: OrderPeriod;
  /** Derived from the clock at the moment of the call: 2 active, 3 suspended, 4 deleted, 5 processing. */
  status: LicenseStatus;
  createdate: Day;
  expiredate: Day;
  /** '' while the license is processing (status 5). */
  lickey: string;
  ipChangeDate: Day;
  keyChangeDate: Day;
  /** Raw value: 'null' when off, else the period code it was set to. */
  autoprolong: string;
  autoprolongOn: boolean;
  remoteid: string;
  /** addon_<id> fields of the order, as sent. */
  addons: Record<string, string>;
  /** Suspended by soft.suspend (cleared only by soft.resume). */
  manualSuspended: boolean;
  /** Replies show no period and no expiredate (as for a license still being processed): the
   *  module must treat its paid time as unknown, never as none (SPEC 5.4). */
  datesWithheld: boolean;
  /** Suspended because expiredate < today (cleared by service.prolong). Never for lifetime. */
  expirySuspended: boolean;
  deleted: boolean;
  deletedBy: 'delete' | 'expiry' | null;
  deletedOn: Day | null;
}

/** Seed for a license put on the account directly (not bought: no money moves). */
export interface SeedLicense {
  id?: number;
  /** Default 'free.lic'. */
  licname?: string;
  /** Default '192.0.2.10'. */
  ip?: string;
  /** Default '3541'. */
  pricelist?: string;
  /** 1, 12 or 0; default 1. */
  period?: number;
  /** Default today. */
  createdate?: Day;
  /** Default createdate + period (2099-12-31 for lifetime). */
  expiredate?: Day;
  /** Default a random key; '' = still processing, the key comes per keyDelayMs. */
  lickey?: string;
  /** Default createdate. */
  ipChangeDate?: Day;
  /** Default createdate. */
  keyChangeDate?: Day;
  /** Period code, 'null' / '' / false = off (default), true = '1'. */
  autoprolong?: string | boolean;
  remoteid?: string;
  addons?: Record<string, string>;
  manualSuspended?: boolean;
  /** Replies show no period and no expiredate until withholdDates(id, false). */
  datesWithheld?: boolean;
  deleted?: boolean;
}

export interface LedgerEntry {
  kind: 'order' | 'prolong';
  licenseId: number;
  pricelist: string;
  period: OrderPeriod;
  amount: number;
  /** Sandbox day of the purchase. */
  day: Day;
  balanceAfter: number;
}

export interface OrderInput {
  pricelist: string;
  period: string;
  ip: string;
  licname: string;
  autoprolong: string;
  remoteid: string;
  addons: Record<string, string>;
}

export interface LicenseEdit {
  licname?: string;
  ip?: string;
  autoprolong?: string;
  remoteid?: string;
}

export interface StateOptions {
  user: string;
  password: string;
  balance?: number;
  prices?: PriceTable;
  tariffNames?: Record<string, string>;
  /** Currency of the prices (`pricelist.export`); default DEFAULT_CURRENCY. */
  currency?: string;
  /** Real milliseconds from an order to its key; 0 = on the next read; negative = only on issueKeys(). */
  keyDelayMs?: number;
  /** Fixed "now" (ISO instant or YYYY-MM-DD); else PMISPLICENSE_NOW from env, else the real clock. */
  now?: string;
  env?: NodeJS.ProcessEnv;
}

interface StoredLicense {
  id: number;
  licname: string;
  ip: string;
  pricelist: string;
  period: OrderPeriod;
  createdate: Day;
  expiredate: Day;
  lickey: string;
  /** Real-clock ms at which a pending key is issued; null = held until issueKeys(). */
  keyDueAt: number | null;
  ipChangeDate: Day;
  keyChangeDate: Day;
  autoprolong: string;
  remoteid: string;
  addons: Record<string, string>;
  manualSuspended: boolean;
  datesWithheld?: boolean;
  deletedBy: 'delete' | 'expiry' | null;
  deletedOn: Day | null;
}

export function parseInstant(value: string): Date {
  const d = isDay(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not an ISO date or instant: ${value}`);
  return d;
}

function cents(x: number): number {
  return Math.round(x * 100) / 100;
}

function money(x: number): string {
  return x.toFixed(2);
}

function randomKey(): string {
  return randomBytes(16).toString('hex');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function parseOrderPeriod(value: string | number): OrderPeriod {
  const s = String(value).trim();
  if (s === '1' || s === '12' || s === '0') return Number(s) as OrderPeriod;
  throw new SandboxApiError('value', 'period', `Invalid period "${s}": licenses are sold for 1 or 12 months or lifetime (0).`);
}

function checkIp(value: string): string {
  const ip = value.trim();
  if (!isIP(ip)) throw new SandboxApiError('value', 'ip', `Invalid IP address "${value}".`);
  return ip;
}

/** 'null' / '' = off; a period code = on for that period; anything else is refused. */
function parseAutoprolong(value: string | boolean): string {
  if (value === true) return '1';
  if (value === false) return 'null';
  const s = value.trim();
  if (s === '' || s === 'null') return 'null';
  if (PERIOD_CODES.has(s)) return s;
  throw new SandboxApiError('value', 'autoprolong', `Invalid autoprolong value "${s}": a period code or null.`);
}

function cleanAddons(addons: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(addons).map(([k, v]) => [dropXmlForbidden(k), dropXmlForbidden(v)]));
}

function checkBalance(amount: number): number {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
    throw new RangeError(`the balance must be a number of money of at least 0, not ${String(amount)}`);
  }
  return cents(amount);
}

function checkDay(value: string, what: string): Day {
  if (!isDay(value)) throw new RangeError(`${what} is not a YYYY-MM-DD date: ${value}`);
  return value;
}

export class LicensingState {
  readonly user: string;
  private readonly password: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly prices: PriceTable;
  private readonly tariffNames: Record<string, string>;
  readonly currency: string;
  private fixedNow: Date | null;
  private money: number;
  private keyDelay: number;
  private nextId = FIRST_LICENSE_ID;
  private readonly store = new Map<number, StoredLicense>();
  private readonly entries: LedgerEntry[] = [];
  /** The day expiry was last applied to every license: a full pass happens once per sandbox day. */
  private settledDay: Day | null = null;
  /** Licenses still waiting for their key, so that settling does not walk the whole account. */
  private readonly pendingKeys = new Set<number>();
  /** The live licenses by id, for `func=soft` and its pages; null once membership changed. */
  private liveCache: StoredLicense[] | null = null;

  constructor(opts: StateOptions) {
    if (!opts.user || !opts.password) throw new RangeError('the sandbox needs a user and a password');
    this.user = opts.user;
    this.password = opts.password;
    this.env = opts.env ?? process.env;
    this.prices = { ...DEFAULT_PRICES, ...(opts.prices ?? {}) };
    this.tariffNames = { ...DEFAULT_TARIFF_NAMES, ...(opts.tariffNames ?? {}) };
    this.currency = dropXmlForbidden(opts.currency ?? DEFAULT_CURRENCY);
    this.fixedNow = opts.now ? parseInstant(opts.now) : null;
    this.money = checkBalance(opts.balance ?? DEFAULT_BALANCE);
    this.keyDelay = opts.keyDelayMs ?? 0;
  }

  // ---- clock, account, configuration -------------------------------------------------------

  /** The sandbox's "now": setNow()/options.now, else PMISPLICENSE_NOW of its env (read each time), else real. */
  now(): Date {
    return this.fixedNow ?? envNow(this.env);
  }

  today(): Day {
    return dayOf(this.now());
  }

  /** Freezes the clock at an ISO instant or day; null returns to PMISPLICENSE_NOW / the real clock. */
  setNow(iso: string | null): void {
    this.fixedNow = iso ? parseInstant(iso) : null;
  }

  get balance(): number {
    return this.money;
  }

  setBalance(amount: number): void {
    this.money = checkBalance(amount);
  }

  get keyDelayMs(): number {
    return this.keyDelay;
  }

  /** Applies to orders placed from now on. */
  setKeyDelayMs(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`not a delay: ${ms}`);
    this.keyDelay = ms;
  }

  priceTable(): PriceTable {
    return structuredClone(this.prices);
  }

  tariffName(pricelist: string): string {
    return this.tariffNames[pricelist] ?? `Tariff ${pricelist}`;
  }

  /**
   * The tariffs the account can order, with their prices (`pricelist.export`, SPEC 7 v3): every
   * tariff of the price table sold for at least one period, in id order; a period the table has no
   * price for is left out (never sent as 0). `pricelist` narrows it to that one tariff.
   */
  exportTariffs(pricelist?: string): ExportedTariff[] {
    const ids = Object.keys(this.prices).sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
    const out: ExportedTariff[] = [];
    for (const id of ids) {
      if (pricelist !== undefined && id !== pricelist) continue;
      const row = this.prices[id] ?? {};
      const prices: ExportedTariff['prices'] = [];
      for (const period of [1, 12, 0] as const) {
        const cost = row[String(period) as '1' | '12' | '0'];
        if (cost !== undefined) prices.push({ period, cost });
      }
      if (prices.length > 0) out.push({ id, name: this.tariffName(id), prices });
    }
    return out;
  }

  ledger(): LedgerEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  checkCredentials(user: string, password: string): boolean {
    // Both compared in full so that the time taken does not tell which one was wrong.
    const u = sameSecret(user, this.user);
    const p = sameSecret(password, this.password);
    return u && p;
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Every license ever on the account, deleted ones included. */
  all(): SandboxLicense[] {
    this.settle();
    const today = this.today();
    return [...this.store.values()].map((l) => this.view(l, today));
  }

  /** What `func=soft` lists: the licenses not deleted, by id. */
  list(): SandboxLicense[] {
    const today = this.today();
    return this.liveLicenses().map((l) => this.view(l, today));
  }

  /**
   * One page of `func=soft`: `count` rows from `offset` (0-based) and how many the whole list
   * has. Only the page's rows are built, so paging a long list costs O(list) once, not per row.
   */
  listPage(offset: number, count: number): { total: number; rows: SandboxLicense[] } {
    const live = this.liveLicenses();
    const today = this.today();
    return { total: live.length, rows: live.slice(offset, offset + count).map((l) => this.view(l, today)) };
  }

  /** How many licenses `func=soft` lists now. */
  liveCount(): number {
    return this.liveLicenses().length;
  }

  find(id: number): SandboxLicense | undefined {
    this.settle();
    const l = this.store.get(id);
    return l && this.view(l);
  }

  /** A live license or the upstream's "missed elid" refusal. */
  get(elid: string | number): SandboxLicense {
    return this.view(this.live(elid));
  }

  // ---- changing --------------------------------------------------------------------------------

  order(input: OrderInput): SandboxLicense {
    this.settle();
    const pricelist = input.pricelist.trim();
    const period = parseOrderPeriod(input.period);
    const price = this.price(pricelist, period);
    const ip = checkIp(input.ip);
    const autoprolong = parseAutoprolong(input.autoprolong);
    this.debit(price, 'order');
    const today = this.today();
    const l: StoredLicense = {
      id: this.nextId++,
      licname: dropXmlForbidden(input.licname),
      ip,
      pricelist,
      period,
      createdate: today,
      expiredate: period === 0 ? LIFETIME_EXPIREDATE : addMonths(today, period),
      lickey: '',
      keyDueAt: this.keyDelay < 0 ? null : Date.now() + this.keyDelay,
      // A new license counts as having changed its IP and key on its creation day (SPEC 7).
      ipChangeDate: today,
      keyChangeDate: today,
      autoprolong,
      remoteid: dropXmlForbidden(input.remoteid),
      addons: cleanAddons(input.addons),
      manualSuspended: false,
      deletedBy: null,
      deletedOn: null,
    };
    this.insert(l, today);
    this.record('order', l, price);
    return this.view(l);
  }

  /** Applies all changes or none; an IP equal to the current one is no change at all. */
  edit(elid: string | number, changes: LicenseEdit): SandboxLicense {
    const l = this.live(elid);
    const today = this.today();
    let newIp: string | undefined;
    if (changes.ip !== undefined) {
      const ip = checkIp(changes.ip);
      if (ip !== l.ip) {
        const next = addMonths(l.ipChangeDate, 1);
        if (next > today) {
          throw new SandboxApiError('ipchange', 'ip', `The IP address of license ${l.id} can be changed once a month; the next change is possible on ${next}.`);
        }
        newIp = ip;
      }
    }
    const autoprolong = changes.autoprolong === undefined ? undefined : parseAutoprolong(changes.autoprolong);
    if (newIp !== undefined) {
      l.ip = newIp;
      l.ipChangeDate = today;
    }
    if (changes.licname !== undefined) l.licname = dropXmlForbidden(changes.licname);
    if (autoprolong !== undefined) l.autoprolong = autoprolong;
    if (changes.remoteid !== undefined) l.remoteid = dropXmlForbidden(changes.remoteid);
    return this.view(l);
  }

  newKey(elid: string | number): SandboxLicense {
    const l = this.live(elid);
    if (!l.lickey) throw new SandboxApiError('value', 'lickey', `License ${l.id} is still being processed; its key is not issued yet.`);
    const today = this.today();
    const next = addMonths(l.keyChangeDate, 1);
    if (next > today) {
      throw new SandboxApiError('keychange', 'lickey', `The key of license ${l.id} can be changed once a month; the next change is possible on ${next}.`);
    }
    l.lickey = randomKey();
    l.keyChangeDate = today;
    return this.view(l);
  }

  /** Extends from expiredate while it is today or later, from today once it has passed. */
  prolong(elid: string | number, periodValue: string | undefined): Day {
    const l = this.live(elid);
    if (l.period === 0) throw new SandboxApiError('value', 'period', `License ${l.id} is a lifetime license; it cannot be prolonged.`);
    const period = parseOrderPeriod(periodValue === undefined || periodValue === '' ? l.period : periodValue);
    if (period === 0) throw new SandboxApiError('value', 'period', 'A license is prolonged by 1 or 12 months, not to lifetime.');
    const price = this.price(l.pricelist, period);
    this.debit(price, 'prolongation');
    const today = this.today();
    l.expiredate = addMonths(l.expiredate >= today ? l.expiredate : today, period);
    this.record('prolong', l, price, period);
    return l.expiredate;
  }

  suspend(elid: string | number): void {
    this.live(elid).manualSuspended = true;
  }

  /** Test control: replies hide (or show again) the license's period and expiredate. */
  withholdDates(elid: string | number, on: boolean): void {
    this.live(elid).datesWithheld = on;
  }

  /** Clears only the manual suspension: an expired license stays suspended until prolonged. */
  resume(elid: string | number): void {
    this.live(elid).manualSuspended = false;
  }

  delete(elid: string | number): void {
    const l = this.live(elid);
    l.deletedBy = 'delete';
    l.deletedOn = this.today();
    this.liveCache = null;
  }

  /** Issues every pending key now (also those held by a negative keyDelayMs). */
  issueKeys(): number {
    let n = 0;
    for (const l of this.store.values()) {
      if (!l.lickey && !l.deletedOn) {
        l.lickey = randomKey();
        n++;
      }
    }
    this.pendingKeys.clear();
    return n;
  }

  /** Puts a license on the account directly (no money moves, no purchase counted). */
  seed(s: SeedLicense): SandboxLicense {
    return this.find(this.seedMany(1, s)[0]!)!;
  }

  /**
   * Puts `n` licenses on the account at once (no money moves), all or none: each from the
   * template, or from template(index) for licenses that differ (names, IPs). Returns their ids.
   * One pass over the account however many are added (the bench and stress tests seed 10^4–10^5).
   */
  seedMany(n: number, template: SeedLicense | ((index: number) => SeedLicense) = {}): number[] {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a number of licenses: ${n}`);
    this.settle();
    const today = this.today();
    const built: StoredLicense[] = [];
    const taken = new Set<number>();
    let next = this.nextId;
    for (let i = 0; i < n; i++) {
      const s = typeof template === 'function' ? template(i) : template;
      const id = s.id ?? next;
      if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`not a license id: ${id}`);
      if (this.store.has(id) || taken.has(id)) throw new RangeError(`license ${id} already exists`);
      taken.add(id);
      next = Math.max(next, id + 1);
      built.push(this.build(id, s, today));
    }
    for (const l of built) this.insert(l, today);
    return built.map((l) => l.id);
  }

  // ---- internals -------------------------------------------------------------------------------

  /** A stored license from a seed, checked; nothing is changed yet. */
  private build(id: number, s: SeedLicense, today: Day): StoredLicense {
    const period = parseOrderPeriod(s.period ?? 1);
    const createdate = checkDay(s.createdate ?? today, 'createdate');
    return {
      id,
      licname: dropXmlForbidden(s.licname ?? 'free.lic'),
      ip: checkIp(s.ip ?? '192.0.2.10'),
      pricelist: s.pricelist ?? '3541',
      period,
      createdate,
      expiredate: checkDay(s.expiredate ?? (period === 0 ? LIFETIME_EXPIREDATE : addMonths(createdate, period)), 'expiredate'),
      lickey: s.lickey ?? randomKey(),
      keyDueAt: this.keyDelay < 0 ? null : Date.now() + this.keyDelay,
      ipChangeDate: checkDay(s.ipChangeDate ?? createdate, 'ipChangeDate'),
      keyChangeDate: checkDay(s.keyChangeDate ?? createdate, 'keyChangeDate'),
      autoprolong: parseAutoprolong(s.autoprolong ?? 'null'),
      remoteid: dropXmlForbidden(s.remoteid ?? ''),
      addons: cleanAddons(s.addons ?? {}),
      manualSuspended: s.manualSuspended ?? false,
      datesWithheld: s.datesWithheld ?? false,
      deletedBy: s.deleted ? 'delete' : null,
      deletedOn: s.deleted ? today : null,
    };
  }

  /** Adds a new license to the account, brought up to the clock like the others. */
  private insert(l: StoredLicense, today: Day): void {
    this.store.set(l.id, l);
    this.nextId = Math.max(this.nextId, l.id + 1);
    if (!l.lickey && !l.deletedOn) this.pendingKeys.add(l.id);
    this.expire(l, today);
    this.liveCache = null;
  }

  /**
   * Brings the account up to the clock: pending keys whose time has come are issued, and expired
   * licenses past their grace are deleted for good (so moving the clock back does not revive them).
   * Expiry needs a pass over every license only when the sandbox day changed: within a day only
   * new licenses (checked on insert) can be past their grace, since prolonging only extends.
   */
  private settle(): void {
    const today = this.today();
    if (this.pendingKeys.size > 0) {
      const nowMs = Date.now();
      for (const id of this.pendingKeys) {
        const l = this.store.get(id);
        if (!l || l.deletedOn || l.lickey) this.pendingKeys.delete(id);
        else if (l.keyDueAt !== null && nowMs >= l.keyDueAt) {
          l.lickey = randomKey();
          this.pendingKeys.delete(id);
        }
      }
    }
    if (today !== this.settledDay) {
      for (const l of this.store.values()) this.expire(l, today);
      this.settledDay = today;
    }
  }

  private expire(l: StoredLicense, today: Day): void {
    if (l.deletedOn || l.period === 0) return;
    const deleteOn = addDays(l.expiredate, DELETE_AFTER_DAYS);
    if (today >= deleteOn) {
      l.deletedBy = 'expiry';
      l.deletedOn = deleteOn;
      this.liveCache = null;
    }
  }

  private liveLicenses(): StoredLicense[] {
    this.settle();
    if (!this.liveCache) this.liveCache = [...this.store.values()].filter((l) => !l.deletedOn).sort((a, b) => a.id - b.id);
    return this.liveCache;
  }

  private live(elid: string | number): StoredLicense {
    this.settle();
    const s = String(elid).trim();
    const l = /^\d+$/.test(s) ? this.store.get(Number(s)) : undefined;
    if (!l || l.deletedOn) throw new SandboxApiError('missed', 'elid', `License ${s || '(none)'} not found or deleted.`);
    return l;
  }

  private price(pricelist: string, period: OrderPeriod): number {
    const row = this.prices[pricelist];
    if (!row) throw new SandboxApiError('value', 'pricelist', `Unknown tariff (pricelist) "${pricelist}".`);
    const price = row[String(period) as '1' | '12' | '0'];
    if (price === undefined) throw new SandboxApiError('value', 'period', `Tariff ${pricelist} is not sold for period ${period}.`);
    return price;
  }

  private debit(price: number, what: string): void {
    if (price > this.money + 1e-9) {
      throw new SandboxApiError('account', 'balance', `Not enough money on the account: the ${what} costs ${money(price)}, the balance is ${money(this.money)}. Top up the account.`);
    }
    this.money = cents(this.money - price);
  }

  private record(kind: LedgerEntry['kind'], l: StoredLicense, amount: number, period: OrderPeriod = l.period): void {
    this.entries.push({ kind, licenseId: l.id, pricelist: l.pricelist, period, amount, day: this.today(), balanceAfter: this.money });
  }

  private view(l: StoredLicense, today: Day = this.today()): SandboxLicense {
    const expirySuspended = l.period !== 0 && l.expiredate < today;
    let status: LicenseStatus = 2;
    if (l.deletedOn) status = 4;
    else if (!l.lickey) status = 5;
    else if (l.manualSuspended || expirySuspended) status = 3;
    return {
      id: l.id,
      licname: l.licname,
      ip: l.ip,
      pricelist: l.pricelist,
      pricelistName: this.tariffName(l.pricelist),
      period: l.period,
      status,
      createdate: l.createdate,
      expiredate: l.expiredate,
      lickey: l.lickey,
      ipChangeDate: l.ipChangeDate,
      keyChangeDate: l.keyChangeDate,
      autoprolong: l.autoprolong,
      autoprolongOn: l.autoprolong !== 'null',
      remoteid: l.remoteid,
      addons: { ...l.addons },
      manualSuspended: l.manualSuspended,
      datesWithheld: l.datesWithheld === true,
      expirySuspended: !l.deletedOn && expirySuspended,
      deleted: l.deletedOn !== null,
      deletedBy: l.deletedBy,
      deletedOn: l.deletedOn,
    };
  }
}
