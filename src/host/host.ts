// The BILLmanager host as the domain uses it (SPEC 4): typed reads of the service and the module
// settings, and the writes that report back. Host only performs calls; when to call which is
// the domain's decision.
import { HostError } from '../errors.js';
import { addSecret, log, mask } from '../log.js';
import { normalizeDay } from '../dates.js';
import { paths } from '../config.js';
import { childrenNamed, childText, type XmlElement } from '../xml.js';
import { HostReplyError, runMgrctl, type MgrctlOptions, type MgrctlParams } from './mgrctl.js';
import type { DatabaseSettings, FormField, ModuleSettings, PostOperation, ProcessingModuleRow, Service, ServiceListRow } from './types.js';

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

/** This module's kind, as BILLmanager names it in a processing module's `module` field. */
export const MODULE_KIND = 'pmisplicense';

/**
 * The one rule (shared with the panel pages, src/panel/context.ts) telling whether a processing
 * module is of this module's kind: BILLmanager names the kind in `module`; a reply without it is
 * taken as ours. Another kind's credentials are never sent anywhere (SPEC 3).
 */
export function isOwnModuleKind(kind: string | undefined): boolean {
  const k = (kind ?? '').trim();
  return k === '' || k === MODULE_KIND;
}

function has(doc: XmlElement, name: string): boolean {
  return doc.children.some((c) => c.name === name);
}

