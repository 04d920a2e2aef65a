// runMgrctl against tiny shell stand-ins (fast, and they show exactly what the child received),
// and the recorded BILLmanager replies against the simulated host's renderer.
import { expect } from 'chai';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMgrctl, HostReplyError, SECRET_ENV } from '../../src/host/mgrctl.js';
import { HostError } from '../../src/errors.js';
import { closeLog, openLog } from '../../src/log.js';
import { childText, childrenNamed, parseXml, type XmlElement } from '../../src/xml.js';
import { REPO_ROOT, newFakeHost } from '../support/fake-host.js';

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('runMgrctl', () => {
  let dir: string;
  let logFile: string;

  function script(name: string, body: string): string {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  }

  // Prints its argv (one <a> per element) and the secret variable as seen by the child.
  const ECHO = `printf '<doc>'; for a in "$@"; do printf '<a>%s</a>' "$a"; done; printf '<s>%s</s><set>%s</set></doc>' "$${SECRET_ENV}" "\${${SECRET_ENV}+yes}"`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pmisplicense-mgrctl-test-'));
    logFile = join(dir, 'log');
    closeLog();
    openLog(logFile);
  });
  afterEach(() => {
    closeLog();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes -m billmgr -o xml, the func and one argv element per key=value', async () => {
    const doc = await runMgrctl('service.saveparam', { sok: 'ok', elid: 5, name: 'n', value: 'a b=c' }, { mgrctl: script('m', ECHO) });
    expect(childrenNamed(doc, 'a').map((a) => a.text)).to.deep.equal(['-m', 'billmgr', '-o', 'xml', 'service.saveparam', 'sok=ok', 'elid=5', 'name=n', 'value=a b=c']);
    expect(childText(doc, 'set')).to.equal('');
  });

  it('a secret goes as -e value=$PMISPLICENSE_SECRET with the value in the child env only', async () => {
    const secret = 'TOP-SECRET-LICKEY-0001';
    const doc = await runMgrctl('service.saveparam', { sok: 'ok', elid: 5, name: 'lickey' }, { mgrctl: script('m', ECHO), secret: { name: 'value', value: secret } });
    const argv = childrenNamed(doc, 'a').map((a) => a.text);
    expect(argv.slice(-2)).to.deep.equal(['-e', `value=$${SECRET_ENV}`]);
    expect(argv.join(' ')).to.not.include(secret);
    expect(childText(doc, 's')).to.equal(secret);
    expect(process.env[SECRET_ENV]).to.equal(undefined);
    expect(readFileSync(logFile, 'utf8')).to.include('service.saveparam').and.not.include(secret);
  });

  it('does not hand an inherited PMISPLICENSE_SECRET to a call without a secret', async () => {
    const doc = await runMgrctl('soft.edit', { elid: 1 }, { mgrctl: script('m', ECHO), env: { ...process.env, [SECRET_ENV]: 'inherited' } });
    expect(childText(doc, 'set')).to.equal('');
  });

  it('refuses names that could break the argv form', async () => {
    expect(await rejection(runMgrctl('soft.edit', { 'a=b': 1 }, { mgrctl: script('m', ECHO) }))).to.be.instanceOf(HostError);
    expect(await rejection(runMgrctl('-e', {}, { mgrctl: script('m', ECHO) }))).to.be.instanceOf(HostError);
    expect(await rejection(runMgrctl('x', { value: 1 }, { mgrctl: script('m', ECHO), secret: { name: 'value', value: 'zzzz' } }))).to.be.instanceOf(HostError);
  });

  it('an error document is a HostReplyError even with exit 0, with type and object', async () => {
    const m = script('m', `echo '<doc><error type="exists" object="name" lang="en"><param name="object">name</param><msg>Already there</msg></error></doc>'`);
    const e = await rejection(runMgrctl('x.edit', {}, { mgrctl: m }));
    expect(e).to.be.instanceOf(HostReplyError);
    expect(e).to.include({ hostType: 'exists', hostObject: 'name', hostMsg: 'Already there', func: 'x.edit' });
    expect(e.message).to.equal('BILLmanager refused x.edit: Already there');
  });

  it('non-zero exit without a document → HostError with stderr, masked', async () => {
    const e = await rejection(runMgrctl('x', {}, { mgrctl: script('m', `echo 'boom password=hunter22' >&2; exit 3`) }));
    expect(e).to.be.instanceOf(HostError);
    expect(e.message).to.equal('mgrctl x failed with exit code 3: boom password=***');
  });

  it('output over the cap → HostError', async () => {
    const e = await rejection(runMgrctl('x', {}, { mgrctl: script('m', `head -c 200000 /dev/zero | tr '\\0' a`), maxOutputBytes: 1000 }));
    expect(e).to.be.instanceOf(HostError);
    expect(e.message).to.match(/more than 1000 bytes/);
  });

  it('a reply whose root is not <doc> → HostError', async () => {
    const e = await rejection(runMgrctl('x', {}, { mgrctl: script('m', `echo '<html>oops</html>'`) }));
    expect(e.message).to.match(/unreadable reply \(its root element is not <doc>\)/);
    expect(e.message).not.to.include('oops');
  });

  it('a non-executable file → HostError', async () => {
    const p = join(dir, 'plain');
    writeFileSync(p, 'x');
    const e = await rejection(runMgrctl('x', {}, { mgrctl: p }));
    expect(e).to.be.instanceOf(HostError);
    expect(e.message).to.match(/not executable/);
  });

  it('times out with the default option overridden', async () => {
    // The message says the 0.3 s bound stopped it (a finished sleep would give an unreadable reply).
    const e = await rejection(runMgrctl('x', {}, { mgrctl: script('m', 'exec sleep 10'), timeoutMs: 300 }));
    expect(e.message).to.equal('mgrctl x did not answer within 0.3 s and was stopped');
  });
});

