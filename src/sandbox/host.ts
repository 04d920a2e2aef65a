// The simulated BILLmanager host: a stand-in for `mgrctl -m billmgr -o xml` that the tests and the
// demo point PMISPLICENSE_MGRCTL at. Its state is a SQLite file (PMISPLICENSE_SANDBOX_HOST) shared
// by the test/demo process (through createSimulatedHost) and by every mgrctl process, of which many
// run at once (BILLmanager starts module processes in parallel): hence WAL, a busy timeout and
// IMMEDIATE transactions (a deferred read that later writes can fail with SQLITE_BUSY at once).
// Replies follow the shapes recorded in test/fixtures/mgrctl/.
import Database from 'better-sqlite3';
import { escapeXml } from '../xml-out.js';

export interface SimService {
  id: number;
  ip: string;
  panel: string;
  period: string;
  /** YYYY-MM-DD, or '' when the service has none. */
  expiredate: string;
  pricelist: string;
  itemtype: string;
  processingmodule: number | null;
  /** BILLmanager item status: 1 ordered, 2 active, 3 suspended, 4 deleted, 5 processing. */
  status: number;
  params: Record<string, string>;
}

/**
 * A tariff option as BILLmanager's soft.edit shows it: `addon_<option id>` with the host's
 * enumeration-item id (or amount) as value, and for an enumeration an `<slist>` of its items.
 * The simulated host only shows it; the values the module reads come from the database.
 */
export interface SimFormOption {
  /** The host's option id (pricelist.id). */
  id: number;
  value: string;
  /** Enumeration items: host item id → display name. */
  choices?: { id: number; name: string }[];
}

export type NewSimService = { id: number } & Partial<Omit<SimService, 'id'>>;
/** A param set to null is removed. */
export type SimServiceUpdate = Partial<Omit<SimService, 'id' | 'params'>> & { params?: Record<string, string | null> };

export interface SimModule {
  id: number;
  url: string;
  username: string;
  password: string;
  /** The module's kind (`module` in processing.edit and the `processing` list); default pmisplicense. */
  kind?: string;
}

export interface SimCall {
  id: number;
  /** The argv after the program name, exactly as received. */
  argv: string[];
  func: string;
  /** True when a `-e name=$VAR` parameter was filled from the environment. */
  secretFromEnv: boolean;
  /** ISO-8601. */
  at: string;
}

export interface SimRunningOperation {
  id: number;
  errorxml: string | null;
  manual: boolean;
}

export interface SimTask {
  id: number;
  item: number;
  runningoperation: number | null;
  type: number;
  at: string;
}

export type FaultKind = 'exit' | 'garbage' | 'hang' | 'error' | 'kill';

export interface FaultSpec {
  /** The func it hits, or '*' for any. */
  func: string;
  /**
   * exit: exit 1 with a message on stderr and nothing on stdout; garbage: exit 0 with non-XML on
   * stdout; hang: sleep `ms` then answer normally; error: a `<doc><error>` reply; kill: mgrctl
   * dies by SIGKILL with nothing on stdout (the OOM killer, an administrator's kill).
   */
  kind: FaultKind;
  ms?: number;
  /** For 'error': the error type (default 'internal') and msg. */
  errorType?: string;
  message?: string;
  /** How many calls it hits; default 1. */
  times?: number;
  /** For exit/garbage/error/kill: perform the call first, then fail (the reply was lost). */
  afterApply?: boolean;
}

/** Task types the simulated host gives per operation (task.gettype); unknown operations get none. */
export const SIM_TASK_TYPES: Readonly<Record<string, number>> = {
  open: 11,
  close: 12,
  suspend: 13,
  resume: 14,
  prolong: 15,
  setparam: 16,
  sync_item: 17,
};

/** service.post<op> → the service status it leaves (undefined: unchanged). */
const POST_STATUS: Readonly<Record<string, number | undefined>> = {
  open: 2,
  prolong: undefined,
  close: 4,
  suspend: 3,
  resume: 2,
  setparam: undefined,
};

