// Issue 15 (SPEC 6): an error about an unreadable host or upstream reply names the function, the
// position and the parser's reason, never the reply's content; the database password is a secret
// from the moment it is read; an <error> at any depth is an error; what the module writes into XML
// is XML 1.0 whatever it quotes. Every path that reads host or upstream XML is driven end to end
// with a planted database password and a planted license key: open's stdout, the errorxml sent to
// the host, the log, `diagnose --item N` and the panel handler.
//
// The replies are made unreadable the way the issue found it: mgrctl prints one stray warning line
// after its reply (a wrapper around the simulated host's mgrctl), and the licensing server's reply
// is followed by one (a loopback proxy in front of the sandbox).
import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorDocument, UpstreamRefusalError } from '../src/errors.js';
import { HostReplyError, runMgrctl } from '../src/host/mgrctl.js';
import { mask } from '../src/log.js';
import { LicensingClient } from '../src/upstream/client.js';
import { parseXml } from '../src/xml.js';
import { errorOf, runPanelExe } from './panel/run.js';
import { startCanned } from './upstream/canned.js';
import { expatTree, expatVerdicts } from './support/xml-oracle.js';
import { rejects } from './support/rejects.js';
import { MODULE, SANDBOX_PASSWORD, SANDBOX_USER, World } from './support/world.js';

/** Planted: a database password with a trailing space (kept as sent) and a license key. */
const DB_PASSWORD = 'Db-Planted-Pa55 ';
const PLANTED_KEY = 'PLANTED-KEY-7f3a9c1e5b';
const WARNING = 'PHP Warning:  mysqli::real_connect(): (HY000/2002) in /usr/local/mgr5/lib/php/x.php on line 7';

/** A mgrctl that runs the simulated host's and adds a warning line after the reply of each func named in `garble`. */
function garblingMgrctl(dir: string, real: string, garble: string): string {
  const path = join(dir, 'mgrctl-with-warnings');
  writeFileSync(
    path,
    `#!/bin/sh
out=$(${JSON.stringify(real)} "$@"); rc=$?
printf '%s\\n' "$out"
for f in $(cat ${JSON.stringify(garble)} 2>/dev/null); do
  case " $* " in *" $f "*) printf '%s\\n' ${JSON.stringify(WARNING)};; esac
done
exit $rc
`,
  );
  chmodSync(path, 0o755);
  return path;
}

interface UpstreamProxy {
  url: string;
  /** func → what to do with its reply: add a warning line after it, or replace it. */
  rules: Map<string, { append?: string; replace?: string }>;
  close(): Promise<void>;
}

