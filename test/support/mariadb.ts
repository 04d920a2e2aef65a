// A real MariaDB for the tests of the tariff-option reader (SPEC 4): Debian's mariadb-server,
// initialised in a temporary directory and listening only on a private Unix socket there (no TCP
// port), with the tables and columns SPEC 4 names, and a read-only user like BILLmanager's own.
// Start it once per test file (`before`), empty it per test (`reset`), stop it in `after`.
// Where MariaDB cannot be started the tests fail with a message naming the missing package.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import mysql from 'mysql2/promise';
import type { SimFormOption, SimulatedHost } from '../../src/sandbox/host.js';

const MISSING =
  "MariaDB is needed by this test and was not found: install Debian's package 'mariadb-server' " +
  '(scripts/setup-test-deps.sh does it; .ci/run runs that script first).';

/** The tables and columns SPEC 4 lists (plus `itemparam` for reconcile), as BILLmanager names them. */
const SCHEMA = [
  'CREATE TABLE itemtype (id INT PRIMARY KEY, intname VARCHAR(64) NULL)',
  'CREATE TABLE enumerationitem (id INT PRIMARY KEY, intname VARCHAR(64) NULL)',
  `CREATE TABLE pricelist (id INT PRIMARY KEY, parent INT NULL, intname VARCHAR(64) NULL, itemtype INT NULL,
     addontype INT NULL, billtype INT NULL, active VARCHAR(3) NULL, compound INT NULL, addonlimit BIGINT NULL,
     addonbool VARCHAR(3) NULL, enumerationitem INT NULL)`,
  `CREATE TABLE item (id INT PRIMARY KEY, parent INT NULL, pricelist INT NULL, intvalue BIGINT NULL,
     addonlimit BIGINT NULL, boolvalue VARCHAR(3) NULL, enumerationitem INT NULL, lastpricelist INT NULL)`,
  'CREATE TABLE itemparam (id INT AUTO_INCREMENT PRIMARY KEY, item INT NOT NULL, intname VARCHAR(64) NOT NULL, value TEXT NULL)',
];
const TABLES = ['itemtype', 'enumerationitem', 'pricelist', 'item', 'itemparam'];

function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

