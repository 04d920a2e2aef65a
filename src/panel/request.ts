// The request COREmanager gives a plugin handler: the parameters in the environment (PARAM_<name>,
// AUTH_USER, AUTH_LEVEL) and the page document on stdin. Sources: ISPsystem's documentation
// "Handlers" and "Environment variables" (developer guide: PARAM_func is always set; AUTH_LEVEL
// is the user's access level), and the public plugins biggora/ispmanager_proxy (addon/proxy.php
// reads PARAM_func / PARAM_elid / PARAM_sok from the environment) and
// openprovider/op-billmanager5-domains (mgr5/addon/domainauthcode.php: a type="xml" handler reads
// the page document from stdin and prints it back with its data, and reads AUTH_USER / AUTH_LEVEL).
// The language (SPEC 8 v3): the document's `lang`, else PARAM_lang, else BILLmanager's language
// cookie `billmgrlang5` in HTTP_COOKIE, else English. The cookie holds `<theme>:<lang>` (e.g.
// `dragon:ru`) — so public BILLmanager CGI scripts read it: HTTP_COOKIE parsed, the
// `billmgrlang5` value split on ':' and its last part taken (e.g. the payment CGIs of
// ISPsystemLLC/billmanager, paymethod/*, and ISPsystem documentation "How to add a payment
// gateway module", section on CGI scripts).
import { parseXml, child, type XmlElement } from '../xml.js';

export type Lang = 'en' | 'ru';

export interface PanelRequest {
  func: string;
  /** The user's access level; null when COREmanager gave none (never treated as an administrator). */
  authLevel: number | null;
  user: string;
  lang: Lang;
  /** The page document from stdin (`<doc/>` when there was none or it was unreadable). */
  doc: XmlElement;
  /** A request parameter: PARAM_<name>, else the document's <tparams><name>; undefined when absent. */
  param(name: string): string | undefined;
  /** COREmanager's list paging parameters as given (p_cnt, p_num, …): printed back unchanged. */
  paging: Record<string, string>;
}

/** Stdin is read until EOF, or until this long passes without data (SPEC 8). */
export const STDIN_IDLE_MS = 2000;
/** And never longer than this in all, whatever trickles in. */
export const STDIN_TOTAL_MS = 10_000;
const STDIN_MAX = 4 * 1024 * 1024;

/** Reads the page document without ever hanging: EOF, 2 s of silence, 10 s in all or 4 MiB end it. */
export function readPageDocument(stream: NodeJS.ReadStream = process.stdin): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (text: string) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(total);
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onEnd);
      stream.pause();
      // A writer that never closes must not keep the process alive.
      if (typeof stream.destroy === 'function') stream.destroy();
      resolve(text);
    };
    const collected = () => Buffer.concat(chunks).toString('utf8');
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(collected()), STDIN_IDLE_MS);
    };
    const onData = (c: Buffer | string) => {
      const buf = typeof c === 'string' ? Buffer.from(c) : c;
      size += buf.length;
      if (size > STDIN_MAX) return finish(''); // absurd: treated as no document
      chunks.push(buf);
      armIdle();
    };
    const onEnd = () => finish(collected());
    const total = setTimeout(() => finish(collected()), STDIN_TOTAL_MS);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onEnd);
    armIdle();
    stream.resume();
  });
}

function emptyDoc(): XmlElement {
  return { name: 'doc', attrs: {}, text: '', children: [] };
}

/** The stdin text as a document: anything but a readable `<doc>` counts as `<doc/>`. */
export function pageDocument(text: string): XmlElement {
  if (!text.trim()) return emptyDoc();
  try {
    const d = parseXml(text);
    return d.name === 'doc' ? d : emptyDoc();
  } catch {
    return emptyDoc();
  }
}

/** The language in BILLmanager's `billmgrlang5` cookie (`dragon:ru`, or `ru` alone); '' when none. */
export function cookieLang(cookie: string | undefined): string {
  for (const part of (cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== 'billmgrlang5') continue;
    let value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      value = decodeURIComponent(value);
    } catch {
      /* kept as sent */
    }
    return value.split(':').at(-1)!.trim();
  }
  return '';
}

/** The first of the given language names that is set (non-empty), as en or ru (anything else: en). */
function pickLang(...candidates: Array<string | undefined>): Lang {
  const given = candidates.map((c) => (c ?? '').trim()).find((c) => c !== '') ?? '';
  return given.toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

/** A `p_*` name: COREmanager's paging parameters (p_cnt, p_num), never our own data. */
const PAGING = /^p_[a-z]+$/;

export function requestFrom(env: NodeJS.ProcessEnv, doc: XmlElement): PanelRequest {
  const tparams = child(doc, 'tparams');
  const param = (name: string): string | undefined => {
    const v = env[`PARAM_${name}`];
    if (v !== undefined) return v;
    const t = tparams ? child(tparams, name) : undefined;
    return t?.text;
  };
  const levelText = (env.AUTH_LEVEL ?? '').trim();
  const paging: Record<string, string> = {};
  for (const t of tparams?.children ?? []) if (PAGING.test(t.name)) paging[t.name] = t.text;
  for (const [k, v] of Object.entries(env)) if (k.startsWith('PARAM_') && PAGING.test(k.slice(6)) && v !== undefined) paging[k.slice(6)] = v;
  return {
    func: (param('func') ?? doc.attrs.func ?? '').trim(),
    authLevel: /^\d+$/.test(levelText) ? Number(levelText) : null,
    user: env.AUTH_USER ?? '',
    lang: pickLang(doc.attrs.lang, param('lang'), cookieLang(env.HTTP_COOKIE)),
    doc,
    param,
    paging,
  };
}