/** A loopback proxy in front of the sandbox that spoils the replies of chosen funcs. */
async function upstreamProxy(target: string): Promise<UpstreamProxy> {
  const rules = new Map<string, { append?: string; replace?: string }>();
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const func = new URLSearchParams(body.toString('utf8')).get('func') ?? '';
      const fwd = request({ hostname: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        const got: Buffer[] = [];
        up.on('data', (c: Buffer) => got.push(c));
        up.on('end', () => {
          const rule = rules.get(func);
          let text = Buffer.concat(got).toString('utf8');
          if (rule?.replace !== undefined) text = rule.replace;
          if (rule?.append !== undefined) text += rule.append;
          res.writeHead(up.statusCode ?? 502, { 'Content-Type': 'text/xml; charset=UTF-8', 'Content-Length': Buffer.byteLength(text) });
          res.end(text);
        });
      });
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${to.pathname}`,
    rules,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every place a test looks at must hold neither planted secret (nor the password without its space). */
function expectNoSecret(where: string, text: string): void {
  for (const secret of [DB_PASSWORD, DB_PASSWORD.trim(), PLANTED_KEY]) expect(text, `${where} holds a planted secret`).not.to.include(secret);
}

function expectWellFormed(where: string, text: string): void {
  const [v] = expatVerdicts([text]);
  expect(v!.ok, `${where} is not well-formed for expat: ${v!.ok ? '' : v!.reason}\n${JSON.stringify(text)}`).to.equal(true);
}

describe('secrets in errors: an unreadable reply is never quoted (issue 15)', function () {
  this.timeout(120_000);
  let w: World;
  let dir: string;
  let garble: string;
  let proxy: UpstreamProxy;

  before(async () => {
    w = await World.create();
    dir = mkdtempSync(join(tmpdir(), 'pmisplicense-secrets-'));
    garble = join(dir, 'garble');
    w.host.env.PMISPLICENSE_MGRCTL = garblingMgrctl(dir, w.host.mgrctl, garble);
    proxy = await upstreamProxy(w.sandbox.url);
    w.host.sim.addModule({ id: MODULE, url: proxy.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD });
    w.host.sim.setParamList({ DBHost: 'localhost', DBUser: 'billmgr', DBPassword: DB_PASSWORD, DBName: 'billmgr' });
  });
  after(async () => {
    await proxy.close();
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    writeFileSync(garble, '');
    proxy.rules.clear();
  });

  it('reproduces the issue: paramlist followed by one warning line — open names paramlist and the position; no password on stdout, in errorxml or the log', async () => {
    writeFileSync(garble, 'paramlist\n');
    w.addService({ id: 501, params: { lickey: PLANTED_KEY } });
    const r = await w.command('open', { item: 501, ro: 51 });
    expect(r.code).to.not.equal(0);
    expectNoSecret('stdout', r.stdout);
    expectNoSecret('stderr', r.stderr);
    const ro = w.host.sim.runningOperation(51)!;
    expectNoSecret('errorxml', ro.errorxml!);
    expectNoSecret('the log', w.logText());
    expectWellFormed('stdout', r.stdout);
    const e = errorOf(parseXml(r.stdout))!;
    expect(e.type).to.equal('host');
    expect(e.msg).to.match(/mgrctl paramlist returned an unreadable reply \(malformed XML: text data outside of root node \(line \d+, column \d+\)\)/);
    expect(e.msg).not.to.include('PHP Warning');
    expect(ro.errorxml).to.match(/paramlist/);
    expect(w.logText()).to.match(/mgrctl paramlist returned an unreadable reply/);
    // The argv of every mgrctl call too (the errorxml travels as one).
    expectNoSecret('mgrctl argv', JSON.stringify(w.host.sim.calls()));
    expect(w.purchases()).to.equal(0);
  });

  it('a readable paramlist gives the password as sent, its trailing space kept (values are never trimmed by the reader)', async () => {
    const { Host } = await import('../src/host/host.js');
    const db = await new Host(w.host.env.PMISPLICENSE_MGRCTL, { env: { ...process.env, ...w.host.env } }).readDatabaseSettings();
    expect(db).to.deep.include({ host: 'localhost', user: 'billmgr', name: 'billmgr', password: DB_PASSWORD });
  });

  it('diagnose --item N says paramlist failed, where and why, without the password', async () => {
    writeFileSync(garble, 'paramlist\n');
    w.addService({ id: 502, params: { lickey: PLANTED_KEY } });
    const r = await w.exec(['diagnose', '--item', '502']);
    expectNoSecret('diagnose stdout', r.stdout);
    expect(r.stdout).to.match(/paramlist failed: mgrctl paramlist returned an unreadable reply \(malformed XML: text data outside of root node \(line \d+, column \d+\)\)/);
    expect(r.stdout).to.match(/lickey = \*\*\*/);
    expectNoSecret('diagnose stdout', r.stdout);
    expectNoSecret('diagnose stderr', r.stderr);
    expectNoSecret('the log', w.logText());
  });

  it('a soft.edit reply with the service key, followed by a warning: open and diagnose name soft.edit, never the key', async () => {
    writeFileSync(garble, 'soft.edit\n');
    w.addService({ id: 503, params: { lickey: PLANTED_KEY } });
    const r = await w.command('open', { item: 503, ro: 53 });
    expectWellFormed('stdout', r.stdout);
    expect(errorOf(parseXml(r.stdout))!.msg).to.match(/mgrctl soft\.edit returned an unreadable reply \(malformed XML: text data outside of root node \(line \d+, column \d+\)\)/);
    expectNoSecret('stdout', r.stdout);
    expectNoSecret('errorxml', w.host.sim.runningOperation(53)!.errorxml ?? '');
    const d = await w.exec(['diagnose', '--item', '503']);
    expect(d.stdout + d.stderr).to.match(/soft\.edit returned an unreadable reply/);
    expectNoSecret('diagnose', d.stdout + d.stderr);
    expectNoSecret('the log', w.logText());
  });

  it('the panel (Reconcile, which reads paramlist) shows the failure without the password', async () => {
    writeFileSync(garble, 'paramlist\n');
    const a = await runPanelExe(w, { fixture: 'reconcile-list.xml' });
    expectNoSecret('panel stdout', a.stdout);
    expectWellFormed('panel stdout', a.stdout);
    expect(errorOf(a.doc)?.msg ?? '').to.match(/paramlist returned an unreadable reply \(malformed XML: text data outside of root node \(line \d+, column \d+\)\)/);
    expectNoSecret('panel stderr', a.stderr);
    expectNoSecret('the log', w.logText());
  });

  it('an upstream soft.edit reply with the license key, followed by a warning: open says "broken reply", names the position, never the key', async () => {
    w.host.sim.setParamList({ DBName: null });
    try {
      w.addService({ id: 504 });
      proxy.rules.set('soft.edit', { append: `\n${WARNING}\n` });
      const r = await w.command('open', { item: 504, ro: 54 });
      expectWellFormed('stdout', r.stdout);
      const e = errorOf(parseXml(r.stdout))!;
      expect(e.type).to.equal('connection');
      expect(e.msg).to.match(/broken reply to soft\.edit: malformed XML: text data outside of root node \(line \d+, column \d+\)/);
      const keys = w.sandbox.licenses().map((l) => l.lickey).filter((k) => k.length >= 8);
      expect(keys, 'the sandbox made a key for the order').to.have.length.greaterThan(0);
      for (const text of [r.stdout, r.stderr, w.host.sim.runningOperation(54)!.errorxml ?? '', w.logText()]) {
        for (const k of keys) expect(text).not.to.include(k);
        expect(text).not.to.include('PHP Warning');
      }
    } finally {
      w.host.sim.setParamList({ DBName: 'billmgr' });
    }
  });

  it('held-out case: an upstream message with U+0001 and U+0007 never makes the error document on stdout ill-formed', async () => {
    w.host.sim.setParamList({ DBName: null });
    try {
      w.addService({ id: 505 });
      // Raw in the reply: not XML 1.0, so the reply is refused as broken (its content not quoted).
      proxy.rules.set('soft.order.param', { replace: '<?xml version="1.0" encoding="UTF-8"?>\n<doc><error type="value" object="ip"><msg>Bad\u0001 address\u0007 given</msg></error></doc>\n' });
      const r = await w.command('open', { item: 505, ro: 55 });
      expectWellFormed('stdout', r.stdout);
      const e = errorOf(expatTree(r.stdout) as ReturnType<typeof parseXml>)!;
      expect(e.msg).to.match(/broken reply to soft\.order\.param: malformed XML: disallowed character \(line 2, column \d+\)/);
      expectWellFormed('errorxml', w.host.sim.runningOperation(55)!.errorxml ?? '');
    } finally {
      w.host.sim.setParamList({ DBName: 'billmgr' });
    }
  });

  it('a value with control characters from the command line comes back in a well-formed error document', async () => {
    const r = await w.exec(['--command', 'open', '--item', '7\u0001\u0007']);
    expectWellFormed('stdout', r.stdout);
  });
});

describe('writing XML: forbidden characters dropped, the rest escaped (SPEC 6)', () => {
  it('an upstream refusal whose message holds U+0001 and U+0007 gives a well-formed error document, the message otherwise intact', () => {
    const doc = errorDocument(new UpstreamRefusalError('value', 'ip', 'Bad\u0001 address\u0007 <given> & "quoted"\uD800 \uFFFE', 'soft.order.param'));
    const tree = expatTree(doc);
    const msg = tree.children[0]!.children.find((c) => c.name === 'msg')!.text;
    expect(msg).to.equal('The licensing server refused soft.order.param: Bad address <given> & "quoted" ');
  });

  it('the panel never echoes a name XML forbids: a page document with U+FFFF in a name is not read', async function () {
    this.timeout(60_000);
    const w = await World.create();
    try {
      const { fixture } = await import('./panel/run.js');
      const text = fixture('periods-list.xml').replace(/<doc([^>]*)>/, '<doc$1><x\uFFFFy>v</x\uFFFFy>');
      const a = await runPanelExe(w, { fixture: 'periods-list.xml', stdin: text });
      expectWellFormed('panel stdout', a.stdout);
      expect(a.stdout).not.to.include('\uFFFF');
    } finally {
      await w.close();
    }
  });
});

describe('<error> at any depth is an error (issue 15)', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pmisplicense-deep-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('mgrctl: an <error> nested two levels deep is a HostReplyError', async () => {
    const path = join(dir, 'mgrctl');
    writeFileSync(path, `#!/bin/sh\necho '<doc><elem><item><error type="value" object="elid"><msg>deep refusal</msg></error></item></elem></doc>'\n`);
    chmodSync(path, 0o755);
    const e = await rejects(runMgrctl('soft.edit', { elid: 1 }, { mgrctl: path }), HostReplyError);
    expect(e.hostType).to.equal('value');
    expect(e.message).to.include('deep refusal');
  });

  it('upstream: an <error> nested two levels deep is the matching error class', async () => {
    const canned = await startCanned(() => ({ body: '<?xml version="1.0"?>\n<doc><elem><x><error type="value" object="ip"><msg>deep refusal</msg></error></x></elem></doc>' }));
    try {
      const client = new LicensingClient({ url: canned.url, username: 'u', password: 'p4ssword' });
      const e = await rejects(client.list(), UpstreamRefusalError);
      expect(e.message).to.include('deep refusal');
    } finally {
      await canned.close();
    }
  });
});

