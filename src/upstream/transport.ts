// HTTP to the licensing server (SPEC 7): one form POST per call, with node:http/https rather than
// the global fetch (which costs ~90 ms of start-up in a process BILLmanager starts for every
// operation). Every field, the credentials included, goes in the body: URLs end up in proxy and
// server access logs. TLS verification cannot be turned off, whatever the environment says.
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { TransportError } from '../errors.js';
import { addSecret, addSecretsOfReply, log } from '../log.js';
import { descendant, parseXml, XmlError, type XmlElement } from '../xml.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Environment variable: total timeout of one request, in seconds. */
export const TIMEOUT_ENV = 'PMISPLICENSE_HTTP_TIMEOUT';

export interface TransportOptions {
  /** TCP connect (and TLS handshake) limit; default 10 s. */
  connectTimeoutMs?: number;
  /** Whole request limit; default $PMISPLICENSE_HTTP_TIMEOUT seconds, else 60 s. */
  timeoutMs?: number;
  /** Replies larger than this are refused; default 16 MiB. */
  maxResponseBytes?: number;
  env?: NodeJS.ProcessEnv;
}

export interface Credentials {
  username: string;
  password: string;
}

export type FormParams = Readonly<Record<string, string | number>>;

/** Fields the transport itself sets; a caller's param may not override them. */
const RESERVED = new Set(['authinfo', 'out', 'lang', 'func', 'username', 'password']);
/** Param names whose values are never logged. */
const SECRET_PARAMS = /^(authinfo|password|passwd|lickey|key)$/i;

function positive(v: number | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/** The total timeout: the option, else the environment (seconds), else 60 s. */
export function resolveTimeoutMs(opt: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (positive(opt)) return opt;
  const raw = env[TIMEOUT_ENV];
  if (raw !== undefined && raw !== '') {
    const s = Number(raw);
    if (Number.isFinite(s) && s > 0 && s <= 3600) return Math.round(s * 1000);
    log.warn(`${TIMEOUT_ENV}="${raw}" is not a number of seconds between 0 and 3600; using ${DEFAULT_TIMEOUT_MS / 1000} s`);
  }
  return DEFAULT_TIMEOUT_MS;
}

function describeParams(params: FormParams): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${SECRET_PARAMS.test(k) ? '***' : String(v)}`)
    .join(' ');
}

/** A readable cause for a socket-level failure (the error codes Node gives). */
function causeOf(e: NodeJS.ErrnoException): string {
  const code = e.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return e.message === 'socket hang up'
        ? 'connection dropped before a reply (the request may have been carried out)'
        : 'connection reset by the server (the request may have been carried out)';
    case 'EPIPE':
      return 'connection dropped while sending';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host name not resolved (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host unreachable (${code})`;
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)) {
        return `the server's TLS certificate is not trusted (${code}: ${e.message})`;
      }
      return code ? `${code}: ${e.message}` : e.message;
  }
}

export class Transport {
  readonly url: URL;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly #credentials: Credentials;
  readonly #authinfo: string;

