// `gen_key` end to end (SPEC 3): a new key for the service's license within the licensing server's
// one-key-change-a-month rule, saved on the service through mgrctl's -e form only; `features`
// lists it, and the launcher's answer is the bundle's.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { FEATURES, featuresDocument } from '../../src/commands/features.js';
import { PROTOCOL_COMMANDS } from '../../src/protocol.js';
import { EXE, World } from '../support/world.js';

describe('gen_key', function () {
  this.timeout(120_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  afterEach(async () => {
    await w.close();
  });

  async function opened(item: number): Promise<number> {
    w.addService({ id: item, ip: `203.0.113.${item % 200}`, expiredate: '2026-06-10' });
    const r = await w.command('open', { item, ro: item });
    expect(r.code, r.stdout).to.equal(0);
    return w.store((s) => s.licenseOfService(item))!.upstreamId;
  }

  it('a month after the last key change: a new key upstream, saved as lickey through -e, <doc><ok/></doc>', async () => {
    const id = await opened(150);
    const oldKey = w.sandbox.license(id)!.lickey;
    w.setDay('2026-02-10');
    const r = await w.command('gen_key', { item: 150 });
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stdout.trim()).to.equal('<doc><ok/></doc>');
    const newKey = w.sandbox.license(id)!.lickey;
    expect(newKey).to.not.equal(oldKey);
    expect(w.requests('soft.edit').filter((q) => q.params.clicked_button === 'newkey' && q.params.sok === 'ok' && q.params.elid === String(id))).to.have.length(1);
    expect(w.host.sim.service(150)!.params.lickey).to.equal(newKey);
    const saves = w.host.sim.calls('service.saveparam').filter((c) => c.argv.includes('name=lickey'));
    expect(saves.at(-1)!.secretFromEnv).to.equal(true);
    for (const c of w.host.sim.calls()) expect(c.argv.join(' ')).to.not.include(newKey);
    expect(w.store((s) => s.license(1, id))!.keyChangeDate).to.equal('2026-02-10');
  });

  it('too soon: a value error naming the first allowed day, and nothing is called upstream', async () => {
    await opened(151); // a new license counts as a key change on its creation day
    const before = w.requests().length;
    const r = await w.command('gen_key', { item: 151, ro: 51 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="value" object="lickey"/).and.to.include('<param name="value">2026-02-10</param>').and.to.match(/next new key can be made on 2026-02-10/);
    expect(w.requests().length).to.equal(before);
    expect(w.host.sim.runningOperation(51)!.errorxml).to.include('2026-02-10');
  });

  it('a service without a license: a value error, nothing called upstream', async () => {
    w.addService({ id: 152, expiredate: '2026-06-10' });
    const r = await w.command('gen_key', { item: 152 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="value" object="item"/).and.to.match(/no license bound/);
    expect(w.requests()).to.have.length(0);
  });

  it('features lists gen_key; the launcher answers what the ES-module entry answers; every feature is a command', () => {
    expect(FEATURES).to.include('gen_key');
    for (const f of FEATURES) expect(PROTOCOL_COMMANDS, f).to.include(f);
    const launcher = spawnSync(process.execPath, [EXE, '--command', 'features'], { encoding: 'utf8' });
    const bundle = spawnSync(process.execPath, [join(dirname(EXE), 'pmisplicense.mjs'), '--command', 'features'], { encoding: 'utf8', env: { ...process.env, PMISPLICENSE_LOG: '/dev/null', PMISPLICENSE_DB: '/dev/null' } });
    expect(launcher.status).to.equal(0);
    expect(bundle.status, bundle.stderr).to.equal(0);
    expect(launcher.stdout).to.equal(bundle.stdout);
    expect(launcher.stdout).to.equal(featuresDocument());
    expect(launcher.stdout).to.include('<feature name="gen_key"/>');
  });
});
