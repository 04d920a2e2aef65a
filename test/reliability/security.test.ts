// Reliability, part 5: security checks (SPEC 4, 6, 7).
// - No secret (the module password, authinfo, license keys) in the log, stdout, stderr, the
//   errorxml sent to the host, the argv of any mgrctl process, or the state file, over a whole
//   lifecycle and over failures whose upstream message echoes secrets back.
// - The state file and the log are created 0600, even under umask 000.
// - TLS verification cannot be turned off by configuration.
// - SQL only through bound parameters: a static check of src/, and hostile strings end to end.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SECRET_ENV } from '../../src/host/mgrctl.js';
import { REPO_ROOT } from '../support/fake-host.js';
import { pooled } from '../support/pool.js';
import { SANDBOX_PASSWORD, SANDBOX_USER, World, type RunResult } from '../support/world.js';
import { recordCase } from './record.js';

const AUTHINFO = `${SANDBOX_USER}:${SANDBOX_PASSWORD}`;

/** Every place a secret must never reach, gathered from one world. */
class Exposure {
  readonly texts: Array<{ where: string; text: string }> = [];
  add(where: string, r: RunResult): RunResult {
    this.texts.push({ where: `${where}: stdout`, text: r.stdout }, { where: `${where}: stderr`, text: r.stderr });
    return r;
  }
  /** The log, every errorxml, every mgrctl argv, and the state file's bytes. */
  all(w: World): Array<{ where: string; text: string }> {
    const extra = [{ where: 'log', text: w.logText() }];
    for (const c of w.host.sim.calls()) extra.push({ where: `mgrctl argv (${c.func})`, text: c.argv.join('\u0000') });
    for (const f of existsSync(w.dir) ? readdirSync(w.dir).filter((n) => n.startsWith('pmisplicense.db')) : []) {
      extra.push({ where: `state file ${f}`, text: readFileSync(join(w.dir, f)).toString('latin1') });
    }
    return [...this.texts, ...extra];
  }
}

function expectNoSecrets(places: Array<{ where: string; text: string }>, secrets: Set<string>): number {
  let checked = 0;
  for (const s of secrets) {
    expect(s.length, 'a secret worth looking for').to.be.at.least(8);
    const forms = new Set([s, encodeURIComponent(s)]);
    for (const p of places) {
      for (const f of forms) {
        expect(p.text.includes(f), `a secret (${s === SANDBOX_PASSWORD ? 'password' : s === AUTHINFO ? 'authinfo' : 'license key'}) in ${p.where}`).to.equal(false);
        checked++;
      }
    }
  }
  return checked;
}

