// The sandbox licensing server (SPEC 9): a real HTTP server on loopback that answers SPEC 7 the
// way a remote BILLmanager does, over the account kept in licensing-state.ts. It serves the API
// only on its URL's path, for POST (and GET with a query, as COREmanager allows); anything else
// is an HTTP error that changes nothing. On top of that, what tests and the demo need: injected
// faults, a bounded request log, list paging, and control endpoints under /_sandbox/ (no authinfo
// there: it is a sandbox on loopback; they never show the password). Its state is in memory only.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Day } from '../dates.js';
import { CommandError } from '../errors.js';
import { log } from '../log.js';
import { escapeXml } from '../xml-out.js';
import {
  LicensingState,
  SandboxApiError,
  parseInstant,
  type LedgerEntry,
  type LicenseEdit,
  type PriceTable,
  type SandboxLicense,
  type SeedLicense,
} from './licensing-state.js';

export {
  DEFAULT_BALANCE,
  DEFAULT_PRICES,
  DEFAULT_TARIFF_NAMES,
  DELETE_AFTER_DAYS,
  FIRST_LICENSE_ID,
  LIFETIME_EXPIREDATE,
  SandboxApiError,
} from './licensing-state.js';
export type { LedgerEntry, OrderPeriod, PriceTable, SandboxLicense, SeedLicense } from './licensing-state.js';

export interface SandboxOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  user: string;
  password: string;
  /** Default 100. */
  balance?: number;
  /** Entries replace the default table's entry of the same pricelist id whole. */
  prices?: PriceTable;
  tariffNames?: Record<string, string>;
  /** Currency of the prices, as `pricelist.export` names it; default 'EUR'. */
  currency?: string;
  /** Real ms from an order to its key: 0 (default) = on the next read; negative = only on issueKeys(). */
  keyDelayMs?: number;
  /** Fixed "now" (ISO instant or YYYY-MM-DD); else PMISPLICENSE_NOW of env, else the real clock. */
  now?: string;
  /** Where PMISPLICENSE_NOW is read (each request); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The API's path (the URL's path); default '/billmgr'. Other paths answer 404. */
  path?: string;
  /**
   * The most rows one page of a list carries, whatever p_cnt asks (an upstream with its own page
   * limit); with it, a list is paged even when the client asks for no page. Default: no limit.
   */
  maxPageSize?: number;
  /** How many recent requests requests() keeps; default 10 000 (applied orders and prolongations are all kept). */
  requestLogLimit?: number;
}

export const DEFAULT_API_PATH = '/billmgr';
export const DEFAULT_REQUEST_LOG_LIMIT = 10_000;
/** Funcs that move money: their applied requests are kept whole, whatever the log's bound. */
export const MONEY_FUNCS: readonly string[] = ['soft.order.param', 'service.prolong'];

export type FaultKind = 'http500' | 'brokenxml' | 'latency' | 'drop' | 'dropafter' | 'hold' | 'error';
export const FAULT_KINDS: readonly FaultKind[] = ['http500', 'brokenxml', 'latency', 'drop', 'dropafter', 'hold', 'error'];

export interface FaultSpec {
  kind: FaultKind;
  /** The func it hits (e.g. 'soft.order.param'); '*' or omitted = every func, auth included. */
  func?: string;
  /** How many matching requests it hits; default 1; -1 (or Infinity) = all until cleared. */
  count?: number;
  /** latency: ms before the request is handled (default 1000). hold: ms until auto-release (default: none). */
  delayMs?: number;
  /** http500 / brokenxml: handle the request first (its effects happen), then send the bad reply. */
  apply?: boolean;
  /** error: the injected `<error type object><msg>` (defaults 'value', '', 'Injected error'). */
  type?: string;
  object?: string;
  msg?: string;
  /** Hits only requests carrying these field values too (e.g. { p_num: '2' }: the list's second page). */
  params?: Record<string, string>;
}

export interface ActiveFault {
  id: number;
  kind: FaultKind;
  func: string;
  /** -1 = unlimited. */
  remaining: number;
  delayMs: number | null;
  apply: boolean;
  type: string;
  object: string;
  msg: string;
  params: Record<string, string>;
}

/**
 * ok / error: an XML reply (error = `<error>`, from the function or an injected fault);
 * html: HTTP 200 HTML because the request lacked out=xml; http500 / brokenxml: that fault's reply;
 * dropped: the socket was destroyed without a reply; aborted: the client went away before a reply
 * could be written; rejected: not a request the API reads (wrong path or method: HTTP 404 / 405 / 400,
 * body too large: 413), nothing done; pending: in progress.
 */
export type RequestOutcome = 'ok' | 'error' | 'html' | 'http500' | 'brokenxml' | 'dropped' | 'aborted' | 'rejected' | 'pending';

export interface RecordedRequest {
  seq: number;
  /** Real time the request arrived (ISO). */
  time: string;
  /** The sandbox's day when it arrived. */
  day: Day;
  method: string;
  path: string;
  func: string;
  /** User from authinfo (or username for auth); '' when none. */
  user: string;
  /** Query and body fields; authinfo, password and auth (session) are '***'. */
  params: Record<string, string>;
  fault: FaultKind | null;
  outcome: RequestOutcome;
  /** The function ran and succeeded, so its effects (money, licenses) happened. */
  applied: boolean;
  httpStatus: number | null;
  errorType?: string;
  errorObject?: string;
  errorMsg?: string;
}

