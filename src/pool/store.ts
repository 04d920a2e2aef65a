// The module's state in SQLite: the licenses it manages, the period rules, the journal of started
// operations, per-service locks and failure counters. Constraints make the impossible impossible:
// one row per upstream license, one license per service, a bound license always names its
// service and a pooled one never does. Every statement uses bound parameters.
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { addDays, now, type Day } from '../dates.js';
import { NoStateError, StateError } from '../errors.js';

/**
 * bound: serves a service; suspended: serves a suspended service; releasing: taken off a service
 * that is being closed or changed whose release upstream is not finished yet (in nobody's hands and
 * not in the pool: the rerun, or maintain, finishes it); free: in the pool; gone: left the pool.
 */
export type LicenseState = 'bound' | 'suspended' | 'releasing' | 'free' | 'gone';

export interface ManagedLicense {
  module: number;
  upstreamId: number;
  pricelist: string;
  /** The tariff's name as the licensing server last gave it ('' when it never did). */
  tariffName: string;
  /** 1, 12, 0 (lifetime); null when the upstream never said (paid time unknown). */
  period: number | null;
  state: LicenseState;
  item: number | null;
  /** While releasing: the service it was taken off. */
  releasedFrom: number | null;
  ip: string;
  expiredate: Day | null;
  ipChangeDate: Day | null;
  keyChangeDate: Day | null;
  hasKey: boolean;
  /** Bumped by every change: a transition names the version it read (compare-and-set, SPEC 5.8). */
  version: number;
  updatedAt: string;
}

/** What the licensing server says of a license: the only fields a refresh writes. */
export interface LicenseFacts {
  pricelist: string;
  tariffName: string;
  period: number | null;
  ip: string;
  expiredate: Day | null;
  ipChangeDate: Day | null;
  keyChangeDate: Day | null;
  hasKey: boolean;
}

/** One successful item command, as the service was then (period advice replays these). */
export interface ServiceEvent {
  module: number;
  item: number;
  day: Day;
  command: string;
  /** BILLmanager period code as the host gave it. */
  period: string;
  panel: string;
  /** The host's tariff plan of the service. */
  pricelist: string;
  itemtype: string;
  /** The service's paid-until then. */
  expiredate: Day | null;
}

/** Money spent at the licensing server: a new order or a prolongation. */
export interface Purchase {
  module: number;
  day: Day;
  kind: 'order' | 'prolong';
  upstreamId: number;
  item: number | null;
  pricelist: string;
  period: number;
}

export interface PeriodRule {
  id: number;
  module: number;
  source: number;
  target: number;
  itemtype: string | null;
  pricelist: number | null;
}

/** A started order or pool re-use, kept until it is finished so a rerun can recognise it. */
export interface JournalEntry {
  id: number;
  module: number;
  item: number;
  kind: 'order' | 'reuse';
  upstreamId: number | null;
  pricelist: string;
  ip: string;
  period: number;
  startedAt: string;
  /** Real time of the start (ms; null for entries written before it was kept): how long an order
   *  without a reply has had to show up upstream is real time, whatever clock the rules run on. */
  startedWallMs: number | null;
}