/** Element names, attribute names and order, recursively; text is left out. */
interface Shape {
  name: string;
  attrs: string[];
  children: Shape[];
}
function shape(el: XmlElement): Shape {
  return { name: el.name, attrs: Object.keys(el.attrs).sort(), children: el.children.map(shape) };
}

function raw(mgrctl: string, env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(mgrctl, ['-m', 'billmgr', '-o', 'xml', ...args], { env }, (error, stdout) => {
      // Error replies exit 1; the document is what is compared.
      if (stdout) resolve(String(stdout));
      else reject(error ?? new Error('no output'));
    });
  });
}

describe('recorded BILLmanager replies vs. the simulated host', function () {
  this.timeout(60000);
  const fixtures = join(REPO_ROOT, 'test', 'fixtures', 'mgrctl');

  it('every fixture has the shape the simulated host renders for the same call', async () => {
    const fake = newFakeHost();
    try {
      const soft = parseXml(readFileSync(join(fixtures, 'soft.edit.xml'), 'utf8'));
      const params: Record<string, string> = {};
      const base = ['id', 'ip', 'panel', 'period', 'expiredate', 'pricelist', 'processingmodule', 'status', 'tparams', 'slist'];
      // Tariff options as BILLmanager's form shows them: addon_<host option id>, with an slist for an enumeration.
      const formOptions = soft.children
        .filter((c) => /^addon_\d+$/.test(c.name))
        .map((c) => ({
          id: Number(c.name.slice('addon_'.length)),
          value: c.text,
          choices: (soft.children.find((l) => l.name === 'slist' && l.attrs.name === c.name)?.children ?? []).map((v) => ({ id: Number(v.attrs.key), name: v.text })),
        }));
      for (const c of soft.children) if (!base.includes(c.name) && !/^addon_\d+$/.test(c.name)) params[c.name] = c.text;
      fake.sim.addService({
        id: Number(childText(soft, 'id')),
        ip: childText(soft, 'ip'),
        panel: childText(soft, 'panel'),
        period: childText(soft, 'period'),
        expiredate: childText(soft, 'expiredate'),
        pricelist: childText(soft, 'pricelist'),
        itemtype: 'soft', // the form's func names it (soft.edit); the form itself does not (SPEC 4 v3)
        processingmodule: Number(childText(soft, 'processingmodule')),
        status: Number(childText(soft, 'status')),
        params,
      });
      fake.sim.setFormOptions(Number(childText(soft, 'id')), formOptions);
      const paramlist = parseXml(readFileSync(join(fixtures, 'paramlist.xml'), 'utf8'));
      fake.sim.setParamList(Object.fromEntries(paramlist.children.filter((c) => c.name === 'elem').map((e) => [childText(e, 'name'), childText(e, 'value')])));
      const mod = parseXml(readFileSync(join(fixtures, 'processing.edit.xml'), 'utf8'));
      fake.sim.addModule({ id: Number(childText(mod, 'id')), url: childText(mod, 'url'), username: childText(mod, 'username'), password: childText(mod, 'password') });

      const env = { ...process.env, ...fake.env };
      const files = readdirSync(fixtures).filter((f) => f.endsWith('.xml'));
      expect(files).to.include.members(['soft.edit.xml', 'processing.edit.xml', 'ok.xml', 'error-missed.xml', 'task.gettype.xml', 'paramlist.xml', 'soft.xml']);
      for (const f of files) {
        const recorded = parseXml(readFileSync(join(fixtures, f), 'utf8'));
        // The call is the one the fixture records: its func and its tparams.
        const tp = recorded.children.find((c) => c.name === 'tparams')!;
        const args = [recorded.attrs.func!, ...tp.children.filter((c) => c.name !== 'func' && c.name !== 'out').map((c) => `${c.name}=${c.text}`)];
        const rendered = parseXml(await raw(fake.mgrctl, env, args));
        expect(shape(rendered), f).to.deep.equal(shape(recorded));
        expect(rendered.attrs, f).to.deep.equal(recorded.attrs);
      }
    } finally {
      fake.cleanup();
    }
  });
});
