// The licensing server client (SPEC 7): the one place that turns the upstream's XML into typed
// values and its <error> documents into the module's error classes. Anything the module cannot
// read with certainty is a retryable TransportError ('broken reply'): acting on a half-understood
// reply could pay twice or lose a license.
import type { Day } from '../dates.js';
import { normalizeDay } from '../dates.js';
import {
  BadInputError,
  CredentialsError,
  LicenseMissingError,
  TransportError,
  UpstreamRefusalError,
} from '../errors.js';
import { addSecret, log, mask } from '../log.js';
import { child, childrenNamed, type XmlElement } from '../xml.js';
import { brokenReply as broken, readReply, Transport, type FormParams, type TransportOptions } from './transport.js';
import type {
  ConnectionSettings,
  LicenseChanges,
  LicenseStatus,
  LicensingApi,
  OrderRequest,
  Tariff,
  TariffPrice,
  UpstreamLicense,
} from './types.js';
import { checkUpstreamUrl } from './url.js';

export interface ClientOptions extends TransportOptions {
  /** The most pages list() reads before it gives up (default MAX_LIST_PAGES). */
  maxListPages?: number;
}

/** License order periods the upstream sells (SPEC 1): month, year, lifetime. */
const ORDER_PERIODS = new Set([1, 12, 0]);
/** Periods a license can be prolonged by (lifetime never is). */
const PROLONG_PERIODS = new Set([1, 12]);
const ADDON_RE = /^addon_[A-Za-z0-9_]+$/;
/** Rows asked per page of the license list (SPEC 7: large pages). */
export const LIST_PAGE_SIZE = 1000;
/** Pages of the license list asked at the same time once page 1 has told the list's size. */
const LIST_PAGES_AT_ONCE = 4;
/**
 * More pages than this and the list is not one the module can read whole: 10 000 pages is ten
 * million licenses at the asked size, or 70 000 where an upstream caps pages at 7 rows.
 */
export const MAX_LIST_PAGES = 10_000;
/** Times the paged list is read from page 1 again when its size changed under the reader. */
const LIST_ATTEMPTS = 3;

interface Paging {
  /** All rows of the list (p_elems). */
  elems: number;
  /** This page's number (p_num), when the reply says it. */
  num: number | null;
}

/** COREmanager's paging fields, children of <doc> beside the rows; null for an unpaged list. */
function readPaging(func: string, doc: XmlElement): Paging | null {
  const elems = child(doc, 'p_elems');
  if (!elems) return null;
  const count = (name: string, raw: string): number => {
    const n = Number(raw);
    if (/^\d+$/.test(raw) && Number.isSafeInteger(n)) return n;
    throw broken(func, `${name} "${raw}" is not a number of rows`);
  };
  const num = child(doc, 'p_num');
  return { elems: count('p_elems', elems.text.trim()), num: num ? count('p_num', num.text.trim()) : null };
}

/** Two whole reads of the list show the same licenses (what a lost-order search looks at). */
function sameRows(a: readonly UpstreamLicense[], b: readonly UpstreamLicense[]): boolean {
  if (a.length !== b.length) return false;
  const row = (u: UpstreamLicense) => `${u.status}\u0000${u.licname}\u0000${u.ip}\u0000${u.pricelist}`;
  const seen = new Map(a.map((u) => [u.id, row(u)]));
  return b.every((u) => seen.get(u.id) === row(u));
}

/** Looks a field up in the document and, failing that, in a nested <doc> (`<doc><doc>…`). */
function field(doc: XmlElement, name: string): XmlElement | undefined {
  const direct = child(doc, name);
  if (direct) return direct;
  for (const inner of childrenNamed(doc, 'doc')) {
    const found = child(inner, name);
    if (found) return found;
  }
  return undefined;
}

/** A field's text, trimmed: ids, dates, statuses, IPs and names carry no meaning in surrounding
 *  spaces (the XML reader keeps values as sent; a key is read with rawText). */
function text(doc: XmlElement, name: string): string {
  return (field(doc, name)?.text ?? '').trim();
}

/** A field's text as sent (the license key: a secret is never changed). */
function rawText(doc: XmlElement, name: string): string {
  return field(doc, name)?.text ?? '';
}

function hasField(doc: XmlElement, name: string): boolean {
  return field(doc, name) !== undefined;
}

