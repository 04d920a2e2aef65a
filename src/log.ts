// The module log in COREmanager's line format:
//   Nov 27 20:27:10 [1234] pmisplicense INFO message
// Every secret the process learns (password, authinfo, license keys) is registered here and
// masked in every line, whatever code wrote it; stack traces go to the log only.
import { openSync, writeSync, closeSync } from 'node:fs';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const secrets = new Set<string>();
let fd: number | null = null;
let path: string | null = null;
let fellBack = false;

/** Remember a value that must never be written anywhere. Short values would mask too much. */
export function addSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

/**
 * The shapes in which a secret sits in a host or upstream reply, read from the raw text (a reply
 * that is not well-formed is never parsed, yet may be echoed by a bug): BILLmanager's paramlist
 * rows `<elem><name>DBPassword</name><value>…</value></elem>` and its flat form
 * `<doc><DBPassword>…</DBPassword>`, and the password, license key and session fields. Each
 * regex's last group is the value; a reply cut short ends the value at its end.
 */
const SECRET_SHAPES: readonly RegExp[] = [
  /(<name>\s*(?:DBPassword|password|passwd|lickey|authinfo)\s*<\/name>\s*<value\b[^>]*>)([^]*?)(?=<\/value>|$)/gi,
  /(<(DBPassword|password|passwd|lickey|authinfo)\b[^>/]*>)([^]*?)(?=<\/\2\s*>|$)/gi,
  /(<(\w+)\b[^>]*\bname=["'](?:DBPassword|password|lickey)["'][^>]*>)([^]*?)(?=<\/\2\s*>|$)/gi,
];

/** A raw XML value as it reads once parsed: CDATA unwrapped, the five entities and character references decoded. */
function decodedValue(raw: string): string {
  return raw
    .replace(/<!\[CDATA\[([^]*?)(?:\]\]>|$)/g, '$1')
    .replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (ref: string, name: string) => {
      const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
      const key = name.toLowerCase();
      if (named[key]) return named[key];
      const cp = key.startsWith('#x') ? parseInt(key.slice(2), 16) : Number(key.slice(1));
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : ref;
    });
}

/**
 * Registers every secret of a raw reply before anything else reads it (SPEC 6: the database
 * password is a secret from the moment it is read, well-formed or not). Both the value as sent
 * and as parsed are registered, with and without surrounding spaces.
 */
export function addSecretsOfReply(reply: string): void {
  if (!/dbpassword|password|passwd|lickey|authinfo/i.test(reply)) return;
  for (const shape of SECRET_SHAPES) {
    for (const m of reply.matchAll(shape)) {
      const raw = m[m.length - 1] ?? '';
      for (const v of [raw, decodedValue(raw)]) {
        addSecret(v);
        addSecret(v.trim());
      }
    }
  }
}

/** Masks registered secrets, `authinfo=`/`password=`/`lickey=` values and the reply shapes above in free text. */
export function mask(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
    const enc = encodeURIComponent(s);
    if (enc !== s && out.includes(enc)) out = out.split(enc).join('***');
  }
  out = out.replace(/(authinfo|password|passwd|lickey|value=\$?PMISPLICENSE_SECRET)=[^&\s<"']*/gi, '$1=***');
  if (!/dbpassword|password|passwd|lickey|authinfo/i.test(out)) return out;
  for (const shape of SECRET_SHAPES) {
    out = out.replace(shape, (...m: unknown[]) => `${String(m[1])}***`);
  }
  return out;
}

/** Sends the log to `file` from now on ('' = nowhere); a later call starts afresh. */
export function openLog(file: string): void {
  closeLog();
  path = file || null;
  fellBack = false;
}

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function write(level: string, msg: string): void {
  if (path === null) return; // in-process use (tests, the demo's own process) keeps quiet
  const line = `${stamp()} [${process.pid}] pmisplicense ${level} ${mask(msg).replace(/\n/g, '\n\t')}\n`;
  if (fd === null && path && !fellBack) {
    try {
      fd = openSync(path, 'a', 0o600);
    } catch (e) {
      fellBack = true;
      process.stderr.write(mask(`pmisplicense: cannot open log ${path}: ${(e as Error).message}; logging to stderr\n`));
    }
  }
  if (fd !== null) {
    try {
      writeSync(fd, line);
      return;
    } catch {
      /* fall through to stderr */
    }
  }
  process.stderr.write(line);
}

export const log = {
  debug: (msg: string) => write('DEBUG', msg),
  info: (msg: string) => write('INFO', msg),
  warn: (msg: string) => write('WARNING', msg),
  error: (msg: string) => write('ERROR', msg),
};

export function closeLog(): void {
  if (fd !== null) closeSync(fd);
  fd = null;
  path = null;
}
