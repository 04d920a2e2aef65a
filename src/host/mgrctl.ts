// Running BILLmanager's command-line client (SPEC 4): `<mgrctl> -m billmgr -o xml <func> key=value …`.
// No shell: every key=value is one argv element, so no value can be re-split or interpreted.
// A secret never goes in argv (any local user can read the process list): it travels through
// mgrctl's `-e 'name=$ENVVAR'` form with the value in the child's environment only.
import { execFile, type ExecFileException } from 'node:child_process';
import { HostError } from '../errors.js';
import { addSecret, addSecretsOfReply, log, mask } from '../log.js';
import { paths } from '../config.js';
import { childText, descendant, parseXml, XmlError, type XmlElement } from '../xml.js';

/** The environment variable that carries a secret value to mgrctl. */
export const SECRET_ENV = 'PMISPLICENSE_SECRET';

export type MgrctlParams = Record<string, string | number>;

export interface MgrctlSecret {
  /** The parameter name mgrctl receives (`value` for service.saveparam). */
  name: string;
  value: string;
}

export interface MgrctlOptions {
  /** The executable; default `paths(env).mgrctl` (PMISPLICENSE_MGRCTL or $MGR_ROOT/sbin/mgrctl). */
  mgrctl?: string;
  /** Default 60 000 ms; the child is killed when it runs longer. */
  timeoutMs?: number;
  /** Cap of stdout (and of stderr) in bytes; default 8 MiB. */
  maxOutputBytes?: number;
  /** Base environment of the child; default process.env. */
  env?: NodeJS.ProcessEnv;
  secret?: MgrctlSecret;
}

export const DEFAULT_MGRCTL_TIMEOUT_MS = 60_000;
export const DEFAULT_MGRCTL_MAX_OUTPUT = 8 * 1024 * 1024;

/** The host answered with `<doc><error …>`; its type/object are kept for callers that branch on them. */
export class HostReplyError extends HostError {
  constructor(
    readonly func: string,
    readonly hostType: string,
    readonly hostObject: string,
    readonly hostMsg: string,
  ) {
    // A missing object or an invalid value does not go away by retrying.
    super(`BILLmanager refused ${func}: ${hostMsg || `error of type '${hostType}'${hostObject ? ` (${hostObject})` : ''}`}`, !['missed', 'value'].includes(hostType));
  }
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

function describeParams(params: MgrctlParams, secret?: MgrctlSecret): string {
  const parts = Object.entries(params).map(([k, v]) => {
    const s = String(v);
    return `${k}=${s.length > 500 ? `${s.slice(0, 500)}…(${s.length} chars)` : s}`;
  });
  if (secret) parts.push(`${secret.name}=(secret, via environment)`);
  return parts.join(' ');
}

/** Some of mgrctl's own diagnostics (stderr, never the reply), masked and on one line. */
function snippet(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return mask(t.length > 300 ? `${t.slice(0, 300)}…` : t);
}

interface Outcome {
  error: ExecFileException | null;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, maxBuffer: number): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      // SIGKILL: a hung client must not outlive the bound; mgrctl holds no state of its own.
      { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer, encoding: 'utf8', windowsHide: true },
      (error, stdout, stderr) => resolve({ error, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

/**
 * Calls one host function and returns the reply's root element (`<doc>`).
 * Throws HostReplyError on `<doc><error>`, HostError on every other failure.
 */
export async function runMgrctl(func: string, params: MgrctlParams = {}, opts: MgrctlOptions = {}): Promise<XmlElement> {
  const baseEnv = opts.env ?? process.env;
  const mgrctl = opts.mgrctl ?? paths(baseEnv).mgrctl;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_MGRCTL_TIMEOUT_MS;
  const maxOutput = opts.maxOutputBytes ?? DEFAULT_MGRCTL_MAX_OUTPUT;
  const secret = opts.secret;
  if (secret) addSecret(secret.value);

  // Names are ours, never user data; a bad one is a bug, refused before anything runs.
  if (!NAME_RE.test(func)) throw new HostError(`invalid mgrctl function name '${func}'`, false);
  for (const k of Object.keys(params)) {
    if (!NAME_RE.test(k)) throw new HostError(`invalid mgrctl parameter name '${k}' for ${func}`, false);
  }
  if (secret && (!NAME_RE.test(secret.name) || secret.name in params)) {
    throw new HostError(`invalid secret parameter '${secret.name}' for ${func}`, false);
  }

  const args = ['-m', 'billmgr', '-o', 'xml', func, ...Object.entries(params).map(([k, v]) => `${k}=${String(v)}`)];
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  // Never hand an inherited secret to a call that did not ask for one.
  delete env[SECRET_ENV];
  if (secret) {
    args.push('-e', `${secret.name}=$${SECRET_ENV}`);
    env[SECRET_ENV] = secret.value;
  }

  log.info(`mgrctl ${func} ${describeParams(params, secret)}`);
  const started = Date.now();
  const { error, stdout, stderr } = await exec(mgrctl, args, env, timeoutMs, maxOutput);
  const took = Date.now() - started;

  if (error) {
    const code = error.code;
    let reason: string | null = null;
    if (code === 'ENOENT') reason = `mgrctl not found at ${mgrctl} (set PMISPLICENSE_MGRCTL or MGR_ROOT)`;
    else if (code === 'EACCES') reason = `mgrctl at ${mgrctl} is not executable`;
    else if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') reason = `mgrctl ${func} printed more than ${maxOutput} bytes`;
    else if (error.killed && error.signal) reason = `mgrctl ${func} did not answer within ${Math.round(timeoutMs / 100) / 10} s and was stopped`;
    else if (typeof code === 'string') reason = `cannot run mgrctl at ${mgrctl}: ${code}`;
    else if (error.signal) reason = `mgrctl ${func} was killed by ${error.signal}`;
    if (reason) {
      log.warn(`${reason} (${took} ms)`);
      throw new HostError(reason);
    }
    // Non-zero exit: the reply may still be an error document, which says more than the code.
  }

  // Before anything reads the reply: a password in it is a secret even if it does not parse (and
  // in whatever mgrctl says on stderr, which an error below may quote, masked).
  addSecretsOfReply(stdout);
  addSecretsOfReply(stderr);
  let doc: XmlElement | null = null;
  let parseProblem = '';
  try {
    doc = parseXml(stdout);
  } catch (e) {
    parseProblem = e instanceof XmlError ? e.message : 'the XML reader failed';
  }

  // An <error> anywhere in the reply, at any depth, is the host refusing (SPEC 6).
  const err = doc ? (doc.name === 'error' ? doc : descendant(doc, 'error')) : undefined;
  if (err) {
    const hostMsg = childText(err, 'msg').trim();
    const e = new HostReplyError(func, err.attrs.type ?? '', err.attrs.object ?? '', mask(hostMsg));
    log.warn(`mgrctl ${func}: ${e.message} (${took} ms)`);
    throw e;
  }
  if (error) {
    const why = `mgrctl ${func} failed with exit code ${String(error.code)}${stderr.trim() ? `: ${snippet(stderr)}` : ''}`;
    log.warn(`${why} (${took} ms)`);
    throw new HostError(why);
  }
  if (!doc || doc.name !== 'doc') {
    // Function, position and reason only: the reply itself may hold the database password.
    const why = `mgrctl ${func} returned an unreadable reply (${doc ? 'its root element is not <doc>' : stdout.trim() ? parseProblem : 'no output'})`;
    log.warn(`${why} (${took} ms)`);
    throw new HostError(why);
  }
  log.debug(`mgrctl ${func}: ok (${took} ms)`);
  return doc;
}
