// `advise` refuses mistakes before doing anything (SPEC 3: exit 2, one line on stderr), and on a
// module with no recorded history says so instead of advising.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { MODULE, World } from '../support/world.js';

describe('advise: usage', function () {
  this.timeout(120_000);
  let w: World;
  before(async () => {
    w = await World.create({ day: '2026-03-01' });
  });
  after(async () => {
    await w?.close();
  });

  for (const [args, says] of [
    [['advise'], 'advise needs --module'],
    [['advise', '--module', '1', '--months', '0'], '--months must be a positive whole number'],
    [['advise', '--module', '1', '--months', '121'], '--months must be 1 to 120'],
    [['advise', '--module', '1', '--month', '3'], 'did you mean "--months"'],
    [['advise', '--module', '7'], 'no processing module 7'],
  ] as const) {
    it(`${args.join(' ')}: exit 2, "${says}", no call to the licensing server`, async () => {
      const before = w.requests().length;
      const r = await w.exec([...args]);
      expect(r.code, r.stdout + r.stderr).to.equal(2);
      expect(r.stderr).to.include(says);
      expect(r.stdout).to.equal('');
      expect(w.requests().length).to.equal(before);
    });
  }

  it('says there is no history yet, reads the prices only, and writes no state', async () => {
    const r = await w.exec(['advise', '--module', String(MODULE)]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('No service history recorded for this module');
    expect(w.requests().map((q) => q.func).filter((f) => f !== 'auth')).to.deep.equal(['pricelist.export']);
    const json = JSON.parse((await w.exec(['advise', '--module', String(MODULE), '--json'])).stdout) as { services: number; candidates: unknown[] };
    expect(json.services).to.equal(0);
    expect(existsSync(w.db), 'advise created the state file').to.equal(false);
  });
});