  /** `url` must already have passed checkUpstreamUrl. */
  constructor(url: URL, credentials: Credentials, opts: TransportOptions = {}) {
    // Registered before anything can be logged, so no later line can carry them.
    addSecret(credentials.password);
    this.#authinfo = `${credentials.username}:${credentials.password}`;
    addSecret(this.#authinfo);
    this.#credentials = { ...credentials };
    this.url = new URL(url.href);
    this.url.hash = '';
    this.timeoutMs = resolveTimeoutMs(opts.timeoutMs, opts.env ?? process.env);
    this.connectTimeoutMs = Math.min(positive(opts.connectTimeoutMs) ? opts.connectTimeoutMs : DEFAULT_CONNECT_TIMEOUT_MS, this.timeoutMs);
    this.maxResponseBytes = positive(opts.maxResponseBytes) ? opts.maxResponseBytes : DEFAULT_MAX_RESPONSE_BYTES;
  }

  /** Where requests go, for messages: origin and path only (no query: it is the admin's). */
  get target(): string {
    return `${this.url.origin}${this.url.pathname}`;
  }

  /**
   * POSTs `func` with `params`. `login` sends username/password instead of authinfo (func=auth).
   * Resolves with the body of an HTTP 200 reply; everything else is a TransportError.
   */
  async post(func: string, params: FormParams = {}, opts: { login?: boolean } = {}): Promise<string> {
    const form = new URLSearchParams();
    if (!opts.login) form.append('authinfo', this.#authinfo);
    form.append('out', 'xml');
    form.append('lang', 'en');
    form.append('func', func);
    if (opts.login) {
      form.append('username', this.#credentials.username);
      form.append('password', this.#credentials.password);
    }
    for (const [k, v] of Object.entries(params)) {
      if (RESERVED.has(k)) throw new Error(`upstream param "${k}" is set by the transport`);
      form.append(k, String(v));
    }
    const body = Buffer.from(form.toString(), 'utf8');
    log.info(`upstream request ${func}${Object.keys(params).length ? ' ' + describeParams(params) : ''} (${this.target})`);
    const started = Date.now();
    try {
      const reply = await this.#send(func, body);
      log.info(`upstream ${func}: HTTP 200, ${reply.length} bytes in ${Date.now() - started} ms`);
      return reply;
    } catch (e) {
      log.warn(`upstream ${func} failed after ${Date.now() - started} ms: ${(e as Error).message}`);
      throw e;
    }
  }

  #send(func: string, body: Buffer): Promise<string> {
    const u = this.url;
    const secure = u.protocol === 'https:';
    const fail = (cause: string) => new TransportError(`The licensing server request ${func} failed: ${cause} (${this.target}).`);

    return new Promise<string>((resolve, reject) => {
      let settled = false;
      let req: ClientRequest | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      const finish = (err: TransportError | null, text?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(totalTimer);
        clearTimeout(connectTimer);
        if (err) {
          req?.destroy();
          reject(err);
        } else resolve(text ?? '');
      };
      const totalTimer = setTimeout(() => finish(fail(`no complete reply within ${this.timeoutMs / 1000} s (timeout; the request may have been carried out)`)), this.timeoutMs);

      const options = {
        method: 'POST',
        protocol: u.protocol,
        hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: u.port || (secure ? 443 : 80),
        path: `${u.pathname}${u.search}`,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8',
          'Content-Length': String(body.length),
          Accept: 'text/xml, application/xml',
          'User-Agent': 'pmisplicense',
          // One connection per request: a reused keep-alive socket that the server closes at the
          // wrong moment would make a non-idempotent call (order, prolong) fail ambiguously.
          Connection: 'close',
        },
        agent: false as const,
        // Explicit, so that NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment has no effect.
        rejectUnauthorized: true,
      };

      try {
        req = (secure ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
          if (res.statusCode !== 200) {
            const loc = res.headers.location ? ` redirecting to ${String(res.headers.location).replace(/\?.*$/, '')}` : '';
            res.resume();
            finish(fail(`HTTP ${res.statusCode ?? '?'} ${res.statusMessage ?? ''}`.trimEnd() + loc));
            return;
          }
          const declared = Number(res.headers['content-length']);
          if (Number.isFinite(declared) && declared > this.maxResponseBytes) {
            finish(fail(`reply too large (${declared} bytes, limit ${this.maxResponseBytes})`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.maxResponseBytes) finish(fail(`reply too large (over ${this.maxResponseBytes} bytes)`));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            if (!res.complete) finish(fail('connection dropped during the reply'));
            else finish(null, Buffer.concat(chunks).toString('utf8'));
          });
          res.on('error', () => finish(fail('connection dropped during the reply')));
          res.on('close', () => {
            if (!res.complete) finish(fail('connection dropped during the reply'));
          });
        });
      } catch (e) {
        finish(fail((e as Error).message));
        return;
      }

      req.on('socket', (socket: Socket) => {
        // Counts DNS, TCP and, for https, the TLS handshake; the total timer covers the rest.
        if (!socket.connecting && !secure) return;
        connectTimer = setTimeout(() => finish(fail(`could not connect within ${this.connectTimeoutMs / 1000} s (connect timeout)`)), this.connectTimeoutMs);
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      req.on('error', (e: NodeJS.ErrnoException) => finish(fail(causeOf(e))));
      req.end(body);
    });
  }
}

/** A reply the module cannot read with certainty: retryable (acting on it could pay twice). */
export function brokenReply(func: string, what: string): TransportError {
  return new TransportError(`The licensing server sent a broken reply to ${func}: ${what}.`);
}

/**
 * A reply body as the module reads it (SPEC 6, 7): a well-formed XML 1.0 `<doc>`, and the
 * `<error>` in it at any depth, if any. An unreadable reply is a broken reply that names the
 * function, the position and the parser's reason, never a piece of the body (it may carry a key).
 */
export function readReply(func: string, body: string): { doc: XmlElement; error: XmlElement | undefined } {
  addSecretsOfReply(body);
  let doc: XmlElement;
  try {
    doc = parseXml(body);
  } catch (e) {
    const reason = e instanceof XmlError ? e.message : 'the XML reader failed';
    log.warn(`upstream ${func}: unreadable reply of ${body.length} characters (${reason})`);
    throw brokenReply(func, reason);
  }
  if (doc.name === 'error') return { doc, error: doc };
  if (doc.name !== 'doc') throw brokenReply(func, 'its root element is not <doc>');
  return { doc, error: descendant(doc, 'error') };
}
