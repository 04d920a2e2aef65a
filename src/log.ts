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

/** Masks registered secrets and `authinfo=`/`password=`/`lickey=` values in free text. */
export function mask(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
    const enc = encodeURIComponent(s);
    if (enc !== s && out.includes(enc)) out = out.split(enc).join('***');
  }
  return out
    .replace(/(authinfo|password|passwd|lickey|value=\$?PMISPLICENSE_SECRET)=[^&\s<"']*/gi, '$1=***')
    .replace(/<(password|lickey|authinfo)>[^<]*<\/\1>/gi, '<$1>***</$1>');
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