const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS service (
  id INTEGER PRIMARY KEY,
  ip TEXT NOT NULL DEFAULT '',
  panel TEXT NOT NULL DEFAULT 'nopanel',
  period TEXT NOT NULL DEFAULT '1',
  expiredate TEXT NOT NULL DEFAULT '',
  pricelist TEXT NOT NULL DEFAULT '',
  itemtype TEXT NOT NULL DEFAULT 'soft',
  processingmodule INTEGER,
  status INTEGER NOT NULL DEFAULT 2
);
CREATE TABLE IF NOT EXISTS service_param (
  service INTEGER NOT NULL REFERENCES service(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (service, name)
);
CREATE TABLE IF NOT EXISTS service_form_option (
  service INTEGER NOT NULL REFERENCES service(id) ON DELETE CASCADE,
  option_id INTEGER NOT NULL,
  value TEXT NOT NULL,
  choices TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (service, option_id)
);
CREATE TABLE IF NOT EXISTS setting (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS module (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL,
  username TEXT NOT NULL,
  password TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS module_kind (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runningoperation (
  id INTEGER PRIMARY KEY,
  errorxml TEXT,
  manual INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS task (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  item INTEGER NOT NULL,
  runningoperation INTEGER,
  type INTEGER NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS call (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  argv TEXT NOT NULL,
  func TEXT NOT NULL,
  secret_env INTEGER NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fault (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  func TEXT NOT NULL,
  kind TEXT NOT NULL,
  ms INTEGER NOT NULL DEFAULT 0,
  error_type TEXT NOT NULL DEFAULT 'internal',
  message TEXT NOT NULL DEFAULT '',
  remaining INTEGER NOT NULL,
  after_apply INTEGER NOT NULL DEFAULT 0
);
`;

type Db = Database.Database;

function open(dbPath: string, create: boolean): Db {
  const db = new Database(dbPath, { fileMustExist: !create });
  db.pragma('busy_timeout = 15000');
  db.pragma('foreign_keys = ON');
  if (create) {
    // WAL is a property of the file: set once here, every mgrctl process gets it.
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  } else if (db.pragma('user_version', { simple: true }) !== SCHEMA_VERSION) {
    db.close();
    throw new Error(`${dbPath} is not a simulated host state (create it with createSimulatedHost)`);
  }
  return db;
}

interface ServiceRow {
  id: number;
  ip: string;
  panel: string;
  period: string;
  expiredate: string;
  pricelist: string;
  itemtype: string;
  processingmodule: number | null;
  status: number;
}

function readModule(db: Db, id: number): SimModule | undefined {
  const m = db.prepare('SELECT m.id, m.url, m.username, m.password, k.kind FROM module m LEFT JOIN module_kind k ON k.id = m.id WHERE m.id = ?').get(id) as (SimModule & { kind: string | null }) | undefined;
  return m && { ...m, kind: m.kind ?? 'pmisplicense' };
}

function formOptions(db: Db, id: number): SimFormOption[] {
  const rows = db.prepare('SELECT option_id, value, choices FROM service_form_option WHERE service = ? ORDER BY option_id').all(id) as { option_id: number; value: string; choices: string }[];
  return rows.map((r) => ({ id: r.option_id, value: r.value, choices: JSON.parse(r.choices) as { id: number; name: string }[] }));
}

function settings(db: Db): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of db.prepare('SELECT name, value FROM setting ORDER BY name').all() as { name: string; value: string }[]) out[r.name] = r.value;
  return out;
}

function readService(db: Db, id: number): SimService | undefined {
  const row = db.prepare('SELECT * FROM service WHERE id = ?').get(id) as ServiceRow | undefined;
  if (!row) return undefined;
  const params: Record<string, string> = {};
  for (const p of db.prepare('SELECT name, value FROM service_param WHERE service = ? ORDER BY name').all(id) as { name: string; value: string }[]) {
    params[p.name] = p.value;
  }
  return { ...row, params };
}

function setParams(db: Db, id: number, params: Record<string, string | null>): void {
  const put = db.prepare('INSERT INTO service_param (service, name, value) VALUES (?, ?, ?) ON CONFLICT (service, name) DO UPDATE SET value = excluded.value');
  const del = db.prepare('DELETE FROM service_param WHERE service = ? AND name = ?');
  for (const [name, value] of Object.entries(params)) {
    if (value === null) del.run(id, name);
    else put.run(id, name, value);
  }
}

export interface SimulatedHost {
  readonly dbPath: string;
  addModule(m: SimModule): void;
  module(id: number): SimModule | undefined;
  /** Deletes a processing module (the host no longer knows it). */
  removeModule(id: number): void;
  addService(s: NewSimService): SimService;
  service(id: number): SimService | undefined;
  updateService(id: number, change: SimServiceUpdate): SimService;
  /** What soft.edit shows of the service's tariff options (replaces the previous ones). */
  setFormOptions(id: number, options: SimFormOption[]): void;
  /**
   * BILLmanager's settings as `paramlist` gives them (DBHost, DBUser, DBPassword, DBName,
   * DBSocket …); a value null removes the setting. The demo's host names no database.
   */
  setParamList(values: Record<string, string | null>): void;
  /** Every mgrctl call so far, oldest first; only those of `func` when given. */
  calls(func?: string): SimCall[];
  runningOperation(id: number): SimRunningOperation | undefined;
  tasks(): SimTask[];
  injectFault(f: FaultSpec): void;
  clearFaults(): void;
  close(): void;
}

/** Opens (creating when needed) the state file and returns the API the tests and the demo use. */
export function createSimulatedHost(dbPath: string): SimulatedHost {
  const db = open(dbPath, true);
  return {
    dbPath,
    addModule(m) {
      db.transaction(() => {
        db.prepare('INSERT OR REPLACE INTO module (id, url, username, password) VALUES (?, ?, ?, ?)').run(m.id, m.url, m.username, m.password);
        db.prepare('INSERT OR REPLACE INTO module_kind (id, kind) VALUES (?, ?)').run(m.id, m.kind ?? 'pmisplicense');
      }).immediate();
    },
    module(id) {
      return readModule(db, id);
    },
    removeModule(id) {
      db.transaction(() => {
        db.prepare('DELETE FROM module WHERE id = ?').run(id);
        db.prepare('DELETE FROM module_kind WHERE id = ?').run(id);
      }).immediate();
    },
    addService(s) {
      db.transaction(() => {
        db.prepare(
          'INSERT INTO service (id, ip, panel, period, expiredate, pricelist, itemtype, processingmodule, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(s.id, s.ip ?? '', s.panel ?? 'nopanel', s.period ?? '1', s.expiredate ?? '', s.pricelist ?? '', s.itemtype ?? 'soft', s.processingmodule ?? null, s.status ?? 2);
        setParams(db, s.id, s.params ?? {});
      }).immediate();
      return readService(db, s.id)!;
    },
    service(id) {
      return readService(db, id);
    },
    updateService(id, change) {
      db.transaction(() => {
        if (!readService(db, id)) throw new Error(`simulated host: no service ${id}`);
        const cols = ['ip', 'panel', 'period', 'expiredate', 'pricelist', 'itemtype', 'processingmodule', 'status'] as const;
        for (const c of cols) {
          const v = change[c];
          if (v !== undefined) db.prepare(`UPDATE service SET ${c} = ? WHERE id = ?`).run(v, id);
        }
        if (change.params) setParams(db, id, change.params);
      }).immediate();
      return readService(db, id)!;
    },
    setFormOptions(id, options) {
      db.transaction(() => {
        db.prepare('DELETE FROM service_form_option WHERE service = ?').run(id);
        const put = db.prepare('INSERT INTO service_form_option (service, option_id, value, choices) VALUES (?, ?, ?, ?)');
        for (const o of options) put.run(id, o.id, o.value, JSON.stringify(o.choices ?? []));
      }).immediate();
    },
    setParamList(values) {
      db.transaction(() => {
        for (const [name, value] of Object.entries(values)) {
          if (value === null) db.prepare('DELETE FROM setting WHERE name = ?').run(name);
          else db.prepare('INSERT INTO setting (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
        }
      }).immediate();
    },
    calls(func) {
      const rows = (
        func === undefined
          ? db.prepare('SELECT * FROM call ORDER BY id').all()
          : db.prepare('SELECT * FROM call WHERE func = ? ORDER BY id').all(func)
      ) as { id: number; argv: string; func: string; secret_env: number; at: string }[];
      return rows.map((r) => ({ id: r.id, argv: JSON.parse(r.argv) as string[], func: r.func, secretFromEnv: r.secret_env === 1, at: r.at }));
    },
    runningOperation(id) {
      const r = db.prepare('SELECT id, errorxml, manual FROM runningoperation WHERE id = ?').get(id) as
        | { id: number; errorxml: string | null; manual: number }
        | undefined;
      return r && { id: r.id, errorxml: r.errorxml, manual: r.manual === 1 };
    },
    tasks() {
      return db.prepare('SELECT id, item, runningoperation, type, at FROM task ORDER BY id').all() as SimTask[];
    },
    injectFault(f) {
      db.prepare('INSERT INTO fault (func, kind, ms, error_type, message, remaining, after_apply) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        f.func,
        f.kind,
        f.ms ?? 0,
        f.errorType ?? 'internal',
        f.message ?? '',
        f.times ?? 1,
        f.afterApply ? 1 : 0,
      );
    },
    clearFaults() {
      db.prepare('DELETE FROM fault').run();
    },
    close() {
      db.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The mgrctl side.

export interface MgrctlResult {
  stdout: string;
  stderr: string;
  code: number;
  /** The simulated mgrctl dies by this signal instead of exiting (fault kind 'kill'). */
  signal?: NodeJS.Signals;
}

interface Request {
  func: string;
  params: Record<string, string>;
  secretFromEnv: boolean;
}

class UsageError extends Error {}

/** A reply that is a BILLmanager error document (exit 1). */
class ReplyError extends Error {
  constructor(
    readonly type: string,
    readonly object: string,
    readonly value: string,
    message: string,
  ) {
    super(message);
  }
}

/** mgrctl's own command line: `-m billmgr -o xml <func> key=value … [-e 'key=$ENVVAR' …]`. */
function parseArgv(argv: string[], env: NodeJS.ProcessEnv): Request {
  let manager = '';
  let out = '';
  let func = '';
  let secretFromEnv = false;
  const params: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-m' || a === '-o' || a === '-e') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`option ${a} needs a value`);
      if (a === '-m') manager = v;
      else if (a === '-o') out = v;
      else {
        // The real mgrctl takes `name=$ENVVAR` and fills the parameter from its environment.
        const m = /^([^=]+)=\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(v);
        if (!m) throw new UsageError(`-e takes name=$ENVVAR, got '${v}'`);
        const value = env[m[2]!];
        if (value === undefined) throw new UsageError(`-e ${m[1]}: environment variable ${m[2]} is not set`);
        params[m[1]!] = value;
        secretFromEnv = true;
      }
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option ${a}`);
    } else if (!func) {
      func = a;
    } else {
      const eq = a.indexOf('=');
      if (eq <= 0) throw new UsageError(`parameter '${a}' is not key=value`);
      params[a.slice(0, eq)] = a.slice(eq + 1);
    }
  }
  if (manager !== 'billmgr') throw new UsageError(`-m billmgr is required (got '${manager}')`);
  if (out !== 'xml') throw new UsageError(`the simulated host only answers -o xml (got '${out}')`);
  if (!func) throw new UsageError('no function given');
  return { func, params, secretFromEnv };
}

function el(name: string, text: string): string {
  return `<${name}>${escapeXml(text)}</${name}>`;
}

function tparams(func: string, params: Record<string, string>): string {
  const all: Record<string, string> = { ...params, func, out: 'xml' };
  return `<tparams>${Object.keys(all)
    .sort()
    .map((k) => el(k, all[k]!))
    .join('')}</tparams>`;
}

const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

function docOpen(func: string, extra = ''): string {
  return `${DECL}<doc lang="en" func="${escapeXml(func)}" binary="/billmgr"${extra}>`;
}

/** The reply shapes of test/fixtures/mgrctl/*.xml. */
export const render = {
  service(s: SimService, params: Record<string, string>, options: SimFormOption[] = []): string {
    const fields: [string, string][] = [
      ['id', String(s.id)],
      ['ip', s.ip],
      // The product-type parameter `panel`: absent from the form when the product type has none.
      ...(s.panel === '' ? [] : [['panel', s.panel] as [string, string]]),
      ['period', s.period],
      ['expiredate', s.expiredate],
      ['pricelist', s.pricelist],
      // No `itemtype`: a real soft.edit does not show it (SPEC 4 v3); the service's product type
      // decides only which form answers (`<itemtype>.edit`).
      ['processingmodule', s.processingmodule === null ? '' : String(s.processingmodule)],
      ['status', String(s.status)],
      ...Object.entries(s.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ];
    // Tariff options as BILLmanager's form shows them: host ids only (never the internal names).
    const addons = options.map((o) => el(`addon_${o.id}`, o.value)).join('');
    const slists = options
      .filter((o) => (o.choices ?? []).length > 0)
      .map((o) => `<slist name="addon_${o.id}">${o.choices!.map((c) => `<val key="${c.id}">${escapeXml(c.name)}</val>`).join('')}</slist>`)
      .join('');
    return `${docOpen(`${s.itemtype}.edit`, ` stylesheet="edit" elname="Software" elid="${s.id}"`)}${fields.map(([k, v]) => el(k, v)).join('')}${addons}${slists}${tparams(`${s.itemtype}.edit`, params)}</doc>\n`;
  },
  /** BILLmanager's settings as `<elem>` rows of name and value. */
  paramList(values: Record<string, string>, params: Record<string, string>): string {
    const rows = Object.entries(values).map(([k, v]) => `<elem>${el('name', k)}${el('value', v)}</elem>`).join('');
    return `${docOpen('paramlist')}${rows}${tparams('paramlist', params)}</doc>\n`;
  },
  /** The `soft` list: one <elem> per service of the product type. */
  serviceList(services: ServiceRow[], params: Record<string, string>): string {
    const rows = services
      .map((s) => `<elem>${el('id', String(s.id))}${el('ip', s.ip)}${el('status', String(s.status))}${el('processingmodule', s.processingmodule === null ? '' : String(s.processingmodule))}${el('pricelist', s.pricelist)}${el('expiredate', s.expiredate)}</elem>`)
      .join('');
    return `${docOpen('soft')}${rows}${tparams('soft', params)}</doc>\n`;
  },
  module(m: SimModule, params: Record<string, string>): string {
    return `${docOpen('processing.edit', ` stylesheet="edit" elname="Processing module" elid="${m.id}"`)}${el('id', String(m.id))}${el('module', m.kind ?? 'pmisplicense')}${el('url', m.url)}${el('username', m.username)}${el('password', m.password)}${tparams('processing.edit', params)}</doc>\n`;
  },
  /** The `processing` list: one <elem> per processing module (id, name, module = its kind; no credentials). */
  moduleList(modules: SimModule[], params: Record<string, string>): string {
    const rows = modules.map((m) => `<elem>${el('id', String(m.id))}${el('name', `Module ${m.id}`)}${el('module', m.kind ?? 'pmisplicense')}</elem>`).join('');
    return `${docOpen('processing')}${rows}${tparams('processing', params)}</doc>\n`;
  },
  ok(func: string, params: Record<string, string>): string {
    return `${docOpen(func)}<ok/>${tparams(func, params)}</doc>\n`;
  },
  taskType(type: number | null, params: Record<string, string>): string {
    return `${docOpen('task.gettype')}${el('task_type', type === null ? '' : String(type))}${tparams('task.gettype', params)}</doc>\n`;
  },
  error(func: string, e: { type: string; object: string; value: string; message: string }, params: Record<string, string>): string {
    return (
      `${docOpen(func)}<error type="${escapeXml(e.type)}" object="${escapeXml(e.object)}" lang="en">` +
      `<param name="object">${escapeXml(e.object)}</param><param name="value">${escapeXml(e.value)}</param>` +
      `${el('msg', e.message)}</error>${tparams(func, params)}</doc>\n`
    );
  },
};

function missed(object: string, value: string): ReplyError {
  return new ReplyError('missed', object, value, `The object '${object}' with value '${value}' was not found`);
}

function intParam(params: Record<string, string>, name: string): number {
  const v = params[name] ?? '';
  if (!/^\d+$/.test(v)) throw new ReplyError('value', name, v, `Invalid value of the field '${name}'`);
  return Number(v);
}

function requireSok(params: Record<string, string>): void {
  // Without sok=ok BILLmanager only shows the form; the module always means to save.
  if (params.sok !== 'ok') throw new ReplyError('value', 'sok', params.sok ?? '', "The function changes nothing without 'sok=ok'");
}

/** Performs one call against the state; returns the reply document. Runs inside a transaction. */
function perform(db: Db, req: Request): string {
  const { func, params } = req;
  const now = new Date().toISOString();
  const post = /^service\.post(\w+)$/.exec(func);
  if (post && post[1]! in POST_STATUS) {
    requireSok(params);
    const elid = intParam(params, 'elid');
    if (!readService(db, elid)) throw missed('elid', String(elid));
    const status = POST_STATUS[post[1]!];
    if (status !== undefined) db.prepare('UPDATE service SET status = ? WHERE id = ?').run(status, elid);
    return render.ok(func, params);
  }
  const edit = /^(\w+)\.edit$/.exec(func);
  if (edit && !['processing', 'runningoperation', 'task'].includes(edit[1]!)) {
    const elid = intParam(params, 'elid');
    const s = readService(db, elid);
    // A service of another product type is not reachable through this type's form.
    if (!s || s.itemtype !== edit[1]) throw missed('elid', String(elid));
    return render.service(s, params, formOptions(db, elid));
  }
  switch (func) {
    case 'paramlist':
      return render.paramList(settings(db), params);
    case 'soft': {
      // One query: the list shows no params (reading each service's would cost a query per row).
      return render.serviceList(db.prepare("SELECT * FROM service WHERE itemtype = 'soft' ORDER BY id").all() as ServiceRow[], params);
    }
    case 'processing': {
      const ids = db.prepare('SELECT id FROM module ORDER BY id').pluck().all() as number[];
      return render.moduleList(ids.map((id) => readModule(db, id)!), params);
    }
    case 'processing.edit': {
      const elid = intParam(params, 'elid');
      const m = readModule(db, elid);
      if (!m) throw missed('elid', String(elid));
      return render.module(m, params);
    }
    case 'service.saveparam': {
      requireSok(params);
      const elid = intParam(params, 'elid');
      if (!readService(db, elid)) throw missed('elid', String(elid));
      const name = params.name ?? '';
      if (!name) throw new ReplyError('value', 'name', '', "The field 'name' is required");
      setParams(db, elid, { [name]: params.value ?? '' });
      return render.ok(func, params);
    }
    case 'runningoperation.edit': {
      requireSok(params);
      const elid = intParam(params, 'elid');
      // BILLmanager creates the running operation before it starts the module: any id is known here.
      db.prepare('INSERT INTO runningoperation (id, errorxml) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET errorxml = excluded.errorxml').run(elid, params.errorxml ?? '');
      return render.ok(func, params);
    }
    case 'runningoperation.setmanual': {
      const elid = intParam(params, 'elid');
      db.prepare('INSERT INTO runningoperation (id, manual) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET manual = 1').run(elid);
      return render.ok(func, params);
    }
    case 'task.gettype': {
      const op = params.operation ?? '';
      return render.taskType(SIM_TASK_TYPES[op] ?? null, params);
    }
    case 'task.edit': {
      requireSok(params);
      const item = intParam(params, 'item');
      const type = intParam(params, 'type');
      if (!readService(db, item)) throw missed('item', String(item));
      const ro = params.runningoperation ? intParam(params, 'runningoperation') : null;
      db.prepare('INSERT INTO task (item, runningoperation, type, at) VALUES (?, ?, ?, ?)').run(item, ro, type, now);
      return render.ok(func, params);
    }
    case 'service.changepricelist.rollback': {
      // BILLmanager returns the service to the tariff it had before a change (SPEC 5.6 v3).
      requireSok(params);
      const elid = intParam(params, 'elid');
      if (!readService(db, elid)) throw missed('elid', String(elid));
      restorePreviousTariff(db, elid);
      return render.ok(func, params);
    }
    case 'itemtype':
    case 'pricelist':
      return renderCatalogList(db, func, params);
    default:
      throw new ReplyError('missed', 'func', func, `The function '${func}' was not found`);
  }
}

interface FaultRow {
  id: number;
  kind: FaultKind;
  ms: number;
  error_type: string;
  message: string;
  after_apply: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Everything the fake mgrctl executable does, given its argv (without the program) and env. */
export async function runSimulatedMgrctl(argv: string[], env: NodeJS.ProcessEnv): Promise<MgrctlResult> {
  const dbPath = env.PMISPLICENSE_SANDBOX_HOST;
  if (!dbPath) return { stdout: '', stderr: 'mgrctl (simulated host): PMISPLICENSE_SANDBOX_HOST is not set\n', code: 2 };
  let db: Db;
  try {
    db = open(dbPath, false);
  } catch (e) {
    return { stdout: '', stderr: `mgrctl (simulated host): cannot open ${dbPath}: ${(e as Error).message}\n`, code: 2 };
  }
  try {
    let req: Request;
    try {
      req = parseArgv(argv, env);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      db.prepare('INSERT INTO call (argv, func, secret_env, at) VALUES (?, ?, 0, ?)').run(JSON.stringify(argv), '', new Date().toISOString());
      return { stdout: '', stderr: `mgrctl: ${e.message}\n`, code: 1 };
    }

    const fault = db
      .transaction((): FaultRow | undefined => {
        db.prepare('INSERT INTO call (argv, func, secret_env, at) VALUES (?, ?, ?, ?)').run(JSON.stringify(argv), req.func, req.secretFromEnv ? 1 : 0, new Date().toISOString());
        const f = db
          .prepare("SELECT id, kind, ms, error_type, message, after_apply FROM fault WHERE remaining > 0 AND (func = ? OR func = '*') ORDER BY id LIMIT 1")
          .get(req.func) as FaultRow | undefined;
        if (f) db.prepare('UPDATE fault SET remaining = remaining - 1 WHERE id = ?').run(f.id);
        return f;
      })
      .immediate();

    if (fault?.kind === 'hang') await sleep(fault.ms);
    const failNow = fault && fault.kind !== 'hang' && fault.after_apply === 0;
    let reply = '';
    let code = 0;
    if (!failNow) {
      try {
        reply = db.transaction(() => perform(db, req)).immediate();
      } catch (e) {
        if (!(e instanceof ReplyError)) throw e;
        reply = render.error(req.func, { type: e.type, object: e.object, value: e.value, message: e.message }, req.params);
        code = 1;
      }
    }
    if (fault && fault.kind !== 'hang') {
      if (fault.kind === 'kill') return { stdout: '', stderr: '', code: 137, signal: 'SIGKILL' };
      if (fault.kind === 'exit') return { stdout: '', stderr: `mgrctl: ${fault.message || 'simulated failure'}\n`, code: 1 };
      if (fault.kind === 'garbage') return { stdout: 'Segmentation fault <<< not xml\n', stderr: '', code: 0 };
      const e = { type: fault.error_type, object: req.func, value: '', message: fault.message || 'Simulated error' };
      return { stdout: render.error(req.func, e, req.params), stderr: '', code: 1 };
    }
    return { stdout: reply, stderr: '', code };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Product types and tariff plans (the `itemtype` and `pricelist` lists, SPEC 4): the choices of
// the panel's period-rule form. Kept in their own table, set by setSimCatalog; a host whose
// catalog was never set answers empty lists.

export interface SimCatalog {
  itemtypes: Array<{ id: number; name: string; intname: string }>;
  /** `itemtype` is the product type's id, as BILLmanager's tariff plan list refers to it. */
  pricelists: Array<{ id: number; name: string; itemtype: number }>;
}

const CATALOG_SCHEMA = `CREATE TABLE IF NOT EXISTS sim_catalog (kind TEXT NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL, intname TEXT NOT NULL DEFAULT '', itemtype INTEGER, PRIMARY KEY (kind, id))`;

/** Replaces the simulated host's product types and tariff plans. */
export function setSimCatalog(dbPath: string, c: SimCatalog): void {
  const db = open(dbPath, false);
  try {
    db.exec(CATALOG_SCHEMA);
    db.transaction(() => {
      db.prepare('DELETE FROM sim_catalog').run();
      const put = db.prepare('INSERT INTO sim_catalog (kind, id, name, intname, itemtype) VALUES (?, ?, ?, ?, ?)');
      for (const t of c.itemtypes) put.run('itemtype', t.id, t.name, t.intname, null);
      for (const p of c.pricelists) put.run('pricelist', p.id, p.name, '', p.itemtype);
    }).immediate();
  } finally {
    db.close();
  }
}

function renderCatalogList(db: Db, func: 'itemtype' | 'pricelist', params: Record<string, string>): string {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sim_catalog'").get() !== undefined;
  const rows = (hasTable ? db.prepare('SELECT id, name, intname, itemtype FROM sim_catalog WHERE kind = ? ORDER BY id').all(func) : []) as Array<{ id: number; name: string; intname: string; itemtype: number | null }>;
  const elems = rows
    .map((r) => `<elem>${el('id', String(r.id))}${el('name', r.name)}${func === 'itemtype' ? el('intname', r.intname) : el('itemtype', String(r.itemtype ?? ''))}</elem>`)
    .join('');
  return `${docOpen(func)}${elems}${tparams(func, params)}</doc>\n`;
}

// ---------------------------------------------------------------------------------------------
// A pending tariff change (BILLmanager's item.lastpricelist): what `service.changepricelist.rollback`
// restores. Kept in its own table, created on first use; without a record the rollback only answers ok.

/** Records that service `id` was moved off tariff `previous.pricelist` (with its product-type panel). */
export function setSimTariffChange(dbPath: string, id: number, previous: { pricelist: string; panel: string }): void {
  const db = open(dbPath, false);
  try {
    db.exec('CREATE TABLE IF NOT EXISTS sim_tariff_change (service INTEGER PRIMARY KEY, pricelist TEXT NOT NULL, panel TEXT NOT NULL)');
    db.prepare('INSERT OR REPLACE INTO sim_tariff_change (service, pricelist, panel) VALUES (?, ?, ?)').run(id, previous.pricelist, previous.panel);
  } finally {
    db.close();
  }
}

function restorePreviousTariff(db: Db, id: number): void {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sim_tariff_change'").get() !== undefined;
  if (!hasTable) return;
  const prev = db.prepare('SELECT pricelist, panel FROM sim_tariff_change WHERE service = ?').get(id) as { pricelist: string; panel: string } | undefined;
  if (!prev) return;
  db.prepare('UPDATE service SET pricelist = ?, panel = ? WHERE id = ?').run(prev.pricelist, prev.panel, id);
  db.prepare('DELETE FROM sim_tariff_change WHERE service = ?').run(id);
}