// Schema versions, in order. v3: compare-and-set (SPEC 5.8) — every license row carries a version
// that each change names and bumps; 'releasing' holds a license between taking it off a service and
// finishing its release upstream; an unknown period (NULL) is kept rather than guessed. v4, measured
// at scale (npm run bench): "is this upstream id known" scanned the table once per account license
// in reconcile, and the pool's tie-break on the id needed a sort. v6, task_made (SPEC 5.9): at most one
// task per running operation, the module's own record of the tasks it made. v7 (period advice, `advise`): what
// the journal did not keep — the services' own history (each successful item command: the day, the
// service's period, panel, host tariff and paid-until) and every purchase (order or prolongation)
// with its tariff and period, so that a year of churn can be replayed under other rules and what was
// spent priced. Additive: nothing reads them but advise.
const MIGRATIONS: string[] = [
  `CREATE TABLE license (
     module INTEGER NOT NULL,
     upstream_id INTEGER NOT NULL,
     pricelist TEXT NOT NULL,
     period INTEGER NOT NULL CHECK (period IN (0, 1, 12)),
     state TEXT NOT NULL CHECK (state IN ('bound', 'suspended', 'free', 'gone')),
     item INTEGER,
     ip TEXT NOT NULL DEFAULT '',
     expiredate TEXT,
     ip_change_date TEXT,
     key_change_date TEXT,
     has_key INTEGER NOT NULL DEFAULT 0,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (module, upstream_id),
     CHECK ((state IN ('bound', 'suspended')) = (item IS NOT NULL))
   );
   CREATE UNIQUE INDEX license_one_per_service ON license(item) WHERE item IS NOT NULL;
   CREATE INDEX license_pool ON license(module, state, pricelist, expiredate);
   CREATE TABLE period_rule (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     module INTEGER NOT NULL,
     source INTEGER NOT NULL,
     target INTEGER NOT NULL CHECK (target IN (0, 1, 12)),
     itemtype TEXT,
     pricelist INTEGER,
     CHECK ((itemtype IS NULL) = (pricelist IS NULL))
   );
   CREATE UNIQUE INDEX period_rule_unique ON period_rule(module, source, COALESCE(itemtype, ''), COALESCE(pricelist, 0));
   CREATE TABLE journal (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     module INTEGER NOT NULL,
     item INTEGER NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('order', 'reuse')),
     upstream_id INTEGER,
     pricelist TEXT NOT NULL,
     ip TEXT NOT NULL,
     period INTEGER NOT NULL,
     started_at TEXT NOT NULL,
     finished_at TEXT,
     outcome TEXT
   );
   CREATE UNIQUE INDEX journal_one_open_per_service ON journal(item) WHERE finished_at IS NULL;
   CREATE TABLE service_lock (item INTEGER PRIMARY KEY, pid INTEGER NOT NULL, command TEXT NOT NULL, since TEXT NOT NULL);
   CREATE TABLE failure_count (item INTEGER NOT NULL, command TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (item, command));`,
  `ALTER TABLE journal ADD COLUMN started_wall_ms INTEGER;`,
  `CREATE TABLE license_v3 (
     module INTEGER NOT NULL,
     upstream_id INTEGER NOT NULL,
     pricelist TEXT NOT NULL,
     period INTEGER CHECK (period IS NULL OR period IN (0, 1, 12)),
     state TEXT NOT NULL CHECK (state IN ('bound', 'suspended', 'releasing', 'free', 'gone')),
     item INTEGER,
     released_from INTEGER,
     ip TEXT NOT NULL DEFAULT '',
     expiredate TEXT,
     ip_change_date TEXT,
     key_change_date TEXT,
     has_key INTEGER NOT NULL DEFAULT 0,
     version INTEGER NOT NULL DEFAULT 1,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (module, upstream_id),
     CHECK ((state IN ('bound', 'suspended')) = (item IS NOT NULL)),
     CHECK ((state = 'releasing') = (released_from IS NOT NULL))
   );
   INSERT INTO license_v3 (module, upstream_id, pricelist, period, state, item, ip, expiredate, ip_change_date, key_change_date, has_key, updated_at)
     SELECT module, upstream_id, pricelist, period, state, item, ip, expiredate, ip_change_date, key_change_date, has_key, updated_at FROM license;
   DROP TABLE license;
   ALTER TABLE license_v3 RENAME TO license;
   CREATE UNIQUE INDEX license_one_per_service ON license(item) WHERE item IS NOT NULL;
   CREATE INDEX license_pool ON license(module, state, pricelist, expiredate);
   CREATE INDEX license_releasing ON license(released_from) WHERE released_from IS NOT NULL;`,
  `CREATE INDEX license_by_upstream ON license(upstream_id);
   DROP INDEX license_pool;
   CREATE INDEX license_pool ON license(module, state, pricelist, expiredate, upstream_id);`,
  `ALTER TABLE license ADD COLUMN tariff_name TEXT NOT NULL DEFAULT '';`,
  `CREATE TABLE IF NOT EXISTS task_made (runningoperation INTEGER PRIMARY KEY, item INTEGER NOT NULL, command TEXT NOT NULL, at TEXT NOT NULL);`,
  `CREATE TABLE service_event (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     module INTEGER NOT NULL,
     item INTEGER NOT NULL,
     day TEXT NOT NULL,
     command TEXT NOT NULL,
     period TEXT NOT NULL,
     panel TEXT NOT NULL,
     pricelist TEXT NOT NULL,
     itemtype TEXT NOT NULL,
     expiredate TEXT
   );
   CREATE INDEX service_event_by_module ON service_event(module, item, id);
   CREATE TABLE purchase (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     module INTEGER NOT NULL,
     day TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('order', 'prolong')),
     upstream_id INTEGER NOT NULL,
     item INTEGER,
     pricelist TEXT NOT NULL,
     period INTEGER NOT NULL
   );
   CREATE INDEX purchase_by_module ON purchase(module, day);`,
];

