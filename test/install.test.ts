// install.sh end to end: installs into a temporary MGR_ROOT (with a fake mgrctl that records its
// argv and knows processing module 1), runs the installed executable the way BILLmanager does,
// runs the installer again over existing data, then uninstalls. A copy of the checkout shows the
// rebuild of a stale dist/. Nothing outside the temporary directory is touched.
import { expect } from 'chai';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_TYPES } from '../src/errors.js';
import { childrenNamed, parseXml, type XmlElement } from '../src/xml.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INSTALL = join(ROOT, 'install.sh');
const XML_NAME = 'billmgr_mod_pmisplicense.xml';
const PANEL_XML_NAME = 'billmgr_mod_pmisplicense_panel.xml';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const isRoot = process.getuid?.() === 0;

const mode = (p: string) => statSync(p).mode & 0o777;

/** The environment of a run: the caller's, minus anything that could point the module elsewhere. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['PMISPLICENSE_DB', 'PMISPLICENSE_LOG', 'PMISPLICENSE_MGRCTL', 'PMISPLICENSE_NOW', 'NODE_PATH', 'NODE_OPTIONS']) {
    delete env[k];
  }
  return env;
}

function explain(r: SpawnSyncReturns<string>): string {
  return `exit ${r.status} (signal ${r.signal})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

describe('install.sh', function () {
  this.timeout(300_000);

  let tmp: string;
  let mgr: string;
  let cronDir: string;
  let rotateDir: string;
  let callsFile: string;

  const paths = () => ({
    lib: join(mgr, 'lib', 'pmisplicense'),
    exe: join(mgr, 'lib', 'pmisplicense', 'dist', 'pmisplicense'),
    link: join(mgr, 'processing', 'pmisplicense'),
    xml: join(mgr, 'etc', 'xml', XML_NAME),
    db: join(mgr, 'var', 'pmisplicense.db'),
    log: join(mgr, 'var', 'pmisplicense.log'),
    cron: join(cronDir, 'pmisplicense'),
    rotate: join(rotateDir, 'pmisplicense'),
    panelXml: join(mgr, 'etc', 'xml', PANEL_XML_NAME),
    handler: join(mgr, 'addon', 'pmisplicense_panel'),
  });

  function install(args: string[] = [], root = mgr, script = INSTALL): SpawnSyncReturns<string> {
    return spawnSync(script, args, {
      cwd: tmpdir(),
      env: cleanEnv({ MGR_ROOT: root, PMISPLICENSE_CRON_DIR: cronDir, PMISPLICENSE_LOGROTATE_DIR: rotateDir }),
      encoding: 'utf8',
    });
  }

  /** A BILLmanager directory with a fake mgrctl: records each call's argv, one call a line, and
   *  knows processing module 1 (what an admin command's --module check reads). */
  function fakeBillmanager(root: string): void {
    mkdirSync(join(root, 'sbin'), { recursive: true });
    writeFileSync(
      join(root, 'sbin', 'mgrctl'),
      `#!/bin/sh
printf '%s\\n' "$*" >> '${callsFile}'
case " $* " in
  *" processing.edit elid=1 "*) echo '<doc><url>https://127.0.0.1:9/billmgr</url><username>u</username><password>p-secret</password></doc>' ;;
  *" processing.edit "*) echo '<doc><error type="missed" object="elid"><msg>not found</msg></error></doc>' ;;
esac
`,
    );
    chmodSync(join(root, 'sbin', 'mgrctl'), 0o755);
  }

  function mgrctlCalls(): string[] {
    return existsSync(callsFile) ? readFileSync(callsFile, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** Runs the installed entry point directly (shebang, symlink), from an unrelated directory. */
  function runInstalled(args: string[]): SpawnSyncReturns<string> {
    return spawnSync(paths().link, args, { cwd: '/', env: cleanEnv({ MGR_ROOT: mgr }), encoding: 'utf8' });
  }

  /** How many times the fake mgrctl was asked to reload BILLmanager. */
  function reloads(): number {
    return mgrctlCalls().filter((l) => l === '-m billmgr -R').length;
  }

  function leftovers(): string[] {
    return readdirSync(join(mgr, 'lib')).filter((n) => n.startsWith('.pmisplicense'));
  }

  before(function () {
    if (!existsSync(join(ROOT, 'dist', 'pmisplicense'))) {
      const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (b.status !== 0) throw new Error(`npm run build failed\n${explain(b)}`);
    }
    tmp = mkdtempSync(join(tmpdir(), 'pmisplicense-install-'));
    mgr = join(tmp, 'mgr5');
    cronDir = join(tmp, 'cron.d');
    rotateDir = join(tmp, 'logrotate.d');
    callsFile = join(tmp, 'mgrctl.calls');
    fakeBillmanager(mgr);
  });

  after(function () {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('prints its usage with --help and refuses unknown options', function () {
    const h = spawnSync(INSTALL, ['--help'], { encoding: 'utf8' });
    expect(h.status, explain(h)).to.equal(0);
    expect(h.stdout).to.include('--uninstall');
    expect(h.stdout).to.include('--force');
    const bad = spawnSync(INSTALL, ['--frobnicate'], { encoding: 'utf8' });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.include('--frobnicate');
  });

  it('refuses a MGR_ROOT without sbin/mgrctl (a mistyped path) and creates nothing there', function () {
    const typo = join(tmp, 'mgr5-typo');
    const r = install([], typo);
    expect(r.status, explain(r)).to.equal(1);
    expect(r.stderr).to.include(`${typo} has no sbin/mgrctl`);
    expect(r.stderr).to.include('--force');
    expect(existsSync(typo)).to.equal(false);
    expect(existsSync(join(cronDir, 'pmisplicense'))).to.equal(false);
    expect(existsSync(join(rotateDir, 'pmisplicense'))).to.equal(false);
  });

  it('installs the runtime, the executable link, the XML, the data files and the cron entry', function () {
    const r = install();
    expect(r.status, explain(r)).to.equal(0);
    const p = paths();

    // runtime files under lib/
    expect(statSync(p.exe).isFile()).to.equal(true);
    expect(JSON.parse(readFileSync(join(p.lib, 'package.json'), 'utf8')).type).to.equal('module');
    expect(existsSync(join(p.lib, 'dist', 'sandbox-mgrctl'))).to.equal(existsSync(join(ROOT, 'dist', 'sandbox-mgrctl')));
    for (const pkg of ['better-sqlite3', 'bindings', 'file-uri-to-path']) {
      expect(existsSync(join(p.lib, 'node_modules', pkg, 'package.json')), pkg).to.equal(true);
    }
    expect(existsSync(join(p.lib, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).to.equal(true);
    expect(existsSync(join(p.lib, 'node_modules', 'prebuild-install')), 'install-time only').to.equal(false);
    expect(existsSync(join(p.lib, 'node_modules', 'better-sqlite3', 'deps')), 'addon sources').to.equal(false);

    // the executable BILLmanager runs: a symlink to the root-owned 0755 entry point
    expect(lstatSync(p.link).isSymbolicLink()).to.equal(true);
    expect(readlinkSync(p.link)).to.equal(p.exe);
    expect(realpathSync(p.link)).to.equal(realpathSync(p.exe));
    expect(mode(p.exe)).to.equal(0o755);
    if (isRoot) expect(statSync(p.exe).uid).to.equal(0);

    // module description, identical to the project's
    expect(readFileSync(p.xml, 'utf8')).to.equal(readFileSync(join(ROOT, 'etc', 'xml', XML_NAME), 'utf8'));
    expect(mode(p.xml)).to.equal(0o644);

    // data files: created empty, private
    for (const f of [p.db, p.log]) {
      expect(statSync(f).size, f).to.equal(0);
      expect(mode(f), f).to.equal(0o600);
    }

    // daily maintenance as root, with MGR_ROOT in its environment
    expect(mode(p.cron)).to.equal(0o644);
    const cron = readFileSync(p.cron, 'utf8');
    expect(cron).to.match(new RegExp(`^MGR_ROOT=${mgr}$`, 'm'));
    const jobs = cron.split('\n').filter((l) => /^\d/.test(l));
    expect(jobs).to.have.length(1);
    expect(jobs[0]).to.match(/^\d{1,2} \d{1,2} \* \* \* root /);
    expect(jobs[0]).to.include(`root ${p.link} maintain`);
    // stdout dropped, stderr (one line per failure) kept so that cron mails it
    expect(jobs[0]).to.match(/ maintain >\/dev\/null$/);
    expect(jobs[0]).to.not.include('2>');

    // log rotation of the installed log, private like the log itself
    expect(mode(p.rotate)).to.equal(0o644);
    const rotate = readFileSync(p.rotate, 'utf8');
    expect(rotate).to.include(`${p.log} {`);
    expect(rotate).to.match(new RegExp(`create 0600 ${isRoot ? 'root root' : '\\S+ \\S+'}`));
    expect(rotate).to.not.include('@');

    // the panel pages: their XML when the checkout has it, and the handler COREmanager runs
    expect(existsSync(p.panelXml)).to.equal(existsSync(join(ROOT, 'etc', 'xml', PANEL_XML_NAME)));
    expect(mode(p.handler)).to.equal(0o750);
    const handler = readFileSync(p.handler, 'utf8');
    expect(handler).to.match(/^#!\/bin\/sh\n/);
    expect(handler).to.include(`exec '${p.link}' panel "$@"`);
    expect(handler).to.include(`MGR_ROOT='${mgr}'`);
    expect(spawnSync('sh', ['-n', p.handler]).status).to.equal(0);

    // says what it installed
    expect(r.stdout).to.include(`installed pmisplicense ${VERSION} into ${mgr}`);
    expect(leftovers()).to.deep.equal([]);
    expect(readdirSync(join(mgr, 'addon')).filter((n) => n.startsWith('.'))).to.deep.equal([]);
  });

  it('the installed executable knows its version and prints its help', function () {
    const v = runInstalled(['--version']);
    expect(v.status, explain(v)).to.equal(0);
    expect(v.stdout).to.equal(`${VERSION}\n`);
    const h = runInstalled(['-h']);
    expect(h.status, explain(h)).to.equal(0);
    expect(h.stdout).to.include('Usage: pmisplicense <command>');
  });

  it('the installed executable answers --command features', function () {
    const r = runInstalled(['--command', 'features']);
    expect(r.status, explain(r)).to.equal(0);
    expect(r.stdout).to.include('<doc>');
    expect(r.stdout).to.include('<feature name="open"/>');
    expect(r.stdout).to.include('<itemtype name="soft"/>');
  });

  // SPEC 5.9: BILLmanager starts the module with its own PATH, which need not contain node.
  it('the executable, the panel handler and the cron command run with a PATH that has no node', function () {
    const p = paths();
    const noNode = { PATH: '/nonexistent', MGR_ROOT: mgr };
    const f = spawnSync(p.link, ['--command', 'features'], { cwd: '/', env: noNode, encoding: 'utf8' });
    expect(f.status, explain(f)).to.equal(0);
    expect(f.stdout).to.include('<feature name="open"/>');
    // It names the node it was installed with, by absolute path.
    const firstLine = readFileSync(p.exe, 'utf8').split('\n')[0]!;
    expect(firstLine).to.match(/^#!\/\S+$/).and.to.not.include('/usr/bin/env');
    expect(spawnSync(firstLine.slice(2), ['-e', 'process.stdout.write(process.version)'], { encoding: 'utf8' }).stdout).to.match(/^v\d+\./);

    // COREmanager's handler environment: the request in PARAM_*, the user in AUTH_*, a page on stdin.
    const h = spawnSync(p.handler, [], {
      cwd: '/',
      env: { PATH: '/nonexistent', PARAM_func: 'pmisplicense.periods', PARAM_plid: '1', AUTH_USER: 'root', AUTH_LEVEL: '30' },
      input: '<doc/>',
      encoding: 'utf8',
    });
    expect(h.status, explain(h)).to.equal(0);
    expect(h.stdout.trimStart()).to.match(/^(<\?xml[^>]*\?>\s*)?<doc[\s>]/);

    const job = readFileSync(p.cron, 'utf8').split('\n').find((l) => /^\d/.test(l))!.split(/\s+/);
    const c = spawnSync('/bin/sh', ['-c', job.slice(6).join(' ')], { cwd: '/', env: noNode, encoding: 'utf8' });
    expect(c.status, explain(c)).to.equal(0);
  });

  it('the installed runtime loads better-sqlite3 from lib/, not from the checkout', function () {
    const p = paths();
    const script =
      'const { createRequire } = require("module");' +
      `const req = createRequire(${JSON.stringify(p.exe)});` +
      'const where = req.resolve("better-sqlite3");' +
      'const Database = req("better-sqlite3");' +
      'const db = new Database(":memory:"); db.prepare("select 1").get(); db.close();' +
      'console.log(where);';
    const r = spawnSync(process.execPath, ['-e', script], { cwd: '/', env: cleanEnv({}), encoding: 'utf8' });
    expect(r.status, explain(r)).to.equal(0);
    expect(r.stdout.trim().startsWith(join(p.lib, 'node_modules', 'better-sqlite3') + '/')).to.equal(true);
  });

  it('the installed admin tool works on the database the installer created', function () {
    const add = runInstalled(['periods', 'add', '--module', '1', '--source', '1', '--target', '12']);
    expect(add.status, explain(add)).to.equal(0);
    const id = Number(add.stdout.trim());
    expect(Number.isInteger(id) && id > 0, add.stdout).to.equal(true);
    const list = runInstalled(['periods', 'list', '--module', '1', '--json']);
    expect(list.status, explain(list)).to.equal(0);
    expect(JSON.parse(list.stdout)).to.deep.equal([{ id, source: 1, target: 12, itemtype: null, pricelist: null }]);
    expect(mode(paths().db)).to.equal(0o600);
  });

  it('the cron job runs as written, with only the environment cron gives it', function () {
    const cron = readFileSync(paths().cron, 'utf8').split('\n');
    const env: Record<string, string> = {};
    for (const l of cron) {
      const m = /^([A-Z_]+)=(.*)$/.exec(l);
      if (m) env[m[1]!] = m[2]!;
    }
    const job = cron.find((l) => /^\d/.test(l))!.split(/\s+/);
    const command = job.slice(6).join(' '); // minute hour day month weekday user command…
    const r = spawnSync(env.SHELL ?? '/bin/sh', ['-c', command], { cwd: '/', env, encoding: 'utf8' });
    expect(r.status, explain(r)).to.equal(0);
  });

  it('reloads BILLmanager with mgrctl -m billmgr -R', function () {
    expect(reloads()).to.equal(1);
  });

  it('runs again over an existing installation and keeps the database and log content', function () {
    const p = paths();
    const dbMarker = Buffer.from([0x53, 0x51, 0x4c, 0x00, 0x2a, 0xff, 0x0a]); // binary, with NUL and newline
    writeFileSync(p.db, dbMarker);
    writeFileSync(p.log, 'Jan 01 00:00:00 [1] pmisplicense INFO marker line\n');
    chmodSync(p.db, 0o644); // loosened by someone: the installer tightens it again
    const cronBefore = readFileSync(p.cron, 'utf8');

    const r = install();
    expect(r.status, explain(r)).to.equal(0);
    expect(readFileSync(p.db).equals(dbMarker)).to.equal(true);
    expect(readFileSync(p.log, 'utf8')).to.equal('Jan 01 00:00:00 [1] pmisplicense INFO marker line\n');
    expect(mode(p.db)).to.equal(0o600);
    expect(mode(p.log)).to.equal(0o600);
    expect(readFileSync(p.cron, 'utf8')).to.equal(cronBefore);
    expect(readlinkSync(p.link)).to.equal(p.exe);
    expect(mode(p.exe)).to.equal(0o755);
    expect(leftovers()).to.deep.equal([]);
    expect(reloads()).to.equal(2);

    const f = runInstalled(['--command', 'features']);
    expect(f.status, explain(f)).to.equal(0);
    expect(f.stdout).to.include('<feature name="open"/>');
  });

  it('--uninstall removes the module but keeps the database and the log', function () {
    const p = paths();
    const db = readFileSync(p.db);
    const log = readFileSync(p.log);

    const r = install(['--uninstall']);
    expect(r.status, explain(r)).to.equal(0);
    expect(() => lstatSync(p.link)).to.throw(/ENOENT/);
    expect(existsSync(p.lib)).to.equal(false);
    expect(existsSync(p.xml)).to.equal(false);
    expect(existsSync(p.panelXml)).to.equal(false);
    expect(existsSync(p.handler)).to.equal(false);
    expect(existsSync(p.cron)).to.equal(false);
    expect(existsSync(p.rotate)).to.equal(false);
    expect(leftovers()).to.deep.equal([]);
    expect(readFileSync(p.db).equals(db)).to.equal(true);
    expect(readFileSync(p.log).equals(log)).to.equal(true);
    expect(r.stdout).to.include(`kept ${p.db}`);
    expect(r.stdout).to.include('pool of paid licenses');
    expect(reloads()).to.equal(3);

    // uninstalling twice is harmless
    const again = install(['--uninstall']);
    expect(again.status, explain(again)).to.equal(0);
    expect(readFileSync(p.db).equals(db)).to.equal(true);
  });

  it('with --force installs where there is no mgrctl, and does not try to reload BILLmanager', function () {
    const bare = join(tmp, 'bare');
    const before = reloads();
    const r = install(['--force'], bare);
    expect(r.status, explain(r)).to.equal(0);
    expect(r.stderr).to.include('installing anyway (--force)');
    expect(r.stdout).to.include('nothing to reload');
    expect(existsSync(join(bare, 'processing', 'pmisplicense'))).to.equal(true);
    expect(reloads()).to.equal(before); // the other MGR_ROOT's fake was not called
    const u = install(['--uninstall'], bare);
    expect(u.status, explain(u)).to.equal(0);
  });

  describe('from a checkout whose dist/ is older than its sources', function () {
    let checkout: string;
    let root: string;

    before(function () {
      // A copy of the checkout (node_modules shared through a symlink), with a panel XML of its own.
      checkout = join(tmp, 'checkout');
      mkdirSync(checkout);
      for (const f of ['install.sh', 'package.json', 'src', 'scripts', 'etc', 'dist']) cpSync(join(ROOT, f), join(checkout, f), { recursive: true, preserveTimestamps: true });
      symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
      writeFileSync(join(checkout, 'etc', 'xml', PANEL_XML_NAME), '<?xml version="1.0" encoding="UTF-8"?>\n<mgrdata><handler name="pmisplicense_panel" type="xml"/></mgrdata>\n');
      const old = new Date(Date.now() - 3600_000);
      for (const f of readdirSync(join(checkout, 'dist'), { recursive: true }) as string[]) utimesSync(join(checkout, 'dist', f), old, old);
      const now = new Date();
      utimesSync(join(checkout, 'src', 'cli.ts'), now, now); // the source update a `git pull` brings
      root = join(tmp, 'mgr-stale');
      fakeBillmanager(root);
    });

    it('rebuilds dist/ before installing, says why, and installs the panel XML it finds', function () {
      const exe = join(checkout, 'dist', 'pmisplicense');
      const before = statSync(exe).mtimeMs;
      const r = install([], root, join(checkout, 'install.sh'));
      expect(r.status, explain(r)).to.equal(0);
      expect(r.stdout).to.match(/dist\/ is older than the sources \(src\/\S+ changed since the last build\): building it/);
      expect(statSync(exe).mtimeMs).to.be.greaterThan(before);
      expect(readFileSync(join(root, 'etc', 'xml', PANEL_XML_NAME), 'utf8')).to.equal(readFileSync(join(checkout, 'etc', 'xml', PANEL_XML_NAME), 'utf8'));
      expect(mode(join(root, 'etc', 'xml', PANEL_XML_NAME))).to.equal(0o644);
    });

    it('a second install is harmless: no rebuild, same files', function () {
      const handler = readFileSync(join(root, 'addon', 'pmisplicense_panel'), 'utf8');
      const r = install([], root, join(checkout, 'install.sh'));
      expect(r.status, explain(r)).to.equal(0);
      expect(r.stdout).to.not.include('building it');
      expect(readFileSync(join(root, 'addon', 'pmisplicense_panel'), 'utf8')).to.equal(handler);
    });

    it('refuses a module XML that is not XML 1.0 (a control character, U+FFFF in a name), checked with the module\'s parser, and installs nothing', function () {
      const panelXml = join(checkout, 'etc', 'xml', PANEL_XML_NAME);
      const good = readFileSync(panelXml, 'utf8');
      const installed = readFileSync(join(root, 'etc', 'xml', PANEL_XML_NAME), 'utf8');
      try {
        for (const bad of ['<mgrdata><handler name="p\u0001" type="xml"/></mgrdata>\n', '<mgrdata><handler\uFFFF name="p"/></mgrdata>\n', '<!DOCTYPE m><mgrdata/>\n']) {
          writeFileSync(panelXml, bad);
          const r = install([], root, join(checkout, 'install.sh'));
          expect(r.status, explain(r)).to.equal(1);
          expect(r.stderr).to.include(`etc/xml/${PANEL_XML_NAME} is not well-formed XML`);
          expect(readFileSync(join(root, 'etc', 'xml', PANEL_XML_NAME), 'utf8')).to.equal(installed);
        }
      } finally {
        writeFileSync(panelXml, good);
      }
    });

    it('refuses, saying why, when the stale dist/ cannot be rebuilt, and installs nothing new', function () {
      const marker = readFileSync(join(root, 'lib', 'pmisplicense', 'dist', 'pmisplicense'));
      writeFileSync(join(checkout, 'scripts', 'build.mjs'), "console.error('esbuild: not installed'); process.exit(1);\n");
      const r = install([], root, join(checkout, 'install.sh'));
      expect(r.status, explain(r)).to.equal(1);
      expect(r.stderr).to.match(/dist\/ is older than the sources .* and 'npm run build' failed/);
      expect(readFileSync(join(root, 'lib', 'pmisplicense', 'dist', 'pmisplicense')).equals(marker)).to.equal(true);
    });

    it('--uninstall removes the panel XML and the handler', function () {
      const u = install(['--uninstall'], root, join(checkout, 'install.sh'));
      expect(u.status, explain(u)).to.equal(0);
      expect(existsSync(join(root, 'etc', 'xml', PANEL_XML_NAME))).to.equal(false);
      expect(existsSync(join(root, 'addon', 'pmisplicense_panel'))).to.equal(false);
    });
  });
});

describe('etc/xml/billmgr_mod_pmisplicense.xml', function () {
  const doc = parseXml(readFileSync(join(ROOT, 'etc', 'xml', XML_NAME), 'utf8'));
  const msgs = (lang: string, section: string): Record<string, string> => {
    const l = childrenNamed(doc, 'lang').find((e) => e.attrs.name === lang);
    const m = l && childrenNamed(l, 'messages').find((e) => e.attrs.name === section);
    return Object.fromEntries((m ? childrenNamed(m, 'msg') : []).map((e) => [e.attrs.name ?? '', e.text]));
  };
  const find = (el: XmlElement, pred: (e: XmlElement) => boolean): XmlElement | undefined =>
    pred(el) ? el : el.children.map((c) => find(c, pred)).find(Boolean);

  it('declares the processing module for item type soft', function () {
    expect(doc.name).to.equal('mgrdata');
    const plugin = childrenNamed(doc, 'plugin').find((e) => e.attrs.name === 'pmisplicense');
    expect(plugin, 'plugin').to.not.equal(undefined);
    expect(find(plugin!, (e) => e.name === 'group')?.text).to.equal('processing_module');
    expect(find(plugin!, (e) => e.name === 'type')?.attrs.name).to.equal('soft');
  });

  it('has the connection form: url, username and a password field', function () {
    const form = childrenNamed(doc, 'metadata').find((e) => e.attrs.name === 'processing.edit.pmisplicense');
    expect(form?.attrs.type).to.equal('form');
    const input = (n: string) => find(form!, (e) => e.name === 'input' && e.attrs.name === n);
    expect(input('url')?.attrs.type).to.equal('text');
    expect(input('username')?.attrs.type).to.equal('text');
    expect(input('password')?.attrs.type).to.equal('password');
  });

  for (const lang of ['en', 'ru']) {
    it(`has ${lang} texts and hints for every field and the official URL as placeholder`, function () {
      const m = msgs(lang, 'processing.edit.pmisplicense');
      for (const f of ['url', 'username', 'password']) {
        expect(m[f], f).to.be.a('string').and.not.equal('');
        expect(m[`hint_${f}`], `hint_${f}`).to.be.a('string').and.not.equal('');
      }
      expect(m.placeholder_url).to.equal('https://api.ispsystem.com/manager/billmgr');
      expect(m.hint_url).to.include('https://api.ispsystem.com/manager/billmgr');
      expect(msgs(lang, 'plugin').desc_short_pmisplicense).to.be.a('string').and.not.equal('');
    });

    it(`has a ${lang} msg_error text for every error type the module emits`, function () {
      const m = msgs(lang, 'msgerror');
      for (const t of ERROR_TYPES) expect(m[`msg_error_${t}`], `msg_error_${t}`).to.be.a('string').and.not.equal('');
    });

    // "Periods comparison" is a panel page (SPEC 8; texts checked in test/panel/xml.test.ts): the
    // module declares no customparam, so it ships no texts for one.
    it(`has no ${lang} texts for a processing-module parameter form that does not exist`, function () {
      for (const n of ['processing.customparam.names.pmisplicense', 'processing.customparam.edit.pmisplicense']) expect(msgs(lang, n), n).to.deep.equal({});
    });
  }
});