export interface SandboxStateJson {
  today: Day;
  now: string;
  user: string;
  balance: number;
  spent: number;
  purchases: number;
  prolongs: number;
  keyDelayMs: number;
  prices: PriceTable;
  licenses: SandboxLicense[];
  ledger: LedgerEntry[];
  faults: ActiveFault[];
  held: number;
}

type Params = Record<string, string>;

interface Reply {
  body: string;
  html: boolean;
  error: SandboxApiError | null;
}

interface HeldRequest {
  release(): void;
  abort(): void;
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
const MAX_BODY = 1024 * 1024;
const MASKED_PARAMS = new Set(['authinfo', 'password', 'auth']);
const EDIT_FIELDS = ['licname', 'ip', 'autoprolong', 'remoteid'] as const;
const HTML_500 = '<html><head><title>500 Internal Server Error</title></head><body><h1>500 Internal Server Error</h1><hr><center>nginx</center></body></html>\n';

// ---- XML replies ---------------------------------------------------------------------------

/** Escaped, and without the characters XML 1.0 forbids (escapeXml drops those). */
function xmlText(value: string | number): string {
  return escapeXml(String(value));
}

function tag(name: string, value: string | number): string {
  return `<${name}>${xmlText(value)}</${name}>`;
}

function doc(inner: string): string {
  return `${XML_HEAD}<doc>${inner}</doc>\n`;
}

function errorDoc(type: string, object: string, msg: string): string {
  return doc(`<error type="${xmlText(type)}" object="${xmlText(object)}" lang="en">${tag('msg', msg)}</error>`);
}

/** `func=soft` row: no key; change dates as the list calls them. */
function listElem(l: SandboxLicense): string {
  return (
    '<elem>' +
    tag('id', l.id) +
    tag('licname', l.licname) +
    tag('ip', l.ip) +
    tag('pricelist', l.pricelistName) +
    tag('pricelist_id', l.pricelist) +
    tag('period', l.datesWithheld ? '' : l.period) +
    tag('status', l.status) +
    tag('createdate', l.createdate) +
    tag('expiredate', l.datesWithheld ? '' : l.expiredate) +
    tag('real_ipchange', l.ipChangeDate) +
    tag('real_keychange', l.keyChangeDate) +
    tag('autoprolong', l.autoprolong) +
    tag('remoteid', l.remoteid) +
    '</elem>'
  );
}

/** `func=soft.edit` form fields. */
function editFields(l: SandboxLicense): string {
  return (
    tag('elid', l.id) +
    tag('id', l.id) +
    tag('licname', l.licname) +
    tag('ip', l.ip) +
    tag('pricelist', l.pricelistName) +
    tag('pricelist_id', l.pricelist) +
    tag('period', l.datesWithheld ? '' : l.period) +
    tag('status', l.status) +
    tag('createdate', l.createdate) +
    tag('expiredate', l.datesWithheld ? '' : l.expiredate) +
    tag('lickey', l.lickey) +
    tag('ip_change_date', l.ipChangeDate) +
    tag('lickey_change_date', l.keyChangeDate) +
    tag('autoprolong', l.autoprolong) +
    tag('remoteid', l.remoteid)
  );
}

// ---- HTTP plumbing -----------------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooBig ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function formFields(text: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

function clientGone(res: ServerResponse): boolean {
  return res.destroyed || !res.socket || res.socket.destroyed;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (clientGone(res)) return;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
}

function copyRequest(r: RecordedRequest): RecordedRequest {
  return { ...r, params: { ...r.params } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- control-endpoint input (JSON or form, so curl works either way) -------------------------

type Fields = Record<string, unknown>;

function optString(f: Fields, key: string): string | undefined {
  const v = f[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new RangeError(`${key} must be a string`);
}

function optNumber(f: Fields, key: string): number | undefined {
  const v = f[key];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (Number.isNaN(n)) throw new RangeError(`${key} must be a number`);
  return n;
}

function optBool(f: Fields, key: string): boolean | undefined {
  const v = f[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  return ['1', 'true', 'on', 'yes'].includes(String(v).toLowerCase());
}

function faultFromFields(f: Fields): FaultSpec {
  const kind = optString(f, 'kind') ?? optString(f, 'fault') ?? '';
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new RangeError(`kind must be one of ${FAULT_KINDS.join(', ')}`);
  return {
    kind: kind as FaultKind,
    func: optString(f, 'func'),
    count: optNumber(f, 'count'),
    delayMs: optNumber(f, 'delayMs') ?? optNumber(f, 'delay_ms') ?? optNumber(f, 'delay'),
    apply: optBool(f, 'apply'),
    type: optString(f, 'type'),
    object: optString(f, 'object'),
    msg: optString(f, 'msg'),
    params: stringRecord(f, 'params'),
  };
}

function stringRecord(f: Fields, key: string): Record<string, string> | undefined {
  const v = f[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new RangeError(`${key} must be an object of field values`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

function pageSizeOption(value: number | undefined): number | null {
  if (value === undefined) return null;
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`maxPageSize must be a whole number of rows above 0, not ${value}`);
  return value;
}

/** A listen failure in words that name the port (EADDRINUSE and friends), not an internal error. */
export class SandboxListenError extends Error {
  constructor(
    readonly code: string,
    readonly host: string,
    readonly port: number,
    message: string,
  ) {
    super(message);
    this.name = 'SandboxListenError';
  }
}

function listenError(e: NodeJS.ErrnoException, host: string, port: number): SandboxListenError {
  const code = e.code ?? '';
  switch (code) {
    case 'EADDRINUSE':
      return new SandboxListenError(code, host, port, `Port ${port} on ${host} is already in use (another sandbox or server listens there): stop it, or choose another --port (0 picks a free one).`);
    case 'EACCES':
      return new SandboxListenError(code, host, port, `Not allowed to listen on port ${port} on ${host} (ports below 1024 need root): choose a port from 1024 up, or 0 for a free one.`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SandboxListenError(code, host, port, `Cannot listen on ${host} port ${port}: ${host} is not an address of this machine (${code}).`);
    default:
      return new SandboxListenError(code, host, port, `Cannot listen on ${host} port ${port}: ${e.message}.`);
  }
}

function seedFromFields(f: Fields): SeedLicense {
  const addons = f.addons;
  const autoprolong = typeof f.autoprolong === 'boolean' ? f.autoprolong : optString(f, 'autoprolong');
  return {
    id: optNumber(f, 'id'),
    licname: optString(f, 'licname'),
    ip: optString(f, 'ip'),
    pricelist: optString(f, 'pricelist'),
    period: optNumber(f, 'period'),
    createdate: optString(f, 'createdate'),
    expiredate: optString(f, 'expiredate'),
    lickey: optString(f, 'lickey'),
    ipChangeDate: optString(f, 'ipChangeDate') ?? optString(f, 'ip_change_date'),
    keyChangeDate: optString(f, 'keyChangeDate') ?? optString(f, 'lickey_change_date'),
    autoprolong,
    remoteid: optString(f, 'remoteid'),
    addons: addons && typeof addons === 'object' ? Object.fromEntries(Object.entries(addons).map(([k, v]) => [k, String(v)])) : undefined,
    manualSuspended: optBool(f, 'manualSuspended'),
    deleted: optBool(f, 'deleted'),
  };
}

// ---- the server ------------------------------------------------------------------------------------

export class LicensingSandbox {
  /** e.g. http://127.0.0.1:PORT/billmgr (the module's `url`). */
  url = '';
  port = 0;
  readonly host: string;
  private readonly state: LicensingState;
  private readonly server: Server;
  /** The API's path; anything else (but /_sandbox/) is a 404. */
  readonly path: string;
  private readonly sessions = new Set<string>();
  /** The most recent requests, at most requestLogLimit. */
  private readonly recent: RecordedRequest[] = [];
  /** How many recent requests the log keeps (SPEC 9: bounded). */
  readonly requestLogLimit: number;
  /** Applied orders and prolongations, all of them: tests count money moves through requests(func). */
  private readonly moneyRequests: RecordedRequest[] = [];
  /** Requests received per func since the last clearRequests(), however many the log still holds. */
  private readonly counts = new Map<string, number>();
  private totalRequests = 0;
  private maxPage: number | null;
  private activeFaults: ActiveFault[] = [];
  private readonly held = new Set<HeldRequest>();
  private nextSeq = 1;
  private nextFaultId = 1;
  private closed = false;

  private constructor(opts: SandboxOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.path = opts.path ?? DEFAULT_API_PATH;
    if (!/^\/[A-Za-z0-9._~\/-]*$/.test(this.path) || this.path === '/_sandbox' || this.path.startsWith('/_sandbox/')) {
      throw new RangeError(`not a path for the API: ${this.path}`);
    }
    this.maxPage = pageSizeOption(opts.maxPageSize);
    const limit = opts.requestLogLimit ?? DEFAULT_REQUEST_LOG_LIMIT;
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError(`requestLogLimit must be a whole number above 0, not ${limit}`);
    this.requestLogLimit = limit;
    this.state = new LicensingState(opts);
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `sandbox failure: ${e instanceof Error ? e.message : String(e)}\n`);
        else res.destroy();
      });
    });
  }

  static async start(opts: SandboxOptions): Promise<LicensingSandbox> {
    const sb = new LicensingSandbox(opts);
    const port = opts.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      const failed = (e: NodeJS.ErrnoException): void => reject(listenError(e, sb.host, port));
      sb.server.once('error', failed);
      sb.server.listen(port, sb.host, () => {
        sb.server.off('error', failed);
        resolve();
      });
    });
    sb.port = (sb.server.address() as AddressInfo).port;
    const hostInUrl = sb.host.includes(':') ? `[${sb.host}]` : sb.host;
    sb.url = `http://${hostInUrl}:${sb.port}${sb.path}`;
    return sb;
  }

  // ---- in-process API -------------------------------------------------------------------------

  today(): Day {
    return this.state.today();
  }

  /** Freezes the clock at an ISO instant or YYYY-MM-DD; null returns to PMISPLICENSE_NOW / the real clock. */
  setNow(iso: string | null): void {
    this.state.setNow(iso);
  }

  get balance(): number {
    return this.state.balance;
  }

  setBalance(amount: number): void {
    this.state.setBalance(amount);
  }

  /** Money debited by orders and prolongations. */
  get spent(): number {
    return Math.round(this.state.ledger().reduce((s, e) => s + e.amount, 0) * 100) / 100;
  }

  /** Successful soft.order.param calls (paid orders). */
  purchases(): number {
    return this.state.ledger().filter((e) => e.kind === 'order').length;
  }

  /** Successful service.prolong calls. */
  prolongs(): number {
    return this.state.ledger().filter((e) => e.kind === 'prolong').length;
  }

  ledger(): LedgerEntry[] {
    return this.state.ledger();
  }

  /** Every license, deleted ones included, as of the sandbox clock now. */
  licenses(): SandboxLicense[] {
    return this.state.all();
  }

  license(id: number): SandboxLicense | undefined {
    return this.state.find(id);
  }

  /** Replies hide (on) or show again (off) a license's period and expiredate, as an upstream does
   *  for a license it is still processing. */
  withholdDates(id: number, on: boolean): void {
    this.state.withholdDates(id, on);
  }

  /** Seeds a license (no money moves; not a purchase). Throws RangeError on bad values. */
  addLicense(seed: SeedLicense = {}): SandboxLicense {
    return this.state.seed(seed);
  }

  /**
   * Seeds `n` licenses at once (no money moves), all or none, in one pass over the account: each
   * from `template`, or from template(index) when they differ (e.g. licname `Item #${index}`).
   * Returns their ids in order. For the bench and stress tests (10^4–10^5 licenses).
   */
  seedLicenses(n: number, template: SeedLicense | ((index: number) => SeedLicense) = {}): number[] {
    return this.state.seedMany(n, template);
  }

  /** How many licenses `func=soft` lists now (deleted ones excluded). */
  liveLicenseCount(): number {
    return this.state.liveCount();
  }

  /** The page limit of lists (null = none): pages carry at most this many rows whatever p_cnt asks. */
  get maxPageSize(): number | null {
    return this.maxPage;
  }

  setMaxPageSize(rows: number | null): void {
    this.maxPage = rows === null ? null : pageSizeOption(rows);
  }

  get keyDelayMs(): number {
    return this.state.keyDelayMs;
  }

  setKeyDelayMs(ms: number): void {
    this.state.setKeyDelayMs(ms);
  }

  /** Issues every pending key now; returns how many. */
  issueKeys(): number {
    return this.state.issueKeys();
  }

  inject(fault: FaultSpec): number {
    if (!FAULT_KINDS.includes(fault.kind)) throw new RangeError(`unknown fault kind: ${String(fault.kind)}`);
    const count = fault.count ?? 1;
    if (!(count === -1 || count === Infinity || (Number.isInteger(count) && count > 0))) throw new RangeError(`bad fault count: ${count}`);
    const f: ActiveFault = {
      id: this.nextFaultId++,
      kind: fault.kind,
      func: fault.func || '*',
      remaining: count === Infinity ? -1 : count,
      delayMs: fault.delayMs ?? (fault.kind === 'latency' ? 1000 : null),
      apply: fault.apply ?? false,
      type: fault.type ?? 'value',
      object: fault.object ?? '',
      msg: fault.msg ?? 'Injected error',
      params: { ...(fault.params ?? {}) },
    };
    this.activeFaults.push(f);
    return f.id;
  }

  /** Faults still armed. */
  faults(): ActiveFault[] {
    return this.activeFaults.map((f) => ({ ...f, params: { ...f.params } }));
  }

  /** Disarms every fault (held requests stay held: see release()). Returns how many. */
  clearFaults(): number {
    const n = this.activeFaults.length;
    this.activeFaults = [];
    return n;
  }

  /**
   * Recorded API requests, oldest first; with func, only that func's. The log keeps the last
   * requestLogLimit requests (default 10 000) plus every applied order and prolongation, so
   * counting money moves through it stays exact however long the sandbox runs; for exact counts
   * of everything else use requestCount(), and requestsAfter(seq) rather than a length as a cursor.
   */
  requests(func?: string): RecordedRequest[] {
    const match = (r: RecordedRequest): boolean => func === undefined || r.func === func;
    const oldestKept = this.recent[0]?.seq ?? Infinity;
    const older = this.moneyRequests.filter((r) => r.seq < oldestKept && match(r));
    return [...older, ...this.recent.filter(match)].map(copyRequest);
  }

  /** Requests after the one numbered `seq` (a RecordedRequest.seq or lastRequestSeq()), from requests(func). */
  requestsAfter(seq: number, func?: string): RecordedRequest[] {
    return this.requests(func).filter((r) => r.seq > seq);
  }

  /** The seq of the latest request received (0 before any): a cursor that the log's bound does not move. */
  lastRequestSeq(): number {
    return this.nextSeq - 1;
  }

  /** Exact number of requests received since the start or the last clearRequests(), for one func or all. */
  requestCount(func?: string): number {
    return func === undefined ? this.totalRequests : (this.counts.get(func) ?? 0);
  }

  clearRequests(): void {
    this.recent.length = 0;
    this.moneyRequests.length = 0;
    this.counts.clear();
    this.totalRequests = 0;
  }

  /** Requests held right now by a `hold` fault. */
  heldCount(): number {
    return this.held.size;
  }

  /** Lets every held request go on (it is handled normally if its client is still connected). */
  release(): number {
    const all = [...this.held];
    for (const h of all) h.release();
    return all.length;
  }

  /** Resolves once at least n requests are held (e.g. before SIGKILLing the client). */
  async waitForHeld(n = 1, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.held.size < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} held request(s); ${this.held.size} held`);
      await sleep(5);
    }
  }

  snapshot(): SandboxStateJson {
    const ledger = this.state.ledger();
    return {
      today: this.state.today(),
      now: this.state.now().toISOString(),
      user: this.state.user,
      balance: this.state.balance,
      spent: this.spent,
      purchases: ledger.filter((e) => e.kind === 'order').length,
      prolongs: ledger.filter((e) => e.kind === 'prolong').length,
      keyDelayMs: this.state.keyDelayMs,
      prices: this.state.priceTable(),
      licenses: this.state.all(),
      ledger,
      faults: this.faults(),
      held: this.held.size,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const h of [...this.held]) h.abort();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- the API ---------------------------------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (url.pathname === '/_sandbox' || url.pathname.startsWith('/_sandbox/')) return this.control(req, res, url);

    const body = await readBody(req);
    const params: Params = { ...Object.fromEntries(url.searchParams), ...(body ? formFields(body) : {}) };
    const func = params.func ?? '';
    const rec = this.record(req, url.pathname, func, params);
    // SPEC 9: the API lives on one path and answers POST, or GET with a query (COREmanager takes
    // both); anything else is refused before it can change anything (a DELETE deletes nothing).
    const method = req.method ?? 'GET';
    if (url.pathname !== this.path) {
      return this.reject(res, rec, 404, `no API here: the licensing API is at ${this.path}\n`);
    }
    if (method !== 'POST' && method !== 'GET') {
      return this.reject(res, rec, 405, `method ${method} not allowed: the API takes POST (or GET with a query)\n`, { Allow: 'POST, GET' });
    }
    if (method === 'GET' && url.search.length <= 1) {
      return this.reject(res, rec, 400, 'a GET request to the API needs its fields in the query string (or POST them)\n');
    }
    if (body === null) return this.reject(res, rec, 413, 'request body too large\n');

    const fault = this.takeFault(func, params);
    rec.fault = fault?.kind ?? null;
    switch (fault?.kind) {
      case 'drop':
        return this.drop(req, rec);
      case 'dropafter':
        this.execute(params, rec);
        return this.drop(req, rec);
      case 'error': {
        rec.errorType = fault.type;
        rec.errorObject = fault.object;
        rec.errorMsg = fault.msg;
        return this.finish(res, rec, 200, 'text/xml; charset=UTF-8', errorDoc(fault.type, fault.object, fault.msg), 'error');
      }
      case 'http500':
        if (fault.apply) this.execute(params, rec);
        return this.finish(res, rec, 500, 'text/html; charset=utf-8', HTML_500, 'http500');
      case 'brokenxml': {
        const full = fault.apply ? this.execute(params, rec).body : doc('<elem><id>1</id><licname>Item #1</licname><ip>192.0.2.1</ip></elem>');
        // Cut before the root's end tag, so no parser can take it for a whole document.
        const cut = full.slice(0, Math.max(XML_HEAD.length + 10, Math.floor(full.length / 2)));
        return this.finish(res, rec, 200, 'text/xml; charset=UTF-8', cut, 'brokenxml');
      }
      case 'latency':
        // A slow server: the request is handled after the delay even if the client gave up.
        await sleep(fault.delayMs ?? 0);
        break;
      case 'hold':
        // Nothing is applied while held; a client that went away leaves nothing behind.
        if ((await this.hold(res, fault)) === 'gone') {
          rec.outcome = 'aborted';
          return;
        }
        break;
      case undefined:
        break;
    }

    const reply = this.execute(params, rec);
    if (reply.html) return this.finish(res, rec, 200, 'text/html; charset=utf-8', reply.body, 'html');
    this.finish(res, rec, 200, 'text/xml; charset=UTF-8', reply.body, reply.error ? 'error' : 'ok');
  }

  private reject(res: ServerResponse, rec: RecordedRequest, status: number, text: string, headers: Record<string, string> = {}): void {
    rec.outcome = 'rejected';
    rec.httpStatus = status;
    if (clientGone(res)) return;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private record(req: IncomingMessage, path: string, func: string, params: Params): RecordedRequest {
    const masked: Params = {};
    for (const [k, v] of Object.entries(params)) masked[k] = MASKED_PARAMS.has(k) ? '***' : v;
    const user = params.authinfo ? (params.authinfo.split(':')[0] ?? '') : (params.username ?? '');
    const rec: RecordedRequest = {
      seq: this.nextSeq++,
      time: new Date().toISOString(),
      day: this.state.today(),
      method: req.method ?? 'GET',
      path,
      func,
      user,
      params: masked,
      fault: null,
      outcome: 'pending',
      applied: false,
      httpStatus: null,
    };
    this.recent.push(rec);
    // A bounded log (SPEC 9): a sandbox left running must not grow without end. shift() on a few
    // thousand references is cheap next to an HTTP request.
    if (this.recent.length > this.requestLogLimit) this.recent.shift();
    this.totalRequests++;
    this.counts.set(func, (this.counts.get(func) ?? 0) + 1);
    return rec;
  }

  private finish(res: ServerResponse, rec: RecordedRequest, status: number, contentType: string, body: string, outcome: RequestOutcome): void {
    if (clientGone(res)) {
      rec.outcome = 'aborted';
      return;
    }
    rec.outcome = outcome;
    rec.httpStatus = status;
    send(res, status, contentType, body);
  }

  private drop(req: IncomingMessage, rec: RecordedRequest): void {
    rec.outcome = 'dropped';
    req.socket.destroy();
  }

  private takeFault(func: string, params: Params): ActiveFault | undefined {
    const f = this.activeFaults.find((x) => (x.func === '*' || x.func === func) && Object.entries(x.params).every(([k, v]) => params[k] === v));
    if (!f) return undefined;
    if (f.remaining > 0 && --f.remaining === 0) this.activeFaults = this.activeFaults.filter((x) => x !== f);
    return { ...f, params: { ...f.params } };
  }

  private hold(res: ServerResponse, fault: ActiveFault): Promise<'released' | 'gone'> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (how: 'released' | 'gone'): void => {
        if (!this.held.delete(entry)) return;
        if (timer) clearTimeout(timer);
        res.off('close', onClose);
        resolve(how);
      };
      const onClose = (): void => finish('gone');
      const entry: HeldRequest = {
        release: () => finish('released'),
        abort: () => {
          finish('gone');
          res.destroy();
        },
      };
      this.held.add(entry);
      res.on('close', onClose);
      if (fault.delayMs !== null) timer = setTimeout(() => finish('released'), fault.delayMs);
    });
  }

  /** Runs one API call against the account; the reply is XML unless the client forgot out=xml. */
  private execute(params: Params, rec: RecordedRequest): Reply {
    if (params.out !== 'xml') {
      // A real BILLmanager answers such a request with its HTML interface.
      return { body: '<!DOCTYPE html><html><head><title>BILLmanager</title></head><body>Sandbox: add out=xml to get an XML reply.</body></html>\n', html: true, error: null };
    }
    try {
      const body = this.dispatch(params.func ?? '', params);
      rec.applied = true;
      if (MONEY_FUNCS.includes(rec.func)) this.moneyRequests.push(rec);
      return { body, html: false, error: null };
    } catch (e) {
      const err = e instanceof SandboxApiError ? e : new SandboxApiError('internal', '', `Sandbox failure: ${e instanceof Error ? e.message : String(e)}`);
      rec.errorType = err.type;
      rec.errorObject = err.object;
      rec.errorMsg = err.message;
      return { body: errorDoc(err.type, err.object, err.message), html: false, error: err };
    }
  }

  private dispatch(func: string, p: Params): string {
    if (func === 'auth') return this.auth(p);
    this.authorize(p);
    const elid = p.elid ?? '';
    switch (func) {
      case 'soft':
        return this.softList(p);
      case 'soft.edit':
        return this.softEdit(elid, p);
      case 'pricelist.export':
        return this.pricelistExport(p);
      case 'soft.order.param': {
        requireSok(p, 'soft.order.param');
        if (p.clicked_button !== 'finish') throw new SandboxApiError('value', 'clicked_button', 'soft.order.param takes the order with clicked_button=finish.');
        if (p.skipbasket !== 'on') throw new SandboxApiError('value', 'skipbasket', 'The sandbox takes orders only with skipbasket=on (no basket, paid from the balance).');
        const addons = Object.fromEntries(Object.entries(p).filter(([k]) => /^addon_\d+$/.test(k)));
        const l = this.state.order({
          pricelist: p.pricelist ?? '',
          period: p.period ?? '',
          ip: p.ip ?? '',
          licname: p.licname ?? '',
          autoprolong: p.autoprolong ?? '',
          remoteid: p.remoteid ?? '',
          addons,
        });
        return doc(tag('id', l.id) + tag('item.id', l.id));
      }
      case 'service.prolong': {
        requireSok(p, 'service.prolong');
        const expiredate = this.state.prolong(elid, p.period);
        return doc(`<doc>${tag('newexpiredate', expiredate)}</doc>`);
      }
      case 'soft.suspend':
        this.state.suspend(elid);
        return doc('<ok/>');
      case 'soft.resume':
        this.state.resume(elid);
        return doc('<ok/>');
      case 'soft.delete':
        requireSok(p, 'soft.delete');
        this.state.delete(elid);
        return doc('<ok/>');
      default:
        throw new SandboxApiError('missed', 'func', `Unknown function "${func}".`);
    }
  }

  private auth(p: Params): string {
    if (!this.state.checkCredentials(p.username ?? '', p.password ?? '')) throw new SandboxApiError('auth', '', 'Invalid user name or password.');
    const session = randomBytes(16).toString('hex');
    this.sessions.add(session);
    return doc(`<auth id="${session}">${session}</auth>`);
  }

  /** authinfo=user:password (the module's way), or auth=<session> from func=auth. */
  private authorize(p: Params): void {
    if (p.auth && this.sessions.has(p.auth)) return;
    const authinfo = p.authinfo ?? '';
    const colon = authinfo.indexOf(':');
    if (colon > 0 && this.state.checkCredentials(authinfo.slice(0, colon), authinfo.slice(colon + 1))) return;
    throw new SandboxApiError('auth', '', 'Authorization failed: invalid or missing authinfo.');
  }

  /**
   * `func=soft`, paged as COREmanager pages lists when asked (p_cnt rows per page, page p_num from
   * 1, p_elems = all rows; the three beside the <elem> rows), or by the sandbox's own page limit.
   * Without either, the whole list and no paging fields.
   */
  private softList(p: Params): string {
    const asked = pagingNumber(p, 'p_cnt');
    const num = pagingNumber(p, 'p_num') ?? 1;
    const limit = Math.min(asked ?? Infinity, this.maxPage ?? Infinity);
    if (limit === Infinity && p.p_num === undefined) return doc(this.state.list().map(listElem).join(''));
    const total = this.state.liveCount();
    const size = limit === Infinity ? Math.max(total, 1) : limit;
    const page = this.state.listPage((num - 1) * size, size);
    return doc(tag('p_elems', page.total) + tag('p_num', num) + tag('p_cnt', size) + page.rows.map(listElem).join(''));
  }

  /**
   * `func=pricelist.export` (SPEC 7 v3): the tariffs the account can order with their prices, in the
   * shape public readers of BILLmanager's price export expect — `<pricelist>` rows with `id`, `name`
   * and `<price currency="…">` holding `<period type="month" length="1" cost="…"/>` (parsers of
   * `?func=pricelist.export&out=xml&itemtype=…&onlyavailable=on` on GitHub read
   * `price/period[type=month][length=1]/@cost`; callers with authinfo also pass `pricelist=ID`).
   * A year is `type="month" length="12"` (BILLmanager's period codes are months) and lifetime
   * `type="lifetime" length="0"`: the real spelling of those two is not public, so the client reads
   * both spellings it can think of and treats anything else as unknown. The sandbox sells only
   * `soft`: another itemtype gets an empty list.
   */
  private pricelistExport(p: Params): string {
    if (p.itemtype !== undefined && p.itemtype !== '' && p.itemtype !== 'soft') return doc('');
    const currency = xmlText(this.state.currency);
    const rows = this.state.exportTariffs(p.pricelist || undefined).map((t) => {
      const periods = t.prices
        .map((x) => `<period type="${x.period === 0 ? 'lifetime' : 'month'}" length="${x.period}" cost="${x.cost.toFixed(2)}"/>`)
        .join('');
      return `<pricelist>${tag('id', t.id)}${tag('name', t.name)}${tag('itemtype', 'soft')}${tag('active', 'on')}<price currency="${currency}">${periods}</price></pricelist>`;
    });
    return doc(rows.join(''));
  }

  /** Read (flat), newkey (flat, as ISPsystem's client reads /doc/lickey) or change (nested). */
  private softEdit(elid: string, p: Params): string {
    if (p.sok !== 'ok') return doc(editFields(this.state.get(elid)));
    if (p.clicked_button === 'newkey') return doc(editFields(this.state.newKey(elid)));
    const changes: LicenseEdit = {};
    for (const k of EDIT_FIELDS) if (p[k] !== undefined) changes[k] = p[k];
    return doc(`<doc>${editFields(this.state.edit(elid, changes))}</doc>`);
  }

  // ---- control endpoints ------------------------------------------------------------------------

  private async control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(req);
    if (body === null) return sendJson(res, 413, { error: 'request body too large' });
    let fields: Fields;
    try {
      const isJson = (req.headers['content-type'] ?? '').includes('json') || /^\s*[{[]/.test(body);
      const parsed: unknown = body.trim() ? (isJson ? JSON.parse(body) : formFields(body)) : {};
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new RangeError('the body must be a JSON object or a form');
      fields = { ...Object.fromEntries(url.searchParams), ...(parsed as Fields) };
    } catch (e) {
      return sendJson(res, 400, { error: e instanceof Error ? e.message : String(e) });
    }
    const route = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '')}`;
    try {
      switch (route) {
        case 'GET /_sandbox/state':
          return sendJson(res, 200, this.snapshot());
        case 'GET /_sandbox/requests':
          return sendJson(res, 200, this.requests(optString(fields, 'func')));
        case 'DELETE /_sandbox/requests':
        case 'POST /_sandbox/requests/clear':
          this.clearRequests();
          return sendJson(res, 200, { ok: true });
        case 'POST /_sandbox/clock': {
          const now = optString(fields, 'now');
          this.setNow(now && now !== 'real' ? now : null);
          return sendJson(res, 200, { today: this.today(), now: this.state.now().toISOString() });
        }
        case 'POST /_sandbox/fault':
          return sendJson(res, 200, { id: this.inject(faultFromFields(fields)) });
        case 'DELETE /_sandbox/fault':
        case 'POST /_sandbox/fault/clear':
          return sendJson(res, 200, { cleared: this.clearFaults() });
        case 'POST /_sandbox/release':
          return sendJson(res, 200, { released: this.release() });
        case 'POST /_sandbox/license':
          return sendJson(res, 200, this.addLicense(seedFromFields(fields)));
        case 'POST /_sandbox/licenses': {
          // Many at once from one template: { count, ...seed fields } (no id: they get the next ones).
          const count = optNumber(fields, 'count') ?? 1;
          const template = seedFromFields(fields);
          if (template.id !== undefined) throw new RangeError('seeding many licenses takes no id');
          const ids = this.seedLicenses(count, template);
          return sendJson(res, 200, { seeded: ids.length, first: ids[0] ?? null, last: ids.at(-1) ?? null });
        }
        case 'POST /_sandbox/keys':
          return sendJson(res, 200, { issued: this.issueKeys() });
        case 'POST /_sandbox/config': {
          const balance = optNumber(fields, 'balance');
          const keyDelayMs = optNumber(fields, 'keyDelayMs') ?? optNumber(fields, 'key_delay_ms');
          const maxPage = fields.maxPageSize === null ? null : optNumber(fields, 'maxPageSize');
          if (balance !== undefined) this.setBalance(balance);
          if (keyDelayMs !== undefined) this.setKeyDelayMs(keyDelayMs);
          if (maxPage !== undefined) this.setMaxPageSize(maxPage);
          const out: Record<string, unknown> = { balance: this.balance, keyDelayMs: this.keyDelayMs };
          if (maxPage !== undefined) out.maxPageSize = this.maxPageSize;
          return sendJson(res, 200, out);
        }
        default:
          return sendJson(res, 404, { error: `no control endpoint ${route}` });
      }
    } catch (e) {
      return sendJson(res, 400, { error: e instanceof Error ? e.message : String(e) });
    }
  }
}