/** The columns a transition may set (never the key, the version or the time: cas() does those). */
type LicenseColumns = Omit<LicenseRow, 'module' | 'upstream_id' | 'version' | 'updated_at'>;

const READ_STATES: readonly LicenseState[] = ['bound', 'suspended', 'releasing', 'free', 'gone'];

function factColumns(f: LicenseFacts): Pick<LicenseColumns, 'pricelist' | 'tariff_name' | 'period' | 'ip' | 'expiredate' | 'ip_change_date' | 'key_change_date' | 'has_key'> {
  return {
    pricelist: f.pricelist,
    tariff_name: f.tariffName,
    period: f.period,
    ip: f.ip,
    expiredate: f.expiredate,
    ip_change_date: f.ipChangeDate,
    key_change_date: f.keyChangeDate,
    has_key: f.hasKey ? 1 : 0,
  };
}

/** The day before: the pool's last query wants licenses with `expiredate >= today`. */
function addDaysBefore(day: Day): Day {
  return addDays(day, -1);
}

interface LicenseRow {
  module: number;
  upstream_id: number;
  pricelist: string;
  tariff_name: string;
  period: number | null;
  state: LicenseState;
  item: number | null;
  released_from: number | null;
  ip: string;
  expiredate: string | null;
  ip_change_date: string | null;
  key_change_date: string | null;
  has_key: number;
  version: number;
  updated_at: string;
}

function toLicense(r: LicenseRow): ManagedLicense {
  return {
    module: r.module,
    upstreamId: r.upstream_id,
    pricelist: r.pricelist,
    tariffName: r.tariff_name,
    period: r.period,
    state: r.state,
    item: r.item,
    releasedFrom: r.released_from,
    ip: r.ip,
    expiredate: r.expiredate,
    ipChangeDate: r.ip_change_date,
    keyChangeDate: r.key_change_date,
    hasKey: r.has_key === 1,
    version: r.version,
    updatedAt: r.updated_at,
  };
}

interface JournalRow {
  id: number;
  module: number;
  item: number;
  kind: 'order' | 'reuse';
  upstream_id: number | null;
  pricelist: string;
  ip: string;
  period: number;
  started_at: string;
  started_wall_ms: number | null;
}

function toJournal(r: JournalRow): JournalEntry {
  return { id: r.id, module: r.module, item: r.item, kind: r.kind, upstreamId: r.upstream_id, pricelist: r.pricelist, ip: r.ip, period: r.period, startedAt: r.started_at, startedWallMs: r.started_wall_ms };
}

export class LicenseStore {
  private constructor(private readonly db: Database.Database) {}

