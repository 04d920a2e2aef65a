import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LicensingClient } from '../../src/upstream/client.js';
import { byFunc, captureLog, fixture, startCanned, type CannedServer, type Handler } from './canned.js';

// Distinct values, so that a hit in the log can only come from a leak.
const USER = 'logcheck@example.com';
const PASS = 'Log-Secret-Pa55!word&x=1';
const KEYS = ['FIXTUREKEY-7f3a9c2e41b8d605', 'FIXTUREKEY-new-5a6b7c8d9e', 'FIXTUREKEY-nested-0c1d2e3f', 'BROKENREPLYKEY-99aa'];

describe('upstream: no secret reaches the log', () => {
  let srv: CannedServer;
  let handler: Handler = byFunc({});
  let dir = '';
  let file = '';
  let logged: ReturnType<typeof captureLog>;

  before(async () => {
    srv = await startCanned((f, form) => handler(f, form));
    dir = mkdtempSync(join(tmpdir(), 'pmisplicense-log-'));
    file = join(dir, 'pmisplicense.log');
    logged = captureLog(file);
  });
  after(async () => {
    logged.stop();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('password, authinfo and license keys are masked in every line', async () => {
    const c = new LicensingClient({ url: srv.url, username: USER, password: PASS }, { timeoutMs: 500 });
    handler = byFunc({ auth: 'auth.xml', soft: 'soft.list.xml', 'soft.edit': 'soft.edit.xml' });
    await c.auth();
    await c.list();
    await c.get(1048576);
    handler = byFunc({ 'soft.edit': 'soft.edit.newkey.xml' });
    await c.newKey(1048576);
    handler = byFunc({ 'soft.edit': 'soft.edit.nested.xml' });
    await c.edit(1048576, { licname: 'free.lic', autoprolong: false });
    // Failures log more: an upstream error, a broken reply carrying a key, a timeout.
    handler = byFunc({ 'soft.edit': 'error.auth.xml' });
    await c.get(1).catch(() => undefined);
    handler = byFunc({ 'soft.edit': { body: `<doc><elid>1</elid><lickey>${KEYS[3]}</lickey><status>2` } });
    await c.get(1).catch(() => undefined);
    handler = byFunc({ 'soft.edit': { hang: true } });
    await c.get(1).catch(() => undefined);
    handler = byFunc({ 'soft.edit': { status: 500, body: fixture('soft.edit.xml') } });
    await c.get(1).catch(() => undefined);

    const text = logged.text();
    // The log is really being written: requests and outcomes are there.
    expect(text).to.match(/INFO upstream request soft\.edit elid=1048576 \(http:\/\/127\.0\.0\.1:\d+\/billmgr\)/);
    expect(text).to.match(/INFO upstream soft\.edit: HTTP 200, \d+ bytes in \d+ ms/);
    expect(text).to.match(/WARNING upstream soft\.edit refused: type=auth/);
    expect(text).to.match(/WARNING upstream soft\.edit: unreadable reply/);
    expect(text).to.match(/WARNING upstream soft\.edit failed after \d+ ms: .*HTTP 500/);
    for (const secret of [PASS, `${USER}:${PASS}`, encodeURIComponent(PASS), new URLSearchParams({ p: PASS }).toString().slice(2), 'c0ffee5e55i0n', ...KEYS]) {
      expect(text, `log contains ${secret}`).not.to.include(secret);
    }
  });
});