describe('reliability: security', function () {
  this.timeout(600_000);

  // --- secrets ------------------------------------------------------------------------------------

  describe('no secret in output, log, errorxml, argv or state file', () => {
    let w: World;
    const ex = new Exposure();
    const keys = new Set<string>();
    const noteKeys = () => {
      for (const l of w.sandbox.licenses()) if (l.lickey) keys.add(l.lickey);
    };
    const run = async (where: string, p: Promise<RunResult>, code = 0) => {
      const r = ex.add(where, await p);
      expect(r.code, `${where}: ${r.stdout}${r.stderr}`).to.equal(code);
      noteKeys();
      return r;
    };
    /** The log is unopenable for some steps: everything goes to stderr, where it is checked too. */
    const toStderr = () => ({ PMISPLICENSE_LOG: join(w.dir, 'pmisplicense.db', 'log') });

    before(async () => {
      w = await World.create({ day: '2026-01-10' });
    });
    after(async () => {
      await w?.close();
    });

    it('a full lifecycle: open new, open re-use, retry, sync_item, prolong, setparam (IP, panel), close, maintain, pool list', async () => {
      w.addService({ id: 10, ip: '203.0.113.10', expiredate: '2026-03-10' });
      await run('open new', w.command('open', { item: 10, ro: 1 }));
      const lic10 = w.store((s) => s.licenseOfService(10))!.upstreamId;
      expect(w.host.sim.service(10)!.params.lickey).to.equal(w.sandbox.license(lic10)!.lickey);

      const pool = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', ip: '198.51.100.1' });
      noteKeys(); // the key the pooled license had before re-use
      w.addService({ id: 11, ip: '203.0.113.11', expiredate: '2026-02-10' });
      await run('open re-use (log on stderr)', w.command('open', { item: 11, ro: 2, env: toStderr() }));
      expect(w.store((s) => s.licenseOfService(11))!.upstreamId).to.equal(pool);
      expect(w.host.sim.service(11)!.params.lickey).to.equal(w.sandbox.license(pool)!.lickey);
      expect(ex.texts.at(-1)!.text, 'the log really went to stderr').to.include('re-used pooled license');

      await run('open retry', w.command('open', { item: 11, ro: 3 }));
      await run('sync_item', w.command('sync_item', { item: 10 }));

      w.setDay('2026-02-06');
      const prolongs = w.sandbox.prolongs();
      await run('prolong (log on stderr)', w.command('prolong', { item: 10, ro: 4, env: toStderr() }));
      expect(w.sandbox.prolongs()).to.equal(prolongs + 1);

      w.host.sim.updateService(11, { ip: '203.0.113.12' });
      const refused = await run('setparam IP too soon', w.command('setparam', { item: 11, ro: 5 }), 1);
      expect(refused.stdout).to.match(/type="ipchange"/);

      w.host.sim.updateService(10, { panel: '4601' });
      await run('setparam panel (log on stderr)', w.command('setparam', { item: 10, ro: 6, env: toStderr() }));
      const lic10b = w.store((s) => s.licenseOfService(10))!.upstreamId;
      expect(lic10b).to.not.equal(lic10);
      expect(w.host.sim.service(10)!.params.lickey).to.equal(w.sandbox.license(lic10b)!.lickey);

      await run('close', w.command('close', { item: 11, ro: 7 }));
      await run('maintain', w.exec(['maintain']));
      await run('pool list', w.exec(['pool', 'list', '--json']));
      await run('features', w.command('features'));
      await run('check_connection', w.command('check_connection', { stdin: `<doc><processingmodule><url>${w.sandbox.url}</url><username>${SANDBOX_USER}</username><password>${SANDBOX_PASSWORD}</password></processingmodule></doc>` }));

      expect(keys.size).to.be.at.least(4);
      const places = ex.all(w);
      const checked = expectNoSecrets(places, new Set([SANDBOX_PASSWORD, AUTHINFO, ...keys]));
      // The log masks, it does not drop: authinfo was sent, and shows as ***.
      expect(w.logText()).to.not.match(/authinfo=(?!\*\*\*)/).and.to.not.match(/password=(?!\*\*\*)/i);
      recordCase({ suite: 'security', name: 'full lifecycle: no secret anywhere', ok: true, counts: { processes: ex.texts.length / 2, secrets: 2 + keys.size, places: places.length, checks: checked }, outcome: 'no password, authinfo or key in stdout, stderr, log, errorxml, mgrctl argv or state file' });
    });

    it('license keys reach the host only through mgrctl -e value=$PMISPLICENSE_SECRET, never in argv', () => {
      const saves = w.host.sim.calls('service.saveparam').filter((c) => c.argv.includes('name=lickey'));
      expect(saves.length).to.be.at.least(3);
      for (const c of saves) {
        expect(c.secretFromEnv, c.argv.join(' ')).to.equal(true);
        expect(c.argv.slice(-2)).to.deep.equal(['-e', `value=$${SECRET_ENV}`]);
        expect(c.argv.some((a) => a.startsWith('value='))).to.equal(true);
        for (const k of keys) expect(c.argv.join(' ')).to.not.include(k);
      }
      // Nothing else ever went through the environment form.
      expect(w.host.sim.calls().filter((c) => c.secretFromEnv && !c.argv.includes('name=lickey'))).to.deep.equal([]);
      recordCase({ suite: 'security', name: 'keys via mgrctl -e, never argv', ok: true, counts: { lickeySaves: saves.length, mgrctlCalls: w.host.sim.calls().length }, outcome: `${saves.length} lickey saves, all via -e value=$${SECRET_ENV}` });
    });

    const ECHOES: Array<{ name: string; inject: (key: string) => Parameters<World['sandbox']['inject']>[0]; command: 'sync_item' | 'prolong'; type: string }> = [
      { name: 'upstream error echoing password, authinfo and key (sync_item)', inject: (k) => ({ kind: 'error', func: 'soft.edit', type: 'value', object: 'elid', msg: `Bad request authinfo=${AUTHINFO} password ${SANDBOX_PASSWORD} key ${k}` }), command: 'sync_item', type: 'upstream' },
      { name: 'upstream error echoing them as XML (prolong, errorxml)', inject: (k) => ({ kind: 'error', func: 'soft.edit', type: 'internal', msg: `<lickey>${k}</lickey> <password>${SANDBOX_PASSWORD}</password> bare ${k}` }), command: 'prolong', type: 'upstream' },
      { name: 'credentials refused, the message echoing the password (prolong)', inject: (k) => ({ kind: 'error', func: 'soft.edit', type: 'auth', msg: `Wrong password "${SANDBOX_PASSWORD}" for ${SANDBOX_USER}; key=${k}` }), command: 'prolong', type: 'auth' },
      { name: 'truncated soft.edit reply (the key cut in the middle)', inject: () => ({ kind: 'brokenxml', func: 'soft.edit' }), command: 'sync_item', type: 'connection' },
    ];
    let ro = 100;
    for (const c of ECHOES) {
      it(`${c.name}: nothing secret in stdout, stderr, log or errorxml`, async () => {
        const key = w.host.sim.service(10)!.params.lickey!;
        expect(key.length).to.be.at.least(8);
        w.sandbox.inject(c.inject(key));
        const r = ex.add(c.name, c.command === 'sync_item' ? await w.command('sync_item', { item: 10 }) : await w.command('prolong', { item: 10, ro: ++ro, env: toStderr() }));
        expect(r.code).to.equal(1);
        expect(r.stdout).to.match(new RegExp(`<error type="${c.type}"`));
        const places = [...ex.all(w)];
        if (c.command === 'prolong') {
          const rec = w.host.sim.runningOperation(ro)!;
          expect(rec.errorxml).to.match(new RegExp(`<error type="${c.type}"`));
          places.push({ where: 'errorxml', text: rec.errorxml! });
        }
        if (c.type !== 'connection') expect(r.stdout, 'the upstream message is carried, masked').to.include('***');
        const checked = expectNoSecrets(places, new Set([SANDBOX_PASSWORD, AUTHINFO, key, ...keys]));
        recordCase({ suite: 'security', name: c.name, ok: true, counts: { processes: 1, checks: checked }, outcome: `exit 1, type=${c.type}, upstream text carried with secrets masked` });
      });
    }

    it('check_connection: the auth error echoing the password does not leak it', async () => {
      w.sandbox.inject({ kind: 'error', func: 'auth', type: 'auth', msg: `Invalid password ${SANDBOX_PASSWORD} (authinfo ${AUTHINFO})` });
      const r = ex.add('check_connection echo', await w.command('check_connection', { stdin: `<doc><processingmodule><url>${w.sandbox.url}</url><username>${SANDBOX_USER}</username><password>${SANDBOX_PASSWORD}</password></processingmodule></doc>` }));
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/<error type="auth"/).and.to.include('Invalid password ***');
      const checked = expectNoSecrets(ex.all(w), new Set([SANDBOX_PASSWORD, AUTHINFO]));
      recordCase({ suite: 'security', name: 'check_connection: echoed password masked', ok: true, counts: { processes: 1, checks: checked }, outcome: 'exit 1, type=auth, password shown as ***' });
    });

    it('a module URL carrying the password in its query: refused, and the password masked on stdout and in errorxml', async () => {
      w.host.sim.addModule({ id: 5, url: `http://198.51.100.7/billmgr?authinfo=${AUTHINFO}&pw=${SANDBOX_PASSWORD}`, username: SANDBOX_USER, password: SANDBOX_PASSWORD });
      w.addService({ id: 12, processingmodule: 5, ip: '203.0.113.13', expiredate: '2026-03-10' });
      const r = ex.add('open, password in URL query', await w.command('open', { item: 12, ro: 200 }));
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/<error type="value" object="url"/).and.to.include('http://198.51.100.7/billmgr?…');
      const s = ex.add('check_connection, password in URL query', await w.command('check_connection', { stdin: `<doc><processingmodule><url>http://198.51.100.7/billmgr?x=${SANDBOX_PASSWORD}</url><username>${SANDBOX_USER}</username><password>${SANDBOX_PASSWORD}</password></processingmodule></doc>` }));
      expect(s.code).to.equal(1);
      const lic = w.sandbox.addLicense({ licname: 'free.lic', ip: '198.51.100.9' });
      const a = ex.add('pool adopt, password in URL query', await w.exec(['pool', 'adopt', '--module', '5', '--license', String(lic.id)]));
      expect(a.code).to.equal(1);
      expect(a.stderr).to.match(/plain http/);
      const places = [...ex.all(w), { where: 'errorxml', text: w.host.sim.runningOperation(200)!.errorxml! }];
      const checked = expectNoSecrets(places, new Set([SANDBOX_PASSWORD, AUTHINFO]));
      w.host.sim.addModule({ id: 5, url: w.sandbox.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD });
      recordCase({ suite: 'security', name: 'password in the URL query', ok: true, counts: { processes: 3, checks: checked }, outcome: 'refused (http to a remote host); password masked on stdout, stderr, errorxml' });
    });
  });

  // --- file modes ----------------------------------------------------------------------------------

  describe('state file and log are created 0600', () => {
    let w: World;
    before(async () => {
      w = await World.create({ day: '2026-01-10' });
    });
    after(async () => {
      await w?.close();
    });

    /** Runs with the process umask at 000, so only the module's own choice of mode protects the files. */
    async function underUmask0<T>(fn: () => Promise<T>): Promise<T> {
      const old = process.umask(0);
      try {
        return await fn();
      } finally {
        process.umask(old);
      }
    }

    const modeOf = (p: string) => statSync(p).mode & 0o777;

    it('protocol path: open on fresh paths creates the DB (and its WAL files) and the log 0600', async () => {
      const dir = mkdtempSync(join(w.dir, 'fresh-'));
      const db = join(dir, 'state.db');
      const logFile = join(dir, 'module.log');
      w.addService({ id: 20, expiredate: '2026-02-10' });
      const r = await underUmask0(() => w.command('open', { item: 20, ro: 1, env: { PMISPLICENSE_DB: db, PMISPLICENSE_LOG: logFile } }));
      expect(r.code, r.stdout).to.equal(0);
      const files = readdirSync(dir);
      expect(files).to.include.members(['state.db', 'module.log']);
      const modes = Object.fromEntries(files.map((f) => [f, modeOf(join(dir, f)).toString(8)]));
      for (const f of files) expect(modes[f], `${f} mode`).to.equal('600');
      recordCase({ suite: 'security', name: 'files 0600 (protocol path)', ok: true, counts: { files: files.length }, outcome: `under umask 000: ${Object.entries(modes).map(([f, m]) => `${f} ${m}`).join(', ')}` });
    });

    it('default paths under $MGR_ROOT/var: created 0600', async () => {
      const root = mkdtempSync(join(w.dir, 'mgr-'));
      mkdirSync(join(root, 'var'));
      w.addService({ id: 21, ip: '203.0.113.21', expiredate: '2026-02-10' });
      const r = await underUmask0(() => w.command('open', { item: 21, ro: 2, env: { MGR_ROOT: root, PMISPLICENSE_DB: undefined, PMISPLICENSE_LOG: undefined } }));
      expect(r.code, r.stdout).to.equal(0);
      for (const f of ['pmisplicense.db', 'pmisplicense.log']) expect(modeOf(join(root, 'var', f)).toString(8), f).to.equal('600');
      recordCase({ suite: 'security', name: 'files 0600 (default paths)', ok: true, counts: { files: 2 }, outcome: 'var/pmisplicense.db and var/pmisplicense.log 600 under umask 000' });
    });

    it('admin path: periods add on a fresh DB creates it 0600', async () => {
      const dir = mkdtempSync(join(w.dir, 'admin-'));
      const db = join(dir, 'state.db');
      const logFile = join(dir, 'admin.log');
      const r = await underUmask0(() => w.exec(['periods', 'add', '--module', '1', '--source', '1', '--target', '12'], { env: { PMISPLICENSE_DB: db, PMISPLICENSE_LOG: logFile } }));
      expect(r.code, r.stderr).to.equal(0);
      for (const f of readdirSync(dir)) expect(modeOf(join(dir, f)).toString(8), f).to.equal('600');
      expect(readdirSync(dir)).to.include.members(['state.db', 'admin.log']);
      recordCase({ suite: 'security', name: 'files 0600 (admin path)', ok: true, counts: { files: readdirSync(dir).length }, outcome: 'periods add: state.db and log 600 under umask 000' });
    });
  });

  // --- TLS ----------------------------------------------------------------------------------------

  describe('TLS verification cannot be turned off', () => {
    let w: World;
    let certDir: string;
    let server: Server;
    let url: string;
    let served = 0;

    before(async () => {
      w = await World.create({ day: '2026-01-10' });
      certDir = mkdtempSync(join(tmpdir(), 'pmisplicense-tls-'));
      const gen = spawnSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')],
        { encoding: 'utf8' },
      );
      expect(gen.status, gen.stderr).to.equal(0);
      // A TLS front for the sandbox: a working licensing server whose certificate nobody vouches for.
      const target = new URL(w.sandbox.url);
      server = createHttpsServer({ key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) }, (req, res) => {
        served++;
        const up = httpRequest({ hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
        });
        req.pipe(up);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`;
    });
    after(async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(certDir, { recursive: true, force: true });
      await w?.close();
    });

    const form = () => `<doc><processingmodule><url>${url}</url><username>${SANDBOX_USER}</username><password>${SANDBOX_PASSWORD}</password></processingmodule></doc>`;
    const INSECURE_ENV = { NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_EXTRA_CA_CERTS: undefined };

    it('check_connection to a self-signed https server is refused even with NODE_TLS_REJECT_UNAUTHORIZED=0; nothing reaches the server', async () => {
      const before = { served, auth: w.sandbox.requests('auth').length };
      const r = await w.command('check_connection', { stdin: form(), env: INSECURE_ENV });
      expect(r.code, r.stdout).to.equal(1);
      expect(r.stdout).to.match(/<error type="connection"/).and.to.match(/TLS certificate is not trusted/);
      expect(served - before.served, 'HTTP requests that reached the server').to.equal(0);
      expect(w.sandbox.requests('auth').length).to.equal(before.auth);
      recordCase({ suite: 'security', name: 'TLS: self-signed refused (check_connection)', ok: true, counts: { processes: 1, requestsServed: served - before.served }, outcome: 'exit 1, type=connection, certificate not trusted, despite NODE_TLS_REJECT_UNAUTHORIZED=0' });
    });

    it('open through a module configured with that server: refused, left for retry, nothing bought', async () => {
      w.host.sim.addModule({ id: 7, url, username: SANDBOX_USER, password: SANDBOX_PASSWORD });
      w.addService({ id: 30, processingmodule: 7, expiredate: '2026-02-10' });
      const before = served;
      const r = await w.command('open', { item: 30, ro: 30, env: INSECURE_ENV });
      expect(r.code, r.stdout).to.equal(1);
      expect(r.stdout).to.match(/<error type="connection"/).and.to.match(/TLS certificate is not trusted/);
      expect(served - before).to.equal(0);
      expect(w.sandbox.purchases()).to.equal(0);
      expect(w.host.sim.runningOperation(30)).to.include({ manual: false });
      recordCase({ suite: 'security', name: 'TLS: self-signed refused (open)', ok: true, counts: { processes: 1, purchases: 0 }, outcome: 'exit 1, type=connection, left for retry, nothing bought' });
    });

    it('control: with the certificate trusted (NODE_EXTRA_CA_CERTS) the same server works, so the refusal was about trust only', async () => {
      const before = served;
      const r = await w.command('check_connection', { stdin: form(), env: { NODE_EXTRA_CA_CERTS: join(certDir, 'cert.pem') } });
      expect(r.code, r.stdout).to.equal(0);
      expect(r.stdout.trim()).to.equal('<doc><ok/></doc>');
      expect(served - before).to.equal(1);
      recordCase({ suite: 'security', name: 'TLS: control with the CA trusted', ok: true, counts: { processes: 1 }, outcome: 'exit 0 when the CA is trusted explicitly' });
    });
  });

  // --- SQL ----------------------------------------------------------------------------------------

  describe('SQL only through bound parameters', () => {
    /**
     * Calls whose SQL argument is not a plain literal, each reviewed: nothing in them comes from
     * input. Keyed by file and the argument's source text.
     */
    const EXCEPTIONS: Array<{ file: string; call: string; arg: string; why: string }> = [
      { file: 'src/pool/store.ts', call: 'pragma', arg: '`user_version = ${MIGRATIONS.length}`', why: 'a number: the count of the constant migrations' },
      { file: 'src/pool/store.ts', call: 'exec', arg: 'MIGRATIONS[v]!', why: 'constant migrations, each a literal without interpolation (checked below)' },
      { file: 'src/sandbox/host.ts', call: 'pragma', arg: '`user_version = ${SCHEMA_VERSION}`', why: 'a numeric constant (sandbox only)' },
      { file: 'src/sandbox/host.ts', call: 'exec', arg: 'SCHEMA', why: 'a constant literal without interpolation (checked below; sandbox only)' },
      { file: 'src/sandbox/host.ts', call: 'prepare', arg: '`UPDATE service SET ${c} = ? WHERE id = ?`', why: 'c iterates a constant column list (sandbox only)' },
      { file: 'src/sandbox/host.ts', call: 'exec', arg: 'CATALOG_SCHEMA', why: 'a constant literal without interpolation (sandbox only)' },
      { file: 'src/pool/store.ts', call: 'prepare', arg: 'text', why: "the store's statement cache: every caller's .sql( argument is scanned here too" },
      {
        file: 'src/pool/store.ts',
        call: 'sql',
        arg: "`UPDATE license SET ${assignments}${assignments ? ', ' : ''}version = version + 1, updated_at = @updated_at\n         WHERE module = @module AND upstream_id = @upstream_id AND version = @version AND state IN (${from.map((s) => `'${s}'`).join(', ')})`",
        why: 'the compare-and-set UPDATE: column names are the keys of LicenseColumns (set by the transitions, never by input), states come from the LicenseState union; every value is bound',
      },
    ];

    function tsFiles(dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    }

    /** The first argument of the call whose '(' is at `open`: its source text and whether it is a plain literal. */
    function firstArg(src: string, open: number): { text: string; literal: boolean } {
      let i = open + 1;
      while (/\s/.test(src[i]!)) i++;
      const start = i;
      let depth = 0;
      let literal = false;
      const q = src[i]!;
      if (q === "'" || q === '"' || q === '`') {
        i++;
        let interpolated = false;
        while (i < src.length && src[i] !== q) {
          if (src[i] === '\\') i++;
          else if (q === '`' && src[i] === '$' && src[i + 1] === '{') interpolated = true;
          i++;
        }
        i++;
        let j = i;
        while (/\s/.test(src[j]!)) j++;
        literal = !interpolated && (src[j] === ')' || src[j] === ',');
      }
      // Read on to the end of the argument, whatever it is.
      for (; i < src.length; i++) {
        const ch = src[i]!;
        if (ch === "'" || ch === '"' || ch === '`') {
          const quote = ch;
          for (i++; i < src.length && src[i] !== quote; i++) if (src[i] === '\\') i++;
        } else if (ch === '(' || ch === '[' || ch === '{') depth++;
        else if (ch === ')' || ch === ']' || ch === '}') {
          if (depth === 0) break;
          depth--;
        } else if (ch === ',' && depth === 0) break;
      }
      return { text: src.slice(start, i).trim(), literal };
    }

    it('static check: every .prepare( / .exec( / .pragma( of SQLite in src/ (and the store\'s cached .sql( ) takes a literal, bar the listed exceptions', () => {
      const found: Array<{ file: string; call: string; arg: string; line: number }> = [];
      let sqlCalls = 0;
      for (const path of tsFiles(join(REPO_ROOT, 'src'))) {
        const file = relative(REPO_ROOT, path);
        const src = readFileSync(path, 'utf8');
        for (const m of src.matchAll(/\.(prepare|exec|pragma|sql)\s*\(/g)) {
          const at = m.index!;
          const lineStart = src.lastIndexOf('\n', at) + 1;
          const lineText = src.slice(lineStart, src.indexOf('\n', at));
          if (/^\s*(\/\/|\*)/.test(lineText)) continue; // a comment
          const before = src.slice(Math.max(0, at - 200), at);
          if (m[1] === 'exec') {
            // RegExp#exec: a regex literal or a constant holding one is the receiver.
            if (/\/[dgimsuyv]*$/.test(before)) continue;
            const id = /([A-Za-z_$][\w$]*)$/.exec(before)?.[1];
            if (id && new RegExp(`(const|let)\\s+${id}\\s*=\\s*/`).test(src)) continue;
          }
          sqlCalls++;
          const arg = firstArg(src, at + m[0].length - 1);
          if (!arg.literal) found.push({ file, call: m[1]!, arg: arg.text, line: src.slice(0, at).split('\n').length });
        }
      }
      expect(sqlCalls, 'SQL calls seen (the scan works)').to.be.above(30);
      const unlisted = found.filter((f) => !EXCEPTIONS.some((e) => e.file === f.file && e.call === f.call && e.arg === f.arg));
      expect(unlisted, 'SQL built from non-literal text').to.deep.equal([]);

      // The identifiers among the exceptions are constants made of literals without interpolation.
      const store = readFileSync(join(REPO_ROOT, 'src/pool/store.ts'), 'utf8');
      const migrations = /const MIGRATIONS: string\[\] = \[([\s\S]*?)\n\];/.exec(store)?.[1];
      expect(migrations, 'MIGRATIONS found').to.be.a('string');
      expect(migrations!).to.not.include('${');
      expect(migrations!.replace(/`[^`]*`/g, '').replace(/[\s,]/g, ''), 'MIGRATIONS holds only template literals').to.equal('');
      const host = readFileSync(join(REPO_ROOT, 'src/sandbox/host.ts'), 'utf8');
      expect(/const SCHEMA = `([^`]*)`;/.exec(host)?.[1], 'SCHEMA a plain literal').to.be.a('string').and.not.include('${');
      expect(host).to.match(/const cols = \[[^\]]*\] as const;\s*for \(const c of cols\)/);
      recordCase({ suite: 'security', name: 'SQL: static check of src/', ok: true, counts: { sqlCalls, exceptions: found.length }, outcome: `${sqlCalls} SQLite calls; ${found.length} non-literal, all listed and reviewed` });
    });

    describe('hostile strings end to end', () => {
      let w: World;
      const HOSTILE = "1'); DROP TABLE license;--";
      const tables = () => {
        const db = new Database(w.db, { readonly: true, fileMustExist: true });
        try {
          return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
        } finally {
          db.close();
        }
      };
      let baseline: { tables: string[]; licenses: number };

      before(async () => {
        w = await World.create({ day: '2026-01-10' });
        w.addService({ id: 1, expiredate: '2026-02-10' });
        expect((await w.command('open', { item: 1, ro: 1 })).code).to.equal(0);
        baseline = { tables: tables(), licenses: w.store((s) => s.licenses().length) };
        expect(baseline.tables).to.include.members(['license', 'journal', 'period_rule']);
      });
      after(async () => {
        await w?.close();
      });

      const intact = () => {
        expect(tables()).to.deep.equal(baseline.tables);
        expect(w.store((s) => s.licenses().length)).to.equal(baseline.licenses);
        expect(w.store((s) => s.licenseOfService(1))?.state).to.equal('bound');
      };

      it(`periods add --itemtype "${HOSTILE}": refused as a malformed product type (exit 2), nothing stored or dropped`, async () => {
        const rules = w.store((s) => s.periodRules(1));
        const r = await w.exec(['periods', 'add', '--module', '1', '--source', '1', '--target', '12', '--itemtype', HOSTILE, '--pricelist', '20']);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(/internal name/);
        expect(w.store((s) => s.periodRules(1))).to.deep.equal(rules);
        intact();
        recordCase({ suite: 'security', name: 'SQL: hostile --itemtype', ok: true, counts: { processes: 1 }, outcome: 'refused as a usage error (exit 2), tables intact' });
      });

      const REFUSED: Array<{ name: string; args: string[] }> = [
        { name: 'hostile --pricelist', args: ['periods', 'add', '--module', '1', '--source', '3', '--target', '12', '--itemtype', 'soft', '--pricelist', '20; DROP TABLE period_rule'] },
        { name: 'hostile --source', args: ['periods', 'add', '--module', '1', '--source', "1 OR 1=1", '--target', '12'] },
        { name: 'hostile --target', args: ['periods', 'add', '--module', '1', '--source', '6', '--target', "12); DELETE FROM license;--"] },
        { name: 'hostile --id (remove)', args: ['periods', 'remove', '--module', '1', '--id', '1 OR 1=1'] },
        { name: 'hostile --module (list)', args: ['periods', 'list', '--module', "1 OR 1=1", '--json'] },
      ];
      for (const c of REFUSED) {
        it(`${c.name}: refused with a message, nothing changed`, async () => {
          const rules = w.store((s) => s.periodRules(1));
          const r = await w.exec(c.args);
          expect(r.code, r.stdout).to.equal(2); // a malformed value: a usage error (SPEC 3)
          expect(r.stderr).to.match(/pmisplicense: .+/);
          expect(r.stdout + r.stderr).to.not.match(/at .*\.js:\d+/);
          expect(w.store((s) => s.periodRules(1))).to.deep.equal(rules);
          intact();
          recordCase({ suite: 'security', name: `SQL: ${c.name}`, ok: true, counts: { processes: 1 }, outcome: 'exit 2, refused, rules and tables intact' });
        });
      }

      const marker = join(tmpdir(), `pmisplicense-pwned-${process.pid}`);
      const SERVICES: Array<{ name: string; change: { panel?: string; ip?: string }; object: string }> = [
        { name: 'service panel', change: { panel: `3541'); DROP TABLE license;--` }, object: 'panel' },
        { name: 'service ip', change: { ip: `1.2.3.4'); DROP TABLE journal;--` }, object: 'ip' },
        { name: 'service panel with shell syntax', change: { panel: `$(touch ${marker}); \`touch ${marker}\`` }, object: 'panel' },
      ];
      let id = 50;
      for (const c of SERVICES) {
        it(`${c.name} "${Object.values(c.change)[0]}": refused as bad input; the error reaches the host as one argv element; nothing dropped or run`, async () => {
          const item = ++id;
          w.addService({ id: item, ip: '203.0.113.50', expiredate: '2026-02-10', ...c.change });
          const r = await w.command('open', { item, ro: item });
          expect(r.code).to.equal(1);
          expect(r.stdout).to.match(new RegExp(`<error type="value" object="${c.object}"`));
          const rec = w.host.sim.runningOperation(item)!;
          expect(rec.errorxml).to.equal(r.stdout.trim());
          const call = w.host.sim.calls('runningoperation.edit').at(-1)!;
          expect(call.argv.filter((a) => a.startsWith('errorxml='))).to.deep.equal([`errorxml=${r.stdout.trim()}`]);
          expect(existsSync(marker)).to.equal(false);
          expect(w.sandbox.requests('soft.order.param')).to.have.length(1);
          intact();
          recordCase({ suite: 'security', name: `SQL/shell: hostile ${c.name}`, ok: true, counts: { processes: 1 }, outcome: `exit 1, type=value object=${c.object}, tables intact, no shell` });
        });
      }

      it('a service field named like an add-on, with SQL in it, is never forwarded (SPEC 4); local tables intact', async () => {
        w.addService({ id: 60, ip: '203.0.113.60', panel: '4601', expiredate: '2026-02-10', params: { addon_4602: HOSTILE } });
        const r = await w.command('open', { item: 60, ro: 60 });
        expect(r.code, r.stdout).to.equal(0);
        const order = w.sandbox.requests('soft.order.param').at(-1)!;
        expect(order.params).to.not.have.property('addon_4602');
        expect(tables()).to.deep.equal(baseline.tables);
        expect(w.store((s) => s.licenses().length)).to.equal(baseline.licenses + 1);
        recordCase({ suite: 'security', name: 'SQL: hostile service field', ok: true, counts: { processes: 1 }, outcome: 'exit 0, not sent upstream, tables intact' });
      });
    });
  });
});