function parseStatus(func: string, raw: string): LicenseStatus {
  const n = Number(raw);
  if (raw !== '' && Number.isInteger(n) && n >= 1 && n <= 5) return n as LicenseStatus;
  throw broken(func, `license status "${raw}" is not one of 1..5`);
}

/** Period codes; the English names are accepted too, as some list views show them. An empty
 *  period (a license still being processed) is unknown: null, never guessed (SPEC 5.4). */
function parsePeriod(func: string, raw: string): number | null {
  const t = raw.trim().toLowerCase();
  if (t === '') return null;
  if (/^-?\d+$/.test(t)) return Number(t);
  if (/^(1 )?month$/.test(t)) return 1;
  if (/^(1 )?year$/.test(t)) return 12;
  if (/^(lifetime|unlimited|forever)$/.test(t)) return 0;
  throw broken(func, `license period "${raw}" is not a period code`);
}

function parseAutoprolong(raw: string): boolean {
  const t = raw.trim().toLowerCase();
  return !(t === '' || t === 'null' || t === 'off' || t === '0' || t === 'no');
}

function parseId(func: string, raw: string, what: string): number {
  const n = Number(raw);
  if (/^\d+$/.test(raw.trim()) && Number.isSafeInteger(n) && n > 0) return n;
  throw broken(func, `${what} "${raw}" is not a license id`);
}

/**
 * One license from a list <elem> (`list`: real_ipchange/real_keychange, no key) or a soft.edit
 * <doc> (ip_change_date/lickey_change_date, lickey). Exported for the sandbox and tests.
 */
export function parseLicense(func: string, el: XmlElement, kind: 'list' | 'form'): UpstreamLicense {
  const idRaw = kind === 'form' ? (hasField(el, 'elid') ? text(el, 'elid') : text(el, 'id')) : text(el, 'id');
  if (!idRaw) throw broken(func, `license without ${kind === 'form' ? 'elid' : 'id'}`);
  if (!hasField(el, 'status')) throw broken(func, `license ${idRaw} without status`);
  const lickey = kind === 'form' ? rawText(el, 'lickey') : '';
  addSecret(lickey);
  const pricelistId = text(el, 'pricelist_id');
  return {
    id: parseId(func, idRaw, 'license id'),
    licname: text(el, 'licname'),
    ip: text(el, 'ip'),
    pricelist: pricelistId || text(el, 'pricelist'),
    pricelistName: pricelistId ? text(el, 'pricelist') : '',
    period: parsePeriod(func, text(el, 'period')),
    status: parseStatus(func, text(el, 'status')),
    expiredate: normalizeDay(text(el, 'expiredate')),
    createdate: normalizeDay(text(el, 'createdate')),
    lickey,
    ipChangeDate: normalizeDay(text(el, kind === 'form' ? 'ip_change_date' : 'real_ipchange')),
    keyChangeDate: normalizeDay(text(el, kind === 'form' ? 'lickey_change_date' : 'real_keychange')),
    autoprolong: parseAutoprolong(text(el, 'autoprolong')),
    remoteid: text(el, 'remoteid'),
  };
}

/** Turns an upstream <error> into the module's error class (SPEC 7). */
export function upstreamError(func: string, err: XmlElement, elid?: number | string): Error {
  const type = err.attrs.type ?? '';
  const paramObject = (err.children.find((c) => c.name === 'param' && c.attrs.name === 'object')?.text ?? '').trim();
  const object = err.attrs.object || paramObject;
  // The upstream's own words reach the administrator, minus anything secret it may echo.
  const msg = mask(text(err, 'msg') || err.text.trim());
  log.warn(`upstream ${func} refused: type=${type} object=${object} msg=${msg}`);
  if (type === 'auth' || type === 'access') return new CredentialsError(msg);
  if (type === 'missed' && object === 'elid') {
    const value = (err.children.find((c) => c.name === 'param' && c.attrs.name === 'value')?.text ?? '').trim();
    return new LicenseMissingError(elid ?? value, msg);
  }
  return new UpstreamRefusalError(type, object, msg, func);
}

/**
 * A `<period type=… length=… cost=…/>` of the price export as a license period in months, or null
 * when it is not one a license is sold for. Public readers of BILLmanager's export read
 * `period[type=month][length=1]` (a month); a year may come as month×12 or year×1, lifetime as a
 * length of 0 or a type of its own — the export's exact spelling of those is not public (SPEC 7).
 */