  /** Prepared once per process: preparing anew on every call cost more than the query at scale. */
  private readonly statements = new Map<string, Database.Statement>();

  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  static open(file: string, opts: { readonly?: boolean } = {}): LicenseStore {
    // Where the state cannot be opened for want of rights, say what to do about it.
    const denied = (e: unknown): StateError | null =>
      /EACCES|EPERM|SQLITE_(CANTOPEN|READONLY|PERM|AUTH)|permission denied|readonly database/i.test(`${(e as { code?: string }).code ?? ''} ${(e as Error).message}`)
        ? new StateError(`The module state ${file} cannot be opened${opts.readonly ? '' : ' for writing'} (${(e as Error).message}): run pmisplicense as root, or check the permissions of ${file}.`)
        : null;
    if (existsSync(file) && statSync(file).isDirectory()) {
      throw new StateError(`The module state file ${file} cannot be used: it is a directory. Point PMISPLICENSE_DB (or MGR_ROOT) at the state file.`);
    }
    if (opts.readonly) {
      // Reading commands (pool list, periods list) never create, migrate or write the state, so
      // they also work on a read-only file; no file (or the empty one install.sh creates) is no state yet.
      if (!existsSync(file)) throw new NoStateError(file);
      let ro: Database.Database | null = null;
      try {
        try {
          ro = new Database(file, { readonly: true, fileMustExist: true, timeout: 30_000 });
          ro.pragma('user_version', { simple: true });
        } catch (e) {
          // A WAL file in a directory this user may not write: SQLite cannot create the -shm it needs
          // to read it. With no WAL content to miss, read a snapshot of the file in memory instead
          // (header bytes 18-19 = 1: rollback journal, which an in-memory image needs).
          ro?.close();
          ro = null;
          const wal = `${file}-wal`;
          if (!/READONLY_DIRECTORY|CANTOPEN/.test(String((e as { code?: string }).code)) || (existsSync(wal) && statSync(wal).size > 0)) throw e;
          const image = readFileSync(file);
          if (image.length >= 20) image[18] = image[19] = 1;
          ro = new Database(image, { readonly: true });
        }
        const version = ro.pragma('user_version', { simple: true }) as number;
        if (version === 0) throw new NoStateError(file);
        if (version < MIGRATIONS.length) throw new StateError(`The module state ${file} was written by an older pmisplicense; run a command that writes it (e.g. pmisplicense maintain, as root) once to upgrade it.`);
        return new LicenseStore(ro);
      } catch (e) {
        ro?.close();
        if (e instanceof StateError) throw e;
        throw denied(e) ?? new StateError(`The module state file ${file} cannot be read: ${(e as Error).message}. Check that it is a pmisplicense database.`);
      }
    }
    let db: Database.Database;
    try {
      // Created private (0600) before SQLite opens it: never readable by others, not even for a moment.
      if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
      db = new Database(file, { timeout: 30_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      if ((db.pragma('user_version', { simple: true }) as number) < MIGRATIONS.length) {
        db.transaction(() => {
          // Read again under the write lock: another process may have migrated meanwhile (several
          // module processes can find a fresh state file at once).
          const version = db.pragma('user_version', { simple: true }) as number;
          for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
          db.pragma(`user_version = ${MIGRATIONS.length}`);
        }).immediate();
      }
    } catch (e) {
      throw denied(e) ?? new StateError(`The module state file ${file} cannot be used: ${(e as Error).message}. Check that it exists, is a pmisplicense database and is writable by root.`);
    }
    return new LicenseStore(db);
  }

  close(): void {
    this.db.close();
  }

  /** Runs fn in a BEGIN IMMEDIATE transaction: the write lock is taken first, so two processes
   *  can never both read a license as free and both take it. */
  exclusive<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // --- licenses: reads ---------------------------------------------------------------------

  license(module: number, upstreamId: number): ManagedLicense | null {
    const r = this.sql('SELECT * FROM license WHERE module = ? AND upstream_id = ?').get(module, upstreamId) as LicenseRow | undefined;
    return r ? toLicense(r) : null;
  }

  /** The license serving a service (bound or suspended), whatever the module. */
  licenseOfService(item: number): ManagedLicense | null {
    const r = this.sql('SELECT * FROM license WHERE item = ?').get(item) as LicenseRow | undefined;
    return r ? toLicense(r) : null;
  }

  /** Licenses taken off this service whose release was not finished (a close or change that failed half-way). */
  releasingFrom(item: number): ManagedLicense[] {
    return (this.sql("SELECT * FROM license WHERE state = 'releasing' AND released_from = ? ORDER BY upstream_id").all(item) as LicenseRow[]).map(toLicense);
  }

  /** Known to any module of this host (an upstream id is never adopted twice). */
  isKnown(upstreamId: number): boolean {
    return this.sql("SELECT 1 FROM license WHERE upstream_id = ? AND state <> 'gone'").get(upstreamId) !== undefined;
  }

  /** The upstream ids of every license any module of this host manages (not gone): one column read. */
  managedUpstreamIds(): Set<number> {
    return new Set(this.sql("SELECT upstream_id FROM license WHERE state <> 'gone'").pluck().all() as number[]);
  }

  /** The modules that have licenses in the state. */
  modules(): number[] {
    return this.sql('SELECT DISTINCT module FROM license ORDER BY module').pluck().all() as number[];
  }

  licenses(module: number | null = null): ManagedLicense[] {
    const rows = (module === null
      ? this.sql('SELECT * FROM license ORDER BY module, upstream_id').all()
      : this.sql('SELECT * FROM license WHERE module = ? ORDER BY upstream_id').all(module)) as LicenseRow[];
    return rows.map(toLicense);
  }

  /**
   * Free licenses of one tariff in the order SPEC 5.5 takes them: first those whose paid time
   * outlasts the renewal lead (`expiredate > lead`, then lifetime ones), the one that expires first
   * first; then those that expire within the lead (still paid: `expiredate >= today`). Licenses
   * with unknown paid time are never offered. Lazy: the caller stops at the first one it can use,
   * and the index on (module, state, pricelist, expiredate) keeps that cheap in a large pool.
   */
  *poolCandidates(module: number, pricelist: string, today: Day, leadEnd: Day): Generator<ManagedLicense> {
    const term = this.sql(
      "SELECT * FROM license WHERE module = ? AND state = 'free' AND pricelist = ? AND expiredate > ? AND expiredate <= ? AND period IN (1, 12) ORDER BY expiredate, upstream_id",
    );
    const lifetime = this.sql("SELECT * FROM license WHERE module = ? AND state = 'free' AND pricelist = ? AND period = 0 ORDER BY upstream_id");
    for (const r of term.iterate(module, pricelist, leadEnd, '9999-12-31') as Iterable<LicenseRow>) yield toLicense(r);
    for (const r of lifetime.iterate(module, pricelist) as Iterable<LicenseRow>) yield toLicense(r);
    for (const r of term.iterate(module, pricelist, addDaysBefore(today), leadEnd) as Iterable<LicenseRow>) yield toLicense(r);
  }

  // --- licenses: transitions ---------------------------------------------------------------
  // Each changes one license only if it is still exactly what the caller read (its version, and
  // so its state and service), and returns the new row, or null when another process got there
  // first: the caller then reads again and decides anew. There is no "save this row".

  /** The licensing server's facts about a license; its state and service stay as they are. */
  refresh(read: ManagedLicense, facts: LicenseFacts): ManagedLicense | null {
    return this.cas(read, READ_STATES, factColumns(facts));
  }

  /** A reserved or bound license of a service that is suspended / resumed. */
  suspendBound(read: ManagedLicense): ManagedLicense | null {
    return this.cas(read, ['bound', 'suspended'], { state: 'suspended' });
  }

  resumeBound(read: ManagedLicense): ManagedLicense | null {
    return this.cas(read, ['bound', 'suspended'], { state: 'bound' });
  }

  /** Takes a license off its service before it is released upstream (close, panel change). */
  unbind(read: ManagedLicense): ManagedLicense | null {
    if (read.item === null) return null;
    return this.cas(read, ['bound', 'suspended'], { state: 'releasing', item: null, released_from: read.item });
  }

  /** The release is done upstream: into the pool (paid time left or unknown) or gone. A reserved
   *  license that could not be re-used goes back the same way (bound → free). */
  settle(read: ManagedLicense, to: 'free' | 'gone', facts: LicenseFacts | null): ManagedLicense | null {
    return this.cas(read, ['bound', 'suspended', 'releasing', 'free'], { ...(facts ? factColumns(facts) : {}), state: to, item: null, released_from: null });
  }

  /**
   * SPEC 5.6 (v3.1): a tariff change that failed is rolled back, and the license released for it,
   * still free in the pool, goes back to the service it came from. Null when the license is no
   * longer as read (another process took it) or the service has a license meanwhile.
   */
  rebindReleased(read: ManagedLicense, item: number): ManagedLicense | null {
    return this.exclusive(() => {
      if (this.licenseOfService(item)) return null;
      return this.cas(read, ['free'], { state: 'bound', item, released_from: null });
    });
  }

  /** Left the pool, or vanished upstream. */
  markGone(read: ManagedLicense, facts: LicenseFacts | null = null): ManagedLicense | null {
    return this.settle(read, 'gone', facts);
  }

  /**
   * SPEC 5.5: reserves for a service the first pooled license `usable` accepts, and opens the
   * re-use journal entry, in one write transaction: two processes can never take the same one.
   */
  reservePooled(
    want: { module: number; pricelist: string; item: number; ip: string; period: number; today: Day; leadEnd: Day },
    usable: (l: ManagedLicense) => boolean,
  ): { license: ManagedLicense; journal: JournalEntry } | null {
    return this.exclusive(() => {
      let chosen: ManagedLicense | null = null;
      // The candidates' cursor is closed (break) before the row is written: SQLite does not
      // write on a connection whose read is still open. Inside this transaction nothing moves.
      for (const cand of this.poolCandidates(want.module, want.pricelist, want.today, want.leadEnd)) {
        if (usable(cand)) {
          chosen = cand;
          break;
        }
      }
      if (chosen) {
        const license = this.cas(chosen, ['free'], { state: 'bound', item: want.item });
        if (!license) throw new StateError(`pooled license ${chosen.upstreamId} changed inside a write transaction`);
        const journal = this.startJournal({ module: want.module, item: want.item, kind: 'reuse', upstreamId: chosen.upstreamId, pricelist: want.pricelist, ip: want.ip, period: want.period });
        return { license, journal };
      }
      return null;
    });
  }

  /**
   * A license this module paid for (a new order, or one found upstream after a lost reply), bound
   * to its service; finishes the journal entry in the same transaction. Refuses (null) when the
   * row exists in any state but gone, or when the service already has a license.
   */
  bindOrdered(l: { module: number; upstreamId: number; item: number } & LicenseFacts, journalId: number, outcome: string): ManagedLicense | null {
    return this.exclusive(() => {
      const existing = this.license(l.module, l.upstreamId);
      if ((existing && existing.state !== 'gone') || this.licenseOfService(l.item)) return null;
      this.upsertNew(l, 'bound', l.item, existing);
      this.setJournalLicense(journalId, l.upstreamId);
      this.finishJournal(journalId, outcome);
      return this.license(l.module, l.upstreamId);
    });
  }

  /** An account license the administrator takes into the pool (`pool adopt`). Null when known. */
  adoptIntoPool(l: { module: number; upstreamId: number } & LicenseFacts): ManagedLicense | null {
    return this.exclusive(() => {
      const existing = this.license(l.module, l.upstreamId);
      if ((existing && existing.state !== 'gone') || this.isKnown(l.upstreamId)) return null;
      this.upsertNew(l, 'free', null, existing);
      return this.license(l.module, l.upstreamId);
    });
  }

  /**
   * SPEC 5.9 migration: an account license bought outside the module (by hand, by a previous
   * module), bound to its service as it is. Refuses (null) when any module already manages the
   * license (not gone) or the service already has one: two services never take the same license.
   */
  bindExisting(l: { module: number; upstreamId: number; item: number; suspended?: boolean } & LicenseFacts): ManagedLicense | null {
    return this.exclusive(() => {
      const existing = this.license(l.module, l.upstreamId);
      if ((existing && existing.state !== 'gone') || this.isKnown(l.upstreamId) || this.licenseOfService(l.item)) return null;
      this.upsertNew(l, l.suspended ? 'suspended' : 'bound', l.item, existing);
      return this.license(l.module, l.upstreamId);
    });
  }

  private upsertNew(l: { module: number; upstreamId: number } & LicenseFacts, state: LicenseState, item: number | null, existing: ManagedLicense | null): void {
    const cols = { ...factColumns(l), state, item, released_from: null };
    if (existing) {
      // A license that left the pool (gone) and is taken again: same row, next version.
      if (!this.cas(existing, ['gone'], cols)) throw new StateError(`license ${l.upstreamId} changed while it was being recorded`);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO license (module, upstream_id, pricelist, tariff_name, period, state, item, released_from, ip, expiredate, ip_change_date, key_change_date, has_key, version, updated_at)
         VALUES (@module, @upstream_id, @pricelist, @tariff_name, @period, @state, @item, NULL, @ip, @expiredate, @ip_change_date, @key_change_date, @has_key, 1, @updated_at)`,
      )
      .run({ ...cols, module: l.module, upstream_id: l.upstreamId, updated_at: new Date().toISOString() });
  }

  /** The one UPDATE of a license row: only from the version (and a state) the caller read. */
  private cas(read: ManagedLicense, from: readonly LicenseState[], set: Partial<LicenseColumns>): ManagedLicense | null {
    if (!from.includes(read.state)) return null;
    const names = Object.keys(set) as Array<keyof LicenseColumns>;
    const assignments = names.map((n) => `${n} = @${n}`).join(', ');
    const info = this
      .sql(
        `UPDATE license SET ${assignments}${assignments ? ', ' : ''}version = version + 1, updated_at = @updated_at
         WHERE module = @module AND upstream_id = @upstream_id AND version = @version AND state IN (${from.map((s) => `'${s}'`).join(', ')})`,
      )
      .run({ ...set, updated_at: new Date().toISOString(), module: read.module, upstream_id: read.upstreamId, version: read.version });
    return info.changes === 1 ? this.license(read.module, read.upstreamId) : null;
  }

  // --- journal ---------------------------------------------------------------------------

  openJournal(item: number): JournalEntry | null {
    const r = this.sql('SELECT * FROM journal WHERE item = ? AND finished_at IS NULL').get(item) as JournalRow | undefined;
    return r ? toJournal(r) : null;
  }

  startJournal(e: Omit<JournalEntry, 'id' | 'startedAt' | 'startedWallMs'>): JournalEntry {
    // The module's clock (PMISPLICENSE_NOW in tests and dry runs): it is compared with upstream dates.
    const startedAt = now().toISOString();
    const startedWallMs = Date.now();
    const info = this.db
      .prepare('INSERT INTO journal (module, item, kind, upstream_id, pricelist, ip, period, started_at, started_wall_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(e.module, e.item, e.kind, e.upstreamId, e.pricelist, e.ip, e.period, startedAt, startedWallMs);
    return { ...e, id: Number(info.lastInsertRowid), startedAt, startedWallMs };
  }

  setJournalLicense(id: number, upstreamId: number): void {
    this.sql('UPDATE journal SET upstream_id = ? WHERE id = ?').run(upstreamId, id);
  }

  finishJournal(id: number, outcome: string): void {
    this.sql('UPDATE journal SET finished_at = ?, outcome = ? WHERE id = ? AND finished_at IS NULL').run(now().toISOString(), outcome, id);
  }

  journal(item: number | null = null): Array<JournalEntry & { finishedAt: string | null; outcome: string | null }> {
    const rows = (item === null ? this.sql('SELECT * FROM journal ORDER BY id').all() : this.sql('SELECT * FROM journal WHERE item = ? ORDER BY id').all(item)) as Array<
      JournalRow & { finished_at: string | null; outcome: string | null }
    >;
    return rows.map((r) => ({ ...toJournal(r), finishedAt: r.finished_at, outcome: r.outcome }));
  }

  // --- history for period advice (advise) -----------------------------------------------

  recordServiceEvent(e: ServiceEvent): void {
    this.sql('INSERT INTO service_event (module, item, day, command, period, panel, pricelist, itemtype, expiredate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      e.module, e.item, e.day, e.command, e.period, e.panel, e.pricelist, e.itemtype, e.expiredate,
    );
  }

  serviceEvents(module: number): ServiceEvent[] {
    return this.sql('SELECT module, item, day, command, period, panel, pricelist, itemtype, expiredate FROM service_event WHERE module = ? ORDER BY item, id').all(module) as ServiceEvent[];
  }

  recordPurchase(p: Purchase): void {
    this.sql('INSERT INTO purchase (module, day, kind, upstream_id, item, pricelist, period) VALUES (?, ?, ?, ?, ?, ?, ?)').run(p.module, p.day, p.kind, p.upstreamId, p.item, p.pricelist, p.period);
  }

  purchases(module: number): Purchase[] {
    return (this.sql('SELECT module, day, kind, upstream_id, item, pricelist, period FROM purchase WHERE module = ? ORDER BY id').all(module) as Array<Omit<Purchase, 'upstreamId'> & { upstream_id: number }>).map(
      ({ upstream_id, ...r }) => ({ ...r, upstreamId: upstream_id }),
    );
  }

  /**
   * Pool re-uses started and not finished (SPEC 5.2 step 4): licenses reserved for a service (bound
   * to it) whose re-use journal entry is still open, with the pid holding the service's lock (null:
   * none). A reservation whose holder is dead was left by a killed process.
   */
  reservations(module: number | null = null): Array<{ license: ManagedLicense; journal: JournalEntry; lockedBy: number | null }> {
    const rows = this.sql(
      `SELECT license.*, journal.id AS j_id, journal.pricelist AS j_pricelist, journal.ip AS j_ip, journal.period AS j_period,
              journal.started_at AS j_started_at, journal.started_wall_ms AS j_started_wall_ms, service_lock.pid AS lock_pid
         FROM license
         JOIN journal ON journal.item = license.item AND journal.finished_at IS NULL AND journal.kind = 'reuse'
                     AND journal.upstream_id = license.upstream_id AND journal.module = license.module
         LEFT JOIN service_lock ON service_lock.item = license.item
        WHERE license.state IN ('bound', 'suspended') AND (? IS NULL OR license.module = ?)
        ORDER BY license.module, license.upstream_id`,
    ).all(module, module) as Array<LicenseRow & { j_id: number; j_pricelist: string; j_ip: string; j_period: number; j_started_at: string; j_started_wall_ms: number | null; lock_pid: number | null }>;
    return rows.map((r) => ({
      license: toLicense(r),
      journal: toJournal({ id: r.j_id, module: r.module, item: r.item!, kind: 'reuse', upstream_id: r.upstream_id, pricelist: r.j_pricelist, ip: r.j_ip, period: r.j_period, started_at: r.j_started_at, started_wall_ms: r.j_started_wall_ms }),
      lockedBy: r.lock_pid,
    }));
  }

  // --- per-service lock -----------------------------------------------------------------

  /** Takes the service's lock unless a live process holds it. Returns the holder's pid when busy. */
  tryLock(item: number, command: string, isAlive: (pid: number) => boolean): number | null {
    return this.exclusive(() => {
      const r = this.sql('SELECT pid FROM service_lock WHERE item = ?').get(item) as { pid: number } | undefined;
      if (r && r.pid !== process.pid && isAlive(r.pid)) return r.pid;
      this.sql('INSERT OR REPLACE INTO service_lock (item, pid, command, since) VALUES (?, ?, ?, ?)').run(item, process.pid, command, new Date().toISOString());
      return null;
    });
  }

  unlock(item: number): void {
    this.sql('DELETE FROM service_lock WHERE item = ? AND pid = ?').run(item, process.pid);
  }

  // --- failure counter (SPEC 4) -----------------------------------------------------------

  countFailure(item: number, command: string): number {
    return this.exclusive(() => {
      this.db
        .prepare('INSERT INTO failure_count (item, command, count) VALUES (?, ?, 1) ON CONFLICT (item, command) DO UPDATE SET count = count + 1')
        .run(item, command);
      return (this.sql('SELECT count FROM failure_count WHERE item = ? AND command = ?').get(item, command) as { count: number }).count;
    });
  }

  resetFailures(item: number, command: string): void {
    this.sql('DELETE FROM failure_count WHERE item = ? AND command = ?').run(item, command);
  }

  // --- tasks made for running operations (SPEC 5.9) ------------------------------------------

  /**
   * Claims the one task of a running operation before it is created: true for the first claim,
   * false when this module already made (or is making) one for it. Claimed before `task.edit`, so
   * two processes, or a rerun after a crash in between, never make a second task.
   */
  claimTask(runningOperation: number, item: number, command: string): boolean {
    return this.sql('INSERT OR IGNORE INTO task_made (runningoperation, item, command, at) VALUES (?, ?, ?, ?)').run(runningOperation, item, command, new Date().toISOString()).changes === 1;
  }

  /** The task could not be created after all: a later failure of the operation may try again. */
  releaseTaskClaim(runningOperation: number): void {
    this.sql('DELETE FROM task_made WHERE runningoperation = ?').run(runningOperation);
  }

  // --- period rules ------------------------------------------------------------------------

  periodRules(module: number): PeriodRule[] {
    return this.sql('SELECT id, module, source, target, itemtype, pricelist FROM period_rule WHERE module = ? ORDER BY id').all(module) as PeriodRule[];
  }

  addPeriodRule(r: Omit<PeriodRule, 'id'>): number {
    const info = this.db
      .prepare('INSERT INTO period_rule (module, source, target, itemtype, pricelist) VALUES (?, ?, ?, ?, ?)')
      .run(r.module, r.source, r.target, r.itemtype, r.pricelist);
    return Number(info.lastInsertRowid);
  }

  removePeriodRule(module: number, id: number): boolean {
    return this.sql('DELETE FROM period_rule WHERE module = ? AND id = ?').run(module, id).changes === 1;
  }

  /** Rewrites rule `id` of the module (the panel's edit form); false when there is no such rule. */
  changePeriodRule(module: number, id: number, r: Omit<PeriodRule, 'id' | 'module'>): boolean {
    return (
      this.db
        .prepare('UPDATE period_rule SET source = ?, target = ?, itemtype = ?, pricelist = ? WHERE module = ? AND id = ?')
        .run(r.source, r.target, r.itemtype, r.pricelist, module, id).changes === 1
    );
  }
}

export function openStore(file: string): LicenseStore {
  return LicenseStore.open(file);
}