function pagingNumber(p: Params, name: 'p_cnt' | 'p_num'): number | undefined {
  const raw = p[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) throw new SandboxApiError('value', name, `${name} must be a whole number from 1, not "${raw}".`);
  return n;
}

function requireSok(p: Params, func: string): void {
  if (p.sok !== 'ok') throw new SandboxApiError('value', 'sok', `${func} changes nothing without sok=ok.`);
}

export function startLicensingServer(opts: SandboxOptions): Promise<LicensingSandbox> {
  return LicensingSandbox.start(opts);
}

// ---- command line ------------------------------------------------------------------------------------

export interface SandboxCommandOptions {
  port?: number;
  host?: string;
  user?: string;
  /** Default: PMISPLICENSE_SANDBOX_PASSWORD of the environment (keeps it out of the process list). */
  password?: string;
  balance?: number;
  keyDelayMs?: number;
  now?: string;
}

export interface SandboxCommandIo {
  stdout?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  /** Stops the server like SIGTERM does (tests). */
  signal?: AbortSignal;
}

/** `--port 0 --user u --password p --balance 100 --key-delay-ms 0 --now ISO --host H`, also `--x=v`. */
export function parseSandboxArgs(argv: readonly string[]): SandboxCommandOptions {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) raw[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) raw[a.slice(2)] = argv[++i]!;
  }
  const num = (key: string): number | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || Number.isNaN(n)) throw new CommandError(v, `--${key} must be a number, not "${v}".`);
    return n;
  };
  return {
    port: num('port'),
    host: raw.host,
    user: raw.user,
    password: raw.password,
    balance: num('balance'),
    keyDelayMs: num('key-delay-ms'),
    now: raw.now,
  };
}

