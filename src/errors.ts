// One error hierarchy for the whole module. Every failure that reaches the command line is a
// ModuleError: it knows its BILLmanager error document (SPEC 6) and whether BILLmanager's retry
// can cure it (SPEC 4: retryable errors are left for the retry, the rest go to manual at once).
import { escapeXml } from './xml-out.js';

/** Every `type` the module emits; etc/xml has a msg_error_<type> text for each (en, ru). */
export const ERROR_TYPES = [
  'value', // bad input from the host: invalid IP, unknown period, malformed document
  'noip', // the service has no IP yet (retryable)
  'auth', // the licensing server refused the credentials
  'upstream', // the licensing server refused the request (no money, limits, …)
  'connection', // transport failure, timeout, HTTP 5xx, broken reply (retryable)
  'missed', // a license the module needs does not exist upstream
  'ipchange', // the monthly IP-change allowance is used up
  'host', // mgrctl failed or the host replied with an error
  'state', // local state file could not be used
  'busy', // another process is working on the same service (retryable)
  'command', // unknown command or bad command line
  'internal', // a bug: the stack trace is in the log
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export class ModuleError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly retryable: boolean,
    readonly object: string = type,
    readonly value = '',
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad data from the host or the administrator; retrying will not cure it. */
export class BadInputError extends ModuleError {
  constructor(object: string, value: string, message: string) {
    super('value', message, false, object, value);
  }
}

export class NoIpYetError extends ModuleError {
  constructor(item: number) {
    super('noip', `Service ${item} has no IP address yet; the license is ordered once the server has one (BILLmanager retries).`, true, 'ip', '');
  }
}

export class CommandError extends ModuleError {
  constructor(value: string, message: string) {
    super('command', message, false, 'command', value);
  }
}

export class CredentialsError extends ModuleError {
  constructor(upstreamMsg: string) {
    super('auth', `The licensing server refused the credentials of the processing module${upstreamMsg ? `: ${upstreamMsg}` : ''}. Check the user name and password in the module settings.`, false, 'auth');
  }
}

/** The licensing server said no (no money, a limit, an unknown tariff…); its message is shown. */
export class UpstreamRefusalError extends ModuleError {
  constructor(readonly upstreamType: string, readonly upstreamObject: string, upstreamMsg: string, func: string) {
    super('upstream', `The licensing server refused ${func}: ${upstreamMsg || upstreamType}`, false, upstreamObject || 'upstream', upstreamType);
  }
}

export class LicenseMissingError extends ModuleError {
  constructor(id: number | string, upstreamMsg = '') {
    super('missed', `License ${id} does not exist at the licensing server${upstreamMsg ? ` (${upstreamMsg})` : ''}.`, false, 'elid', String(id));
  }
}

export class TransportError extends ModuleError {
  constructor(message: string) {
    super('connection', message, true, 'connection');
  }
}

/** An order was sent, its reply was lost, and it is not visible upstream yet: ordering again now
 *  could pay twice, so the module waits (BILLmanager retries). */
export class OrderInDoubtError extends ModuleError {
  constructor(item: number, sentAt: string, waitSeconds: number) {
    super('connection', `The license order for service ${item} sent at ${sentAt} got no reply and is not visible at the licensing server yet. To avoid paying twice the module does not order again until ${waitSeconds} s after it was sent; BILLmanager retries.`, true, 'order', String(item));
  }
}

export class IpChangeTooSoonError extends ModuleError {
  constructor(licenseId: number, firstAllowed: string) {
    super('ipchange', `The IP address of license ${licenseId} was changed less than a month ago; the licensing server allows the next change on ${firstAllowed}.`, false, 'ip', firstAllowed);
  }
}

export class HostError extends ModuleError {
  constructor(message: string, retryable = true) {
    super('host', message, retryable, 'mgrctl');
  }
}

export class StateError extends ModuleError {
  constructor(message: string) {
    super('state', message, false, 'db');
  }
}

/** The module has not written its state yet (a reading command found no state file, or an empty
 *  one): nothing is managed, which is not a failure of the reader. */
export class NoStateError extends StateError {
  constructor(readonly file: string) {
    super(`No state yet: ${file} does not exist or is empty (the module has not stored anything).`);
  }
}

/** A setting of the environment (SPEC 2) is set but unusable: never silently replaced by the
 *  default. An admin command exits 2; a protocol command answers an error document of type
 *  `command` naming the variable. */
export class EnvironmentError extends ModuleError {
  constructor(readonly variable: string, value: string, expected: string) {
    // Quoted printable and short: the value goes into one line of stderr and an XML document.
    const shown = value.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 60);
    super('command', `${variable}="${shown}" is not usable: ${expected}. Fix or unset ${variable}.`, false, variable, shown);
  }
}

export class BusyError extends ModuleError {
  constructor(item: number, pid: number) {
    super('busy', `Another pmisplicense process (pid ${pid}) is working on service ${item}; BILLmanager retries later.`, true, 'item', String(item));
  }
}

/** Another process changed a license between this one's read and its write: nothing was written
 *  over it (compare-and-set, SPEC 5.8); running the operation again decides anew. */
export class ConcurrentChangeError extends ModuleError {
  constructor(licenseId: number) {
    super('busy', `License ${licenseId} was changed by another pmisplicense process while this one worked on it; nothing was written over that change, and the operation is run again (BILLmanager retries).`, true, 'elid', String(licenseId));
  }
}

export class InternalError extends ModuleError {
  constructor(cause: unknown) {
    super('internal', `Internal error of the module: ${cause instanceof Error ? cause.message : String(cause)}. Details are in the module log.`, true, 'internal');
  }
}

export function asModuleError(e: unknown): ModuleError {
  return e instanceof ModuleError ? e : new InternalError(e);
}

/** The BILLmanager error document (SPEC 6). */
export function errorDocument(e: ModuleError, lang = 'en'): string {
  return (
    `<doc><error type="${escapeXml(e.type)}" object="${escapeXml(e.object)}" lang="${escapeXml(lang)}">` +
    `<param name="object">${escapeXml(e.object)}</param><param name="value">${escapeXml(e.value)}</param>` +
    `<msg>${escapeXml(e.message)}</msg></error></doc>`
  );
}
