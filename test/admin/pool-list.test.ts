// `pool list` (SPEC 3): the JSON shape scripts rely on, the period names of the table, and a reading
// command that works on a state it may not write (read-only file, non-root user) and never creates one.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedLicenses, type SeedRow } from '../support/seed-state.js';
import { EXE, ensureBuilt, MODULE, World } from '../support/world.js';

const license = (l: Partial<SeedRow> & Pick<SeedRow, 'upstreamId' | 'state'>): SeedRow => ({
  module: MODULE,
  pricelist: '3541',
  period: 12,
  item: null,
  ip: '198.51.100.1',
  expiredate: '2026-06-01',
  ipChangeDate: null,
  keyChangeDate: null,
  hasKey: true,
  ...l,
});

describe('pool list', function () {
  this.timeout(60_000);
  let w: World;
  before(async () => {
    w = await World.create({ day: '2026-01-10' });
    seedLicenses(w.db, [
      license({ upstreamId: 501, state: 'bound', item: 71, ip: '203.0.113.71', pricelist: '4601', period: 1, expiredate: '2026-02-10' }),
      license({ upstreamId: 502, state: 'suspended', item: 72, ip: '203.0.113.72' }),
      license({ upstreamId: 503, state: 'free', ipChangeDate: '2025-10-01', keyChangeDate: '2026-01-05' }),
      license({ upstreamId: 504, state: 'free', period: 0, expiredate: null }),
      license({ upstreamId: 505, state: 'gone', expiredate: '2025-12-01' }),
      license({ upstreamId: 506, state: 'free', expiredate: '2026-01-20', keyChangeDate: '2026-01-01' }),
    ]);
  });
  after(async () => {
    await w.close();
  });

  it('--json prints SPEC 3 shape exactly: numbers as numbers, a suspended service still bound', async () => {
    const r = await w.exec(['pool', 'list', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal([
      { license: 501, pricelist: 4601, period: 1, state: 'bound', item: 71, ip: '203.0.113.71', expiredate: '2026-02-10', reusableFrom: null },
      { license: 502, pricelist: 3541, period: 12, state: 'bound', item: 72, ip: '203.0.113.72', expiredate: '2026-06-01', reusableFrom: null },
      // key changed 2026-01-05: re-usable a calendar month later
      { license: 503, pricelist: 3541, period: 12, state: 'free', item: null, ip: '198.51.100.1', expiredate: '2026-06-01', reusableFrom: '2026-02-05' },
      // never changed: re-usable today; lifetime: no expiry date
      { license: 504, pricelist: 3541, period: 0, state: 'free', item: null, ip: '198.51.100.1', expiredate: null, reusableFrom: '2026-01-10' },
      { license: 505, pricelist: 3541, period: 12, state: 'gone', item: null, ip: '198.51.100.1', expiredate: '2025-12-01', reusableFrom: null },
      // expires before its key may change again: never re-usable
      { license: 506, pricelist: 3541, period: 12, state: 'free', item: null, ip: '198.51.100.1', expiredate: '2026-01-20', reusableFrom: null },
    ]);
    for (const row of JSON.parse(r.stdout) as Array<Record<string, unknown>>) {
      expect(Object.keys(row)).to.deep.equal(['license', 'pricelist', 'period', 'state', 'item', 'ip', 'expiredate', 'reusableFrom']);
    }
  });

  it('--module narrows the list to one module', async () => {
    w.host.sim.addModule({ id: 2, url: w.sandbox.url, username: 'x', password: 'y-password' });
    expect(JSON.parse((await w.exec(['pool', 'list', '--module', '2', '--json'])).stdout)).to.deep.equal([]);
    expect(JSON.parse((await w.exec(['pool', 'list', '--module', String(MODULE), '--json'])).stdout)).to.have.length(6);
  });

  it('the table names periods as periods list does and sums up each tariff', async () => {
    const r = await w.exec(['pool', 'list']);
    expect(r.code, r.stderr).to.equal(0);
    const line = (id: number) => r.stdout.split('\n').find((l) => new RegExp(`^\\d+\\s+${id}\\s`).test(l)) ?? '';
    expect(line(501)).to.match(/\s1 month\s+bound\s+71\s/);
    expect(line(502)).to.match(/\s12 months\s+bound\s+72\s/);
    expect(line(503)).to.match(/\s12 months\s+free\s.*2026-02-05$/);
    expect(line(504)).to.match(/\slifetime\s+free\s.*never\s+now$/);
    expect(line(506)).to.match(/never \(no paid time\)$/);
    expect(r.stdout).to.match(/^tariff 3541: 1 bound, 3 free, 1 re-usable now$/m);
    expect(r.stdout).to.match(/^tariff 4601: 1 bound, 0 free, 0 re-usable now$/m);
  });
});

describe('pool list on a state it may not write', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'pmisplicense-ro-'));
    chmodSync(dir, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (db: string, opts: { uid?: number } = {}) => {
    const r = spawnSync(process.execPath, [EXE, 'pool', 'list', '--json'], {
      env: { PATH: process.env.PATH, MGR_ROOT: dir, PMISPLICENSE_DB: db, PMISPLICENSE_LOG: '/dev/null', PMISPLICENSE_NOW: '2026-01-10' },
      encoding: 'utf8',
      timeout: 20_000,
      ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('no state file yet: an empty list, and no file created', () => {
    const db = join(dir, 'missing.db');
    const r = run(db);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('[]\n');
    expect(existsSync(db)).to.equal(false);
    const text = spawnSync(process.execPath, [EXE, 'pool', 'list'], { env: { PATH: process.env.PATH, PMISPLICENSE_DB: db, PMISPLICENSE_LOG: '/dev/null' }, encoding: 'utf8' });
    expect(text.status).to.equal(0);
    expect(text.stdout).to.match(/no licenses: No state yet/);
    expect(existsSync(db)).to.equal(false);
  });

  const seeded = (name: string, mode: number): string => {
    const db = join(dir, name);
    seedLicenses(db, [license({ upstreamId: 601, state: 'free' })]);
    chmodSync(db, mode);
    return db;
  };

  const asNobody = process.getuid?.() === 0 ? it : it.skip;

  asNobody('a user who may read but not write the state (file 0644, directory not writable) gets the list', () => {
    const db = seeded('readable.db', 0o644);
    const before = statSync(db).mtimeMs;
    const r = run(db, { uid: 65534 });
    expect(r.code, r.stderr).to.equal(0);
    expect((JSON.parse(r.stdout) as Array<{ license: number }>).map((l) => l.license)).to.deep.equal([601]);
    expect(statSync(db).mtimeMs).to.equal(before);
  });

  asNobody('a user who may not read the state (root-only 0600) is told to run as root or check the permissions', () => {
    const db = seeded('private.db', 0o600);
    const r = run(db, { uid: 65534 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr.split('\n').filter(Boolean)).to.have.length(1);
    expect(r.stderr).to.include(`run pmisplicense as root, or check the permissions of ${db}`);
  });

  asNobody('a writing command as such a user: the same one line, not a stack of log lines', () => {
    const db = join(dir, 'private.db');
    const r = spawnSync(process.execPath, [EXE, 'maintain'], {
      env: { PATH: process.env.PATH, MGR_ROOT: dir, PMISPLICENSE_DB: db, PMISPLICENSE_LOG: join(dir, 'pmisplicense.log') },
      encoding: 'utf8',
      timeout: 20_000,
      uid: 65534,
      gid: 65534,
    });
    expect(r.status).to.equal(1);
    expect(r.stderr.split('\n').filter(Boolean), r.stderr).to.have.length(1);
    expect(r.stderr).to.match(/^pmisplicense maintain: The module state .* cannot be opened for writing .*: run pmisplicense as root, or check the permissions of /);
  });
});