/** Printed on start-up under the URL line (SPEC 9): nothing the sandbox holds survives it. */
export const IN_MEMORY_NOTICE =
  'Its state (licenses, balance, ledger, request log) lives in memory only: it is lost when the sandbox stops.';

/**
 * `pmisplicense sandbox …`: serves until SIGTERM/SIGINT (or io.signal), after printing two lines:
 * `pmisplicense sandbox listening on http://127.0.0.1:PORT/billmgr` and IN_MEMORY_NOTICE.
 * Resolves 0 once closed. A port it cannot listen on is a CommandError naming the port.
 */
export async function runSandboxCommand(args: SandboxCommandOptions | readonly string[], io: SandboxCommandIo = {}): Promise<number> {
  const o = Array.isArray(args) ? parseSandboxArgs(args as readonly string[]) : (args as SandboxCommandOptions);
  const env = io.env ?? process.env;
  const password = o.password ?? env.PMISPLICENSE_SANDBOX_PASSWORD;
  if (!o.user) throw new CommandError('user', 'pmisplicense sandbox needs --user.');
  if (!password) throw new CommandError('password', 'pmisplicense sandbox needs --password (or PMISPLICENSE_SANDBOX_PASSWORD).');
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535)) throw new CommandError(String(o.port), '--port must be 0..65535.');
  if (o.balance !== undefined && !(Number.isFinite(o.balance) && o.balance >= 0)) throw new CommandError(String(o.balance), `--balance must be an amount of money of 0 or more, not "${o.balance}".`);
  if (o.keyDelayMs !== undefined && !Number.isFinite(o.keyDelayMs)) throw new CommandError(String(o.keyDelayMs), `--key-delay-ms must be a number of milliseconds, not "${o.keyDelayMs}".`);
  if (o.now) {
    try {
      parseInstant(o.now);
    } catch {
      throw new CommandError(o.now, `--now must be an ISO date or instant, not "${o.now}".`);
    }
  }
  let sb: LicensingSandbox;
  try {
    sb = await startLicensingServer({
      port: o.port ?? 0,
      host: o.host,
      user: o.user,
      password,
      balance: o.balance,
      keyDelayMs: o.keyDelayMs,
      now: o.now,
      env,
    });
  } catch (e) {
    if (!(e instanceof SandboxListenError)) throw e;
    log.error(`sandbox: ${e.message}`);
    throw new CommandError(String(e.port), e.message);
  }
  log.info(`sandbox listening on ${sb.url}; state in memory only`);
  (io.stdout ?? process.stdout).write(`pmisplicense sandbox listening on ${sb.url}\n${IN_MEMORY_NOTICE}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop);
  });
  await sb.close();
  log.info('sandbox stopped; its state is gone');
  return 0;
}