function exportPeriod(type: string, length: string): number | null {
  const t = type.trim().toLowerCase();
  const n = Number(length.trim());
  const whole = /^\d+$/.test(length.trim()) && Number.isSafeInteger(n);
  if (/^(lifetime|unlimited|forever)$/.test(t)) return 0;
  if (!whole) return null;
  if (t === 'month' || t === '') return n;
  if (t === 'year') return n * 12;
  return null;
}

/** A cost attribute as money; anything else (missing, empty, not a number, negative) is unknown. */
function exportCost(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const t = raw.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/**
 * `pricelist.export` rows as tariffs. A row without an id is skipped (nothing can be ordered with
 * it); a period whose cost cannot be read keeps a null cost, so that "unknown" never reads as 0.
 * Exported for tests.
 */
export function parseTariffs(doc: XmlElement): Tariff[] {
  const out: Tariff[] = [];
  for (const row of childrenNamed(doc, 'pricelist')) {
    const id = (child(row, 'id')?.text ?? '').trim();
    if (!id) continue;
    const name = (child(row, 'name')?.text ?? '').trim();
    const prices: TariffPrice[] = [];
    for (const price of childrenNamed(row, 'price')) {
      const currency = (price.attrs.currency ?? '').trim() || null;
      for (const p of childrenNamed(price, 'period')) {
        const period = exportPeriod(p.attrs.type ?? '', p.attrs.length ?? '');
        if (period === null || prices.some((x) => x.period === period)) continue;
        prices.push({ period, cost: exportCost(p.attrs.cost), currency });
      }
    }
    out.push({ id, name, prices });
  }
  return out;
}

/** The price of one tariff and period from a tariffs() answer; null = unknown. */
export function priceOf(tariffs: readonly Tariff[] | null, pricelist: string, period: number): TariffPrice | null {
  const t = tariffs?.find((x) => x.id === pricelist);
  const p = t?.prices.find((x) => x.period === period);
  return p && p.cost !== null ? p : null;
}

function checkLicenseId(id: number): void {
  if (!Number.isSafeInteger(id) || id <= 0) throw new BadInputError('elid', String(id), `"${id}" is not a license id.`);
}

export class LicensingClient implements LicensingApi {
  readonly transport: Transport;
  readonly #maxListPages: number;

  constructor(settings: ConnectionSettings, opts: ClientOptions = {}) {
    // Secrets first: even a refused URL must not let the password reach a log line.
    addSecret(settings.password);
    addSecret(`${settings.username}:${settings.password}`);
    const url = checkUpstreamUrl(settings.url);
    if (!settings.username) throw new BadInputError('username', '', 'The processing module has no user name for the licensing server. Set it in the module settings.');
    if (!settings.password) throw new BadInputError('password', '', 'The processing module has no password for the licensing server. Set it in the module settings.');
    this.transport = new Transport(url, { username: settings.username, password: settings.password }, opts);
    const pages = opts.maxListPages;
    this.#maxListPages = pages !== undefined && Number.isSafeInteger(pages) && pages > 0 ? pages : MAX_LIST_PAGES;
  }

  /**
   * Calls `func` and returns the reply's root <doc>; an <error> in it, at any depth, becomes the
   * matching error class. Anything not a well-formed XML <doc> is a broken reply (readReply).
   */
  async call(func: string, params: FormParams = {}, opts: { login?: boolean } = {}): Promise<XmlElement> {
    const { doc, error } = readReply(func, await this.transport.post(func, params, opts));
    if (error) throw upstreamError(func, error, params.elid);
    return doc;
  }

  async auth(): Promise<void> {
    const doc = await this.call('auth', {}, { login: true });
    const session = field(doc, 'auth');
    if (!session) throw broken('auth', 'no <auth> session in the reply');
    // The session id is as good as the password while it lives.
    addSecret(session.attrs.id);
    addSecret(session.text);
    addSecret(session.text.trim());
  }

  /**
   * Every license on the account, read page by page (SPEC 7): p_cnt=1000, then p_num=2, … while
   * fewer rows than p_elems have come. Returns the complete list or throws a retryable
   * TransportError: a reply without p_elems is taken as the whole list; a page that brings no new
   * license while some are missing, a p_elems that is not a number, more rows than p_elems, a page
   * number other than the one asked, or more pages than maxListPages is a broken reply. When
   * p_elems changes between pages (a license ordered or deleted meanwhile shifts the pages), the
   * list is read again from page 1 (LIST_ATTEMPTS times in all).
   */
  async list(): Promise<UpstreamLicense[]> {
    for (let attempt = 1; ; attempt++) {
      const whole = await this.#readPages();
      if (whole) return whole;
      if (attempt >= LIST_ATTEMPTS) throw broken('soft', `the list kept changing size while its pages were read (${LIST_ATTEMPTS} attempts), so it cannot be read whole`);
      log.info(`upstream soft: the list changed size while its pages were read; reading it again from page 1`);
    }
  }

  /**
   * SPEC 5.9 (v3), 5.2 step 3: the list for a conclusion drawn from absence ("not ordered"). One
   * read can be complete by count and still miss a license: one deleted and another ordered between
   * two page reads leave p_elems unchanged and shift a row past the reader. So the list is read
   * whole again until two reads in a row agree (the same licenses, by id, status, name, IP and
   * tariff); an account that keeps changing is a retryable TransportError, never a guess.
   */
  async listAgreed(): Promise<UpstreamLicense[]> {
    let previous = await this.list();
    for (let read = 2; ; read++) {
      const current = await this.list();
      if (sameRows(previous, current)) return current;
      if (read > LIST_ATTEMPTS) throw broken('soft', `the list changed between each of ${read} whole reads, so no two of them agree`);
      log.info(`upstream soft: two whole reads of the list differ; reading it again`);
      previous = current;
    }
  }

  /** One page of the license list, parsed: its rows and its paging fields. */
  async #page(page: number): Promise<{ rows: UpstreamLicense[]; paging: Paging | null }> {
    const doc = await this.call('soft', page === 1 ? { p_cnt: LIST_PAGE_SIZE } : { p_cnt: LIST_PAGE_SIZE, p_num: page });
    const paging = readPaging('soft', doc);
    if (paging && paging.num !== null && paging.num !== page) throw broken('soft', `asked for page ${page} of the list, got page ${paging.num}`);
    return { rows: childrenNamed(doc, 'elem').map((el) => parseLicense('soft', el, 'list')), paging };
  }

  /**
   * One read of all pages; null when p_elems changed between pages (read again). Page 1 tells the
   * list's size and the rows a page brings; the pages still needed are then asked up to
   * LIST_PAGES_AT_ONCE at a time (a long list costs the round trips of a few pages, not of each)
   * and taken in page order, with the same checks as one by one.
   */
  async #readPages(): Promise<UpstreamLicense[] | null> {
    const rows = new Map<number, UpstreamLicense>();
    const first = await this.#page(1);
    if (!first.paging) return first.rows;
    const total = first.paging.elems;
    const perPage = Math.max(first.rows.length, 1);
    let next = 1;
    let window: Promise<{ rows: UpstreamLicense[]; paging: Paging | null }>[] = [Promise.resolve(first)];
    for (;;) {
      // Every page of the window is waited for, so that a failed read leaves no request behind; the
      // pages are then taken in order, so that a size change seen on a page wins over a failure of a
      // later one (a list that shrank may answer a page past its end oddly): the list is read again.
      const settled = await Promise.allSettled(window);
      for (const result of settled) {
        const page = next++;
        if (result.status === 'rejected') throw result.reason;
        const { rows: pageRows, paging } = result.value;
        if (!paging) throw broken('soft', `page ${page} of the list carries no p_elems although page 1 did`);
        if (paging.elems !== total) return null;
        let fresh = 0;
        for (const lic of pageRows) {
          if (rows.has(lic.id)) continue;
          rows.set(lic.id, lic);
          fresh++;
        }
        if (rows.size > total) throw broken('soft', `${rows.size} licenses on ${page} page(s) of a list of ${total} (p_elems)`);
        if (rows.size === total) return [...rows.values()];
        if (fresh === 0) throw broken('soft', `page ${page} of the list brought no new license while ${total - rows.size} of ${total} are missing`);
      }
      if (next > this.#maxListPages) throw broken('soft', `the list needs more than ${this.#maxListPages} pages`);
      const needed = Math.ceil((total - rows.size) / perPage);
      const count = Math.max(1, Math.min(needed, LIST_PAGES_AT_ONCE, this.#maxListPages - next + 1));
      window = Array.from({ length: count }, (_, i) => this.#page(next + i));
    }
  }

  async get(id: number): Promise<UpstreamLicense> {
    checkLicenseId(id);
    const doc = await this.call('soft.edit', { elid: id });
    return this.#licenseReply('soft.edit', doc, id);
  }

  async edit(id: number, changes: LicenseChanges): Promise<UpstreamLicense> {
    checkLicenseId(id);
    const params: Record<string, string | number> = { elid: id, sok: 'ok' };
    if (changes.licname !== undefined) params.licname = changes.licname;
    if (changes.ip !== undefined) params.ip = changes.ip;
    if (changes.remoteid !== undefined) params.remoteid = changes.remoteid;
    if (changes.autoprolong === false) params.autoprolong = 'null';
    else if (changes.autoprolong === true) {
      // The upstream takes the renewal period, not a flag; a lifetime license has none.
      const current = await this.get(id);
      if (current.period !== null && PROLONG_PERIODS.has(current.period)) params.autoprolong = current.period;
    }
    if (Object.keys(params).length === 2) return this.get(id);
    const doc = await this.call('soft.edit', params);
    // A reply that acknowledges without the form (<doc><ok/></doc>) is read back rather than
    // failed: repeating an IP change would be refused for a month.
    if (!hasField(doc, 'elid') && !hasField(doc, 'id')) return this.get(id);
    return this.#licenseReply('soft.edit', doc, id);
  }

  async newKey(id: number): Promise<string> {
    checkLicenseId(id);
    const doc = await this.call('soft.edit', { elid: id, sok: 'ok', clicked_button: 'newkey' });
    const key = rawText(doc, 'lickey');
    addSecret(key);
    if (key) return key;
    // The key was changed (no error); if this reply does not carry it, read it back rather than
    // ask again, which the monthly key-change limit would refuse. '' = not generated yet.
    return (await this.get(id)).lickey;
  }

  async order(req: OrderRequest): Promise<number> {
    if (!ORDER_PERIODS.has(req.period)) throw new BadInputError('period', String(req.period), `License period ${req.period} cannot be ordered: the licensing server sells 1 (month), 12 (year) or 0 (lifetime).`);
    if (!req.pricelist) throw new BadInputError('pricelist', '', 'No tariff (pricelist) for the license order.');
    const params: Record<string, string | number> = {
      clicked_button: 'finish',
      sok: 'ok',
      skipbasket: 'on',
      pricelist: req.pricelist,
      period: req.period,
      ip: req.ip,
      licname: req.licname,
      autoprolong: 'null',
      remoteid: req.remoteid,
    };
    for (const [k, v] of Object.entries(req.addons)) {
      if (!ADDON_RE.test(k)) throw new BadInputError(k, v, `"${k}" is not an addon parameter (addon_<id>).`);
      params[k] = v;
    }
    const doc = await this.call('soft.order.param', params);
    const raw = text(doc, 'id') || text(doc, 'item.id');
    // The order may have been taken even so: the caller finds it by licname (SPEC 5.2 step 3).
    if (!raw) throw broken('soft.order.param', 'no license id (the order may have been placed)');
    return parseId('soft.order.param', raw, 'ordered license id');
  }

  async prolong(id: number, period: number): Promise<Day> {
    checkLicenseId(id);
    if (!PROLONG_PERIODS.has(period)) throw new BadInputError('period', String(period), `A license is prolonged by 1 or 12 months, not ${period}.`);
    const doc = await this.call('service.prolong', { elid: id, period, sok: 'ok' });
    const raw = text(doc, 'newexpiredate');
    const day = normalizeDay(raw);
    if (!day) throw broken('service.prolong', `newexpiredate "${raw}" is not a date (license ${id} may have been prolonged)`);
    return day;
  }

  /** func=pricelist.export (SPEC 7 v3): reads only; the tariffs the account can order, with prices. */
  async tariffs(): Promise<Tariff[]> {
    const doc = await this.call('pricelist.export', { itemtype: 'soft', onlyavailable: 'on' });
    return parseTariffs(doc);
  }

  async suspend(id: number): Promise<void> {
    checkLicenseId(id);
    await this.call('soft.suspend', { elid: id });
  }

  async resume(id: number): Promise<void> {
    checkLicenseId(id);
    await this.call('soft.resume', { elid: id });
  }

  async delete(id: number): Promise<void> {
    checkLicenseId(id);
    await this.call('soft.delete', { elid: id, sok: 'ok' });
  }

  #licenseReply(func: string, doc: XmlElement, id: number): UpstreamLicense {
    const lic = parseLicense(func, doc, 'form');
    if (lic.id !== id) throw broken(func, `asked for license ${id}, got ${lic.id}`);
    return lic;
  }
}
