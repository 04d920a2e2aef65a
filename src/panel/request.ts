// The request COREmanager gives a plugin handler: the parameters in the environment (PARAM_<name>,
// AUTH_USER, AUTH_LEVEL) and the page document on stdin. Sources: ISPsystem's documentation
// "Handlers" and "Environment variables" (developer guide: PARAM_func is always set; AUTH_LEVEL
// is the user's access level), and the public plugins biggora/ispmanager_proxy (addon/proxy.php
// reads PARAM_func / PARAM_elid / PARAM_sok from the environment) and
// openprovider/op-billmanager5-domains (mgr5/addon/domainauthcode.php: a type="xml" handler reads
// the page document from stdin and prints it back with its data).
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

export function requestFrom(env: NodeJS.ProcessEnv, doc: XmlElement): PanelRequest {
  const tparams = child(doc, 'tparams');
  const param = (name: string): string | undefined => {
    const v = env[`PARAM_${name}`];
    if (v !== undefined) return v;
    const t = tparams ? child(tparams, name) : undefined;
    return t?.text;
  };
  const levelText = (env.AUTH_LEVEL ?? '').trim();
  const langText = doc.attrs.lang ?? param('lang') ?? '';
  return {
    func: (param('func') ?? doc.attrs.func ?? '').trim(),
    authLevel: /^\d+$/.test(levelText) ? Number(levelText) : null,
    user: env.AUTH_USER ?? '',
    lang: langText.trim().toLowerCase().startsWith('ru') ? 'ru' : 'en',
    doc,
    param,
  };
}