describe('the database password is a secret from the moment it is read', () => {
  it('mask() knows the paramlist shapes, even in a reply that does not parse', () => {
    const rows = `<doc><elem><name>DBPassword</name><value>${DB_PASSWORD}</value></elem></doc>\n${WARNING}`;
    expect(mask(rows)).not.to.include(DB_PASSWORD.trim());
    expect(mask(`<doc>\n  <DBPassword>${DB_PASSWORD}</DBPassword>\n</doc>\nwarning`)).not.to.include(DB_PASSWORD.trim());
    expect(mask(`<doc><elem><name>DBPassword</name><value>${DB_PASSWORD}`)).not.to.include(DB_PASSWORD.trim());
  });

  it('addSecretsOfReply registers the value as sent and as parsed, so it is masked wherever it goes later', async () => {
    // Imported here so that the rest of the file runs against code without it (the old code).
    // (mask from the same import: tsx may load a module twice, once for require and once for import.)
    const { addSecretsOfReply, mask: maskOf } = await import('../src/log.js');
    const pw = 'Zq9&amp;entity-pw';
    addSecretsOfReply(`<doc><elem><name>DBPassword</name><value>${pw}</value></elem></doc>\nwarning`);
    expect(maskOf('connect failed for Zq9&entity-pw at db')).to.equal('connect failed for *** at db');
  });
});