function intOrNull(s: string): number | null {
  const t = s.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

/** The fields of an edit form: the document's children that carry a value (not <tparams>, <slist>, <msg> …). */
function formFields(doc: XmlElement): FormField[] {
  return doc.children.filter((c) => c.children.length === 0 && !['tparams', 'slist', 'metadata'].includes(c.name)).map((c) => ({ name: c.name, value: c.text }));
}

/**
 * The module's own record of the tasks it made (SPEC 5.9: at most one per running operation).
 * LicenseStore has these.
 */
export interface TaskRecord {
  claimTask(runningOperation: number, item: number, command: string): boolean;
  releaseTaskClaim(runningOperation: number): void;
}

/** The product type the module serves (features: itemtype soft), and the one whose form it reads. */
export const SERVICE_ITEMTYPE = 'soft';

/** The paramlist names the module reads (SPEC 4); their case as BILLmanager's config spells them. */
const DB_PARAMS = ['DBHost', 'DBUser', 'DBPassword', 'DBName', 'DBSocket'] as const;

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
    return (await this.readServiceWithForm(item)).service;
  }

  /** soft.edit once: the typed service, and every field of the form as given (for `diagnose`). */
  async readServiceWithForm(item: number): Promise<{ service: Service; form: FormField[] }> {
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
    addSecret(lickey.trim());

    const licenseIdText = childText(doc, 'license_id');
    const licenseId = intOrNull(licenseIdText);
    if (licenseId === null && licenseIdText.trim() !== '') {
      log.warn(`service ${item}: param license_id '${mask(licenseIdText)}' is not a number; treated as no license`);
    }
    const statusText = childText(doc, 'status');
    const service: Service = {
      id,
      ip: childText(doc, 'ip').trim(),
      panel: childText(doc, 'panel').trim(),
      period: childText(doc, 'period').trim(),
      expiredate: normalizeDay(childText(doc, 'expiredate')),
      pricelist: childText(doc, 'pricelist').trim(),
      // Never read from the form (SPEC 4 v3: no public soft.edit shows it; ISPsystem's modules read it
      // by SQL, item → pricelist → itemtype.intname, Module::ItemQuery in processing/certificate/
      // sslstore/module.cpp of ISPsystemLLC/billmanager). The module serves only `soft`, and this is
      // soft.edit's answer; where the database is read (open, setparam) it gives the internal name.
      itemtype: SERVICE_ITEMTYPE,
      processingmodule: intOrNull(childText(doc, 'processingmodule')),
      status: intOrNull(statusText) ?? 0,
      licenseId,
      lickey: lickey.trim(),
      licenseExpiredate: normalizeDay(childText(doc, 'license_expiredate')),
      // The form's addon_<N> fields are host option ids with host item ids as values: never sent
      // upstream (SPEC 4). The upstream add-ons come from the tariff options (./panel.ts).
      addons: {},
    };
    return { service, form: formFields(doc) };
  }

  /**
   * BILLmanager's database settings from `paramlist` (SPEC 4): `<elem>` rows of name/value, or a
   * flat document of named children. The password is a secret from the raw reply on (runMgrctl
   * registers it before parsing) and is kept as sent, spaces included; the other fields are trimmed.
   */
  async readDatabaseSettings(): Promise<DatabaseSettings> {
    const doc = await this.call('paramlist', {});
    const found = new Map<string, string>();
    for (const row of childrenNamed(doc, 'elem')) {
      const name = childText(row, 'name').trim();
      if (name) found.set(name.toLowerCase(), childText(row, 'value'));
    }
    for (const c of doc.children) {
      if (c.children.length === 0 && !found.has(c.name.toLowerCase())) found.set(c.name.toLowerCase(), c.text);
    }
    const get = (n: (typeof DB_PARAMS)[number]) => found.get(n.toLowerCase()) ?? '';
    const password = get('DBPassword');
    addSecret(password);
    return { host: get('DBHost').trim(), user: get('DBUser').trim(), password, name: get('DBName').trim(), socket: get('DBSocket').trim() };
  }

  /** The `soft` list in one call (SPEC 3 `reconcile`): id, status, processing module and IP of every service. */
  async listServices(): Promise<ServiceListRow[]> {
    const doc = await this.call('soft', {});
    const rows: ServiceListRow[] = [];
    for (const e of childrenNamed(doc, 'elem')) {
      const id = intOrNull(childText(e, 'id'));
      if (id === null) continue; // a row without an id names no service
      rows.push({ id, status: intOrNull(childText(e, 'status')) ?? 0, processingmodule: intOrNull(childText(e, 'processingmodule')), ip: childText(e, 'ip').trim() });
    }
    return rows;
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
    return { id, url: childText(doc, 'url').trim(), username: childText(doc, 'username').trim(), password, kind: childText(doc, 'module').trim() };
  }

  /** The host's processing modules (`processing` list): id, name and kind of each, in one call. */
  async listProcessingModules(): Promise<ProcessingModuleRow[]> {
    const doc = await this.call('processing', {});
    const rows: ProcessingModuleRow[] = [];
    for (const e of childrenNamed(doc, 'elem')) {
      const id = intOrNull(childText(e, 'id'));
      if (id === null) continue;
      rows.push({ id, name: childText(e, 'name').trim(), kind: childText(e, 'module').trim() });
    }
    return rows;
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

  /** Returns the service to the tariff it had before a change that failed (SPEC 5.6 v3). */
  async rollbackTariffChange(item: number): Promise<void> {
    await this.call('service.changepricelist.rollback', { sok: 'ok', elid: item });
  }

  /** Stores the error document on the running operation. Registered secrets are masked on the way (SPEC 6). */
  async recordFailure(runningOperation: number, errorXml: string): Promise<void> {
    await this.call('runningoperation.edit', { sok: 'ok', elid: runningOperation, errorxml: mask(errorXml) });
  }

  /**
   * Stops BILLmanager's automatic retries and opens a task for the staff. Returns the task type,
   * or null when the host has no task type for the command (then no task is created, as in
   * ISPsystem's own modules). Without a service (a command line without a usable --item) there is
   * nothing to attach a task to: the operation only goes manual. With `made` (the module's record),
   * a running operation that already has its task gets no second one (SPEC 5.9; ISPsystem's module
   * base checks the host's task table for the running operation before task.edit, Module::Run in
   * processing/certificate/sslstore/module.cpp of ISPsystemLLC/billmanager).
   */
  async goManual(runningOperation: number, item: number | null, command: string, made?: TaskRecord): Promise<number | null> {
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
    if (made && !made.claimTask(runningOperation, item, command)) {
      log.info(`running operation ${runningOperation} already has its task; no second one created`);
      return null;
    }
    try {
      await this.call('task.edit', { sok: 'ok', item, runningoperation: runningOperation, type });
    } catch (e) {
      made?.releaseTaskClaim(runningOperation);
      throw e;
    }
    return type;
  }
}

/** The host of this process: mgrctl from PMISPLICENSE_MGRCTL / MGR_ROOT. */
export function hostFromEnv(env: NodeJS.ProcessEnv = process.env, opts: Omit<HostOptions, 'env'> = {}): Host {
  return new Host(paths(env).mgrctl, { ...opts, env });
}
