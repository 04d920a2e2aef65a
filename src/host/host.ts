// The BILLmanager host as the domain uses it (SPEC 4): typed reads of the service and the module
// settings, and the writes that report back. Host only performs calls; when to call which is
// the domain's decision.
import { HostError } from '../errors.js';
import { addSecret, log, mask } from '../log.js';
import { normalizeDay } from '../dates.js';
import { paths } from '../config.js';
import { childText, type XmlElement } from '../xml.js';
import { HostReplyError, runMgrctl, type MgrctlOptions, type MgrctlParams } from './mgrctl.js';
import type { ModuleSettings, PostOperation, Service } from './types.js';

export interface HostOptions {
  /** Per call; default 60 000 ms. */
  timeoutMs?: number;
  /** Per call; default 8 MiB. */
  maxOutputBytes?: number;
  /** Base environment of mgrctl; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** soft.edit found no such service: the host no longer knows it (not cured by retrying). */
export class ServiceNotFoundError extends HostError {
  constructor(
    readonly item: number,
    hostMsg = '',
  ) {
    super(`Service ${item} was not found in BILLmanager${hostMsg ? ` (${hostMsg})` : ''}.`, false);
  }
}

export class ModuleNotFoundError extends HostError {
  constructor(
    readonly moduleId: number,
    hostMsg = '',
  ) {
    super(`Processing module ${moduleId} was not found in BILLmanager${hostMsg ? ` (${hostMsg})` : ''}.`, false);
  }
}

function has(doc: XmlElement, name: string): boolean {
  return doc.children.some((c) => c.name === name);
}

function intOrNull(s: string): number | null {
  const t = s.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

const ADDON_RE = /^addon_\d+$/;

export class Host {
  constructor(
    readonly mgrctlPath: string,
    private readonly opts: HostOptions = {},
  ) {}

  private call(func: string, params: MgrctlParams, secret?: MgrctlOptions['secret']): Promise<XmlElement> {
    return runMgrctl(func, params, {
      mgrctl: this.mgrctlPath,
      timeoutMs: this.opts.timeoutMs,
      maxOutputBytes: this.opts.maxOutputBytes,
      env: this.opts.env,
      secret,
    });
  }

  async readService(item: number): Promise<Service> {
    let doc: XmlElement;
    try {
      doc = await this.call('soft.edit', { elid: item });
    } catch (e) {
      if (e instanceof HostReplyError && e.hostType === 'missed') throw new ServiceNotFoundError(item, e.hostMsg);
      throw e;
    }
    const id = intOrNull(childText(doc, 'id'));
    if (id === null) throw new ServiceNotFoundError(item, 'soft.edit returned no service id');
    if (id !== item) throw new HostError(`BILLmanager returned service ${id} when asked for service ${item}`);

    const lickey = childText(doc, 'lickey');
    addSecret(lickey);
    const addons: Record<string, string> = {};
    for (const c of doc.children) if (ADDON_RE.test(c.name)) addons[c.name] = c.text;

    const licenseIdText = childText(doc, 'license_id');
    const licenseId = intOrNull(licenseIdText);
    if (licenseId === null && licenseIdText.trim() !== '') {
      log.warn(`service ${item}: param license_id '${mask(licenseIdText)}' is not a number; treated as no license`);
    }
    const statusText = childText(doc, 'status');
    return {
      id,
      ip: childText(doc, 'ip').trim(),
      panel: childText(doc, 'panel').trim(),
      period: childText(doc, 'period').trim(),
      expiredate: normalizeDay(childText(doc, 'expiredate')),
      pricelist: childText(doc, 'pricelist').trim(),
      itemtype: childText(doc, 'itemtype').trim(),
      processingmodule: intOrNull(childText(doc, 'processingmodule')),
      status: intOrNull(statusText) ?? 0,
      licenseId,
      lickey: lickey.trim(),
      licenseExpiredate: normalizeDay(childText(doc, 'license_expiredate')),
      addons,
    };
  }

  async readModule(id: number): Promise<ModuleSettings> {
    let doc: XmlElement;
    try {
      doc = await this.call('processing.edit', { elid: id });
    } catch (e) {
      if (e instanceof HostReplyError && e.hostType === 'missed') throw new ModuleNotFoundError(id, e.hostMsg);
      throw e;
    }
    if (!has(doc, 'url') && !has(doc, 'username')) throw new ModuleNotFoundError(id, 'processing.edit returned no connection settings');
    const password = childText(doc, 'password');
    addSecret(password);
    return { id, url: childText(doc, 'url').trim(), username: childText(doc, 'username').trim(), password };
  }

  async saveParam(item: number, name: string, value: string): Promise<void> {
    await this.call('service.saveparam', { sok: 'ok', elid: item, name, value });
  }

  /** Like saveParam, but the value reaches mgrctl only through its environment (SPEC 4). */
  async saveSecretParam(item: number, name: string, value: string): Promise<void> {
    addSecret(value);
    await this.call('service.saveparam', { sok: 'ok', elid: item, name }, { name: 'value', value });
  }

  async post(op: PostOperation, item: number): Promise<void> {
    await this.call(`service.post${op}`, { sok: 'ok', elid: item });
  }

  /** Stores the error document on the running operation. Registered secrets are masked on the way (SPEC 6). */
  async recordFailure(runningOperation: number, errorXml: string): Promise<void> {
    await this.call('runningoperation.edit', { sok: 'ok', elid: runningOperation, errorxml: mask(errorXml) });
  }

  /**
   * Stops BILLmanager's automatic retries and opens a task for the staff. Returns the task type,
   * or null when the host has no task type for the command (then no task is created, as in
   * ISPsystem's own modules). Without a service (a command line without a usable --item) there is
   * nothing to attach a task to: the operation only goes manual.
   */
  async goManual(runningOperation: number, item: number | null, command: string): Promise<number | null> {
    await this.call('runningoperation.setmanual', { sok: 'ok', elid: runningOperation });
    if (item === null) {
      log.warn(`running operation ${runningOperation} is manual; no service id on the command line, so no task created`);
      return null;
    }
    const reply = await this.call('task.gettype', { operation: command });
    const type = intOrNull(childText(reply, 'task_type'));
    if (type === null) {
      log.warn(`BILLmanager has no task type for operation '${command}'; running operation ${runningOperation} is manual, no task created`);
      return null;
    }
    await this.call('task.edit', { sok: 'ok', item, runningoperation: runningOperation, type });
    return type;
  }
}

/** The host of this process: mgrctl from PMISPLICENSE_MGRCTL / MGR_ROOT. */
export function hostFromEnv(env: NodeJS.ProcessEnv = process.env, opts: Omit<HostOptions, 'env'> = {}): Host {
  return new Host(paths(env).mgrctl, { ...opts, env });
}