export interface MariaDb {
  readonly dir: string;
  readonly socket: string;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** What the simulated mgrctl answers to `paramlist` for this database. */
  paramList(): Record<string, string>;
  /** Runs SQL as the database's owner (the test's side: BILLmanager writing its tables). */
  exec(sql: string, values?: unknown[]): Promise<void>;
  /** Empties every table. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a private MariaDB; throws (naming the package) when it is not installed or fails. */
export async function startMariaDb(): Promise<MariaDb> {
  const mariadbd = findExecutable('mariadbd') ?? findExecutable('mysqld');
  const installDb = findExecutable('mariadb-install-db') ?? findExecutable('mysql_install_db');
  if (!mariadbd || !installDb) throw new Error(MISSING);

  const dir = mkdtempSync(join(tmpdir(), 'pmisplicense-mariadb-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const errLog = join(dir, 'error.log');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  const init = spawnSync(installDb, ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asRoot], { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${init.status}): ${(init.stderr || init.stdout).slice(-800)}\n${MISSING}`);
  }
  const child: ChildProcess = spawn(
    mariadbd,
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--socket=${socket}`,
      '--skip-networking',
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--log-error=${errLog}`,
      '--innodb-buffer-pool-size=16M',
      '--skip-log-bin',
      ...asRoot,
    ],
    { stdio: 'ignore' },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  const errTail = () => (existsSync(errLog) ? readFileSync(errLog, 'utf8').slice(-800) : '');

  const deadline = Date.now() + 30_000;
  let admin: mysql.Connection | null = null;
  while (!admin) {
    if (exited !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mariadbd exited with ${exited} at start-up: ${errTail()}`);
    }
    if (existsSync(socket)) {
      try {
        admin = await mysql.createConnection({ socketPath: socket, user: 'root', password: '' });
        break;
      } catch {
        /* not ready yet */
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mariadbd did not accept connections within 30 s: ${errTail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const database = 'billmgr';
  const user = 'billmgr_ro';
  // A password with characters that would break naive quoting or URL building.
  const password = `Db-${randomBytes(9).toString('base64url')}-&'"x`;
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.query(`USE ${database}`);
  for (const sql of SCHEMA) await admin.query(sql);
  await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, 'localhost', password]);
  await admin.query(`GRANT SELECT ON ${database}.* TO ?@?`, [user, 'localhost']);
  const owner = admin;

  return {
    dir,
    socket,
    database,
    user,
    password,
    paramList: () => ({ DBHost: 'localhost', DBUser: user, DBPassword: password, DBName: database, DBSocket: socket }),
    async exec(sql, values) {
      await owner.query(sql, values);
    },
    async reset() {
      for (const t of TABLES) await owner.query(`DELETE FROM ${t}`);
    },
    async stop() {
      await owner.end().catch(() => owner.destroy());
      process.removeListener('exit', killOnExit);
      if (exited === null) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Filling BILLmanager's tables the way BILLmanager stores a tariff, its options and a service.

export interface EnumItem {
  id: number;
  /** What the administrator typed: a tariff id or 'nopanel'. */
  intname: string;
  /** What the customer sees (shown in soft.edit's slist). */
  name: string;
}

export interface OptionSpec {
  id: number;
  intname?: string | null;
  /** itemtype.id of the option's detail (its intname is the key when the option has none). */
  itemtype?: number | null;
  addontype: 1 | 2 | 3;
  billtype?: number | null;
  active?: 'on' | 'off';
  compound?: number | null;
  addonlimit?: number | null;
  addonbool?: 'on' | 'off' | null;
  items?: EnumItem[];
  /** Default enumeration item id. */
  defaultItem?: number | null;
}

export interface ChoiceSpec {
  /** The service's child item id. */
  id: number;
  option: number;
  enumerationitem?: number | null;
  intvalue?: number | null;
  addonlimit?: number | null;
  boolvalue?: 'on' | 'off' | null;
}

/** BILLmanager's catalogue in the test database, mirrored into the simulated host's soft.edit. */
export class Catalog {
  private readonly items = new Map<number, EnumItem[]>();

  constructor(private readonly db: MariaDb) {}

  async itemtype(id: number, intname: string): Promise<void> {
    await this.db.exec('INSERT INTO itemtype (id, intname) VALUES (?, ?)', [id, intname]);
  }

  /** A tariff plan; `itemtype` is its product type's itemtype.id (what item → pricelist → itemtype reads). */
  async tariff(id: number, itemtype: number | null = null): Promise<void> {
    await this.db.exec("INSERT INTO pricelist (id, parent, intname, itemtype, addontype, billtype, active) VALUES (?, NULL, NULL, ?, NULL, 1, 'on')", [id, itemtype]);
  }

  async option(tariff: number, o: OptionSpec): Promise<void> {
    for (const i of o.items ?? []) await this.db.exec('INSERT INTO enumerationitem (id, intname) VALUES (?, ?)', [i.id, i.intname]);
    await this.db.exec(
      'INSERT INTO pricelist (id, parent, intname, itemtype, addontype, billtype, active, compound, addonlimit, addonbool, enumerationitem) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [o.id, tariff, o.intname ?? null, o.itemtype ?? null, o.addontype, o.billtype === undefined ? 2 : o.billtype, o.active ?? 'on', o.compound ?? null, o.addonlimit ?? null, o.addonbool ?? null, o.defaultItem ?? null],
    );
    this.items.set(o.id, o.items ?? []);
  }

  /**
   * A service of `tariff` with its option choices, in the database and in the simulated host's
   * soft.edit (addon_<option id> = item id or amount, with an slist for enumerations).
   */
  async service(sim: SimulatedHost | null, id: number, tariff: number, choices: ChoiceSpec[]): Promise<void> {
    await this.db.exec('INSERT INTO item (id, parent, pricelist) VALUES (?, NULL, ?)', [id, tariff]);
    for (const c of choices) {
      await this.db.exec('INSERT INTO item (id, parent, pricelist, intvalue, addonlimit, boolvalue, enumerationitem) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        c.id,
        id,
        c.option,
        c.intvalue ?? null,
        c.addonlimit ?? null,
        c.boolvalue ?? null,
        c.enumerationitem ?? null,
      ]);
    }
    const shown: SimFormOption[] = choices.map((c) => {
      const value = c.enumerationitem != null ? String(c.enumerationitem) : (c.boolvalue ?? String(c.intvalue ?? ''));
      return { id: c.option, value, choices: (this.items.get(c.option) ?? []).map((i) => ({ id: i.id, name: i.name })) };
    });
    sim?.setFormOptions(id, shown);
  }

  async param(item: number, intname: string, value: string): Promise<void> {
    await this.db.exec('INSERT INTO itemparam (item, intname, value) VALUES (?, ?, ?)', [item, intname, value]);
  }
}

/** The seed's "Control panel license" enumeration items (host item ids are arbitrary). */
export const SEED_PANEL_ITEMS: EnumItem[] = [
  { id: 398, intname: '3541', name: 'ISPmanager Lite, Pro, Host' },
  { id: 399, intname: '4601', name: 'ISPmanager Business' },
  { id: 400, intname: 'nopanel', name: 'Without control panel' },
];
