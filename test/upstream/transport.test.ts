import { expect } from 'chai';
import { createServer as createHttpsServer, type Server as HttpsServer, request as httpsRequest } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LicensingClient } from '../../src/upstream/client.js';
import { Transport, resolveTimeoutMs, DEFAULT_TIMEOUT_MS } from '../../src/upstream/transport.js';
import { checkUpstreamUrl } from '../../src/upstream/url.js';
import { TransportError } from '../../src/errors.js';
import { byFunc, fixture, startCanned, type CannedServer, type Handler } from './canned.js';

const creds = { username: 'reseller@example.com', password: 'Fixture-Pa55word!' };

async function transportError(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(TransportError);
    expect((e as TransportError).retryable).to.equal(true);
    return e as TransportError;
  }
  throw new Error('expected a TransportError, got success');
}

describe('upstream/transport: HTTP failures', () => {
  let srv: CannedServer;
  let handler: Handler = byFunc({});
  const client = (opts: ConstructorParameters<typeof LicensingClient>[1] = { timeoutMs: 2000 }) =>
    new LicensingClient({ url: srv.url, ...creds }, opts);

  before(async () => {
    srv = await startCanned((f, form) => handler(f, form));
  });
  after(() => srv.close());

  it('HTTP 500 is a TransportError whatever the body says', async () => {
    handler = byFunc({ 'soft.edit': { status: 500, body: fixture('soft.edit.xml') } });
    const e = await transportError(client().get(1048576));
    expect(e.message).to.match(/soft\.edit failed: HTTP 500/);
    handler = byFunc({ 'soft.edit': { status: 503, body: fixture('error.auth.xml') } });
    expect((await transportError(client().get(1048576))).message).to.match(/HTTP 503/);
  });

  it('a redirect is not followed (the body would be re-sent elsewhere)', async () => {
    handler = byFunc({ soft: { status: 301, headers: { Location: 'https://api.example.com/billmgr?x=1' } } });
    const e = await transportError(client().list());
    expect(e.message).to.match(/HTTP 301.*redirecting to https:\/\/api\.example\.com\/billmgr/);
  });

  it('a connection closed without a reply names the func and the cause', async () => {
    handler = byFunc({ 'soft.order.param': { drop: true } });
    const e = await transportError(client().order({ pricelist: '3541', period: 1, ip: '203.0.113.1', licname: 'Item #1', remoteid: '1', addons: {} }));
    expect(e.message).to.match(/soft\.order\.param failed: connection dropped before a reply \(the request may have been carried out\)/);
  });

  it('a connection reset names the func and the cause', async () => {
    handler = byFunc({ 'soft.suspend': { reset: true } });
    const e = await transportError(client().suspend(1));
    expect(e.message).to.match(/soft\.suspend failed: connection (reset|dropped)/);
  });

  it('a reply cut off midway is a TransportError, not a broken reply', async () => {
    handler = byFunc({ soft: { truncate: true, body: fixture('soft.list.xml') } });
    expect((await transportError(client().list())).message).to.match(/soft failed: connection dropped during the reply/);
  });

  it('connection refused', async () => {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const c = new LicensingClient({ url: `http://127.0.0.1:${port}/billmgr`, ...creds });
    expect((await transportError(c.auth())).message).to.match(/auth failed: connection refused \(http:\/\/127\.0\.0\.1:\d+\/billmgr\)/);
  });

  it('a server that never answers hits the total timeout', async () => {
    handler = byFunc({ 'soft.edit': { hang: true } });
    const t0 = Date.now();
    const e = await transportError(client({ timeoutMs: 300 }).get(1));
    expect(e.message).to.match(/soft\.edit failed: no complete reply within 0\.3 s \(timeout/);
    // The server never answers: only the timeout ends the call (mocha's own timeout bounds a hang).
    expect(Date.now() - t0).to.be.at.least(250);
  });

  it('PMISPLICENSE_HTTP_TIMEOUT (seconds) sets the total timeout; the option wins', async () => {
    handler = byFunc({ 'soft.edit': { hang: true } });
    const e = await transportError(client({ env: { PMISPLICENSE_HTTP_TIMEOUT: '0.25' } }).get(1));
    // The server never answers: the message names the timeout that ended the call.
    expect(e.message).to.match(/soft\.edit failed: no complete reply within 0\.25 s \(timeout/);
    expect(resolveTimeoutMs(undefined, { PMISPLICENSE_HTTP_TIMEOUT: '5' })).to.equal(5000);
    expect(resolveTimeoutMs(1500, { PMISPLICENSE_HTTP_TIMEOUT: '5' })).to.equal(1500);
    expect(resolveTimeoutMs(undefined, {})).to.equal(DEFAULT_TIMEOUT_MS);
    expect(resolveTimeoutMs(undefined, { PMISPLICENSE_HTTP_TIMEOUT: 'soon' })).to.equal(DEFAULT_TIMEOUT_MS);
    expect(resolveTimeoutMs(undefined, { PMISPLICENSE_HTTP_TIMEOUT: '-3' })).to.equal(DEFAULT_TIMEOUT_MS);
  });

  it('a TLS handshake that never completes hits the connect timeout', async () => {
    // A TCP listener that accepts and stays silent: TCP connects, TLS never does.
    const silent = createNetServer(() => undefined);
    const held = new Set<Socket>();
    silent.on('connection', (s: Socket) => held.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    try {
      const c = new LicensingClient({ url: `https://127.0.0.1:${port}/billmgr`, ...creds }, { connectTimeoutMs: 200, timeoutMs: 5000 });
      const e = await transportError(c.auth());
      // The connect timeout (0.2 s), not the total one (5 s), ended it: the message says which.
      expect(e.message).to.match(/auth failed: could not connect within 0\.2 s \(connect timeout\)/);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('the connect timeout defaults to 10 s and never exceeds the total', () => {
    const u = checkUpstreamUrl('https://api.ispsystem.com/manager/billmgr');
    const t = new Transport(u, creds, { env: {} });
    expect([t.connectTimeoutMs, t.timeoutMs]).to.deep.equal([10_000, 60_000]);
    expect(new Transport(u, creds, { timeoutMs: 3000, env: {} }).connectTimeoutMs).to.equal(3000);
    expect(new Transport(u, creds, { connectTimeoutMs: 500, env: {} }).connectTimeoutMs).to.equal(500);
  });

  it('replies over the size cap are refused', async () => {
    handler = byFunc({ soft: { body: fixture('soft.list.xml') } });
    expect((await transportError(client({ maxResponseBytes: 512 }).list())).message).to.match(/reply too large/);
    handler = byFunc({ soft: { body: `<doc>${'<elem/>'.repeat(5000)}</doc>`, headers: { 'Transfer-Encoding': 'chunked' } } });
    expect((await transportError(client({ maxResponseBytes: 4096 }).list())).message).to.match(/reply too large/);
  });

  it('a caller param may not override the transport fields', async () => {
    const t = new Transport(new URL(srv.url), creds);
    let thrown: unknown;
    try {
      await t.post('soft', { authinfo: 'x:y' });
    } catch (e) {
      thrown = e;
    }
    expect(String(thrown)).to.match(/set by the transport/);
  });
});

describe('upstream/transport: TLS verification cannot be turned off', function () {
  let dir = '';
  let server: HttpsServer | undefined;
  let port = 0;
  const sockets = new Set<Socket>();
  const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'pmisplicense-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
        '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    } catch {
      this.skip(); // no openssl on this machine
    }
    server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.end(fixture('auth.xml'));
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    for (const s of sockets) s.destroy();
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the test server itself answers when verification is off (control)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, method: 'POST', path: '/billmgr', rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).to.equal(200);
  });

  it('a self-signed certificate is refused even with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    for (const host of ['127.0.0.1', 'localhost']) {
      const c = new LicensingClient({ url: `https://${host}:${port}/billmgr`, ...creds }, { timeoutMs: 5000 });
      const e = await transportError(c.auth());
      expect(e.message).to.match(/auth failed: the server's TLS certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT/);
    }
  });
});
