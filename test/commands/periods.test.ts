// `periods add|list|remove` (SPEC 3): the syntax scripts and the panel rely on.
import { expect } from 'chai';
import { existsSync, rmSync } from 'node:fs';
import { World } from '../support/world.js';

describe('periods admin command', function () {
  this.timeout(30_000);
  let w: World;
  before(async () => {
    w = await World.create();
    // --module is checked against the host (SPEC 3): the modules these cases use exist there.
    for (const id of [3, 4, 5, 6, 7]) w.host.sim.addModule({ id, url: w.sandbox.url, username: 'reseller', password: 'Module-Pa55word' });
  });
  after(async () => {
    await w.close();
  });

  it('add prints only the new id; list --json prints the rules; remove deletes one', async () => {
    const a = await w.exec(['periods', 'add', '--module', '3', '--source', '1', '--target', '12']);
    expect(a.code, a.stderr).to.equal(0);
    expect(a.stdout).to.match(/^\d+\n$/);
    const b = await w.exec(['periods', 'add', '--module', '3', '--source', '3', '--target', '0', '--itemtype', 'soft', '--pricelist', '42']);
    expect(b.code, b.stderr).to.equal(0);
    const list = await w.exec(['periods', 'list', '--module', '3', '--json']);
    expect(JSON.parse(list.stdout)).to.deep.equal([
      { id: Number(a.stdout), source: 1, target: 12, itemtype: null, pricelist: null },
      { id: Number(b.stdout), source: 3, target: 0, itemtype: 'soft', pricelist: 42 },
    ]);
    expect(JSON.parse((await w.exec(['periods', 'list', '--module', '4', '--json'])).stdout)).to.deep.equal([]);
    const table = await w.exec(['periods', 'list', '--module', '3']);
    // The same period words as `pool list`.
    expect(table.stdout).to.match(/1 month\s+12 months\s+all tariffs/).and.to.match(/3 months\s+lifetime\s+soft tariff 42/);
    expect(table.stdout).to.not.match(/\bmo\b/);
    expect((await w.exec(['periods', 'remove', '--module', '3', '--id', a.stdout.trim()])).code).to.equal(0);
    expect(JSON.parse((await w.exec(['periods', 'list', '--module', '3', '--json'])).stdout)).to.have.length(1);
  });

  it('refuses a source that is not a period code and a target that is not a license period', async () => {
    for (const [source, target] of [['5', '12'], ['abc', '1'], ['1', '3'], ['1', '-100']]) {
      const r = await w.exec(['periods', 'add', '--module', '5', '--source', source!, '--target', target!]);
      expect(r.code, `${source} -> ${target}`).to.equal(2); // a malformed value: usage error
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(/period/);
    }
    expect(JSON.parse((await w.exec(['periods', 'list', '--module', '5', '--json'])).stdout)).to.deep.equal([]);
  });

  it('refuses a half tariff limit, a duplicate rule, and removing a rule that does not exist', async () => {
    expect((await w.exec(['periods', 'add', '--module', '6', '--source', '1', '--target', '12', '--itemtype', 'soft'])).code).to.equal(2);
    expect((await w.exec(['periods', 'add', '--module', '6', '--source', '1', '--target', '12'])).code).to.equal(0);
    const dup = await w.exec(['periods', 'add', '--module', '6', '--source', '1', '--target', '0']);
    expect(dup.code).to.equal(1);
    expect(dup.stderr).to.match(/already exists/);
    expect((await w.exec(['periods', 'remove', '--module', '6', '--id', '9999'])).code).to.equal(1);
  });

  // A malformed command line is a usage error (exit 2, SPEC 3) named by the CLI's own check; a
  // well-formed one that the rule checks refuse gets the message the panel's rule form shows too
  // (src/pool/periods.ts, test/panel) and exit 1.
  it('says which option is wrong and why, and changes nothing', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['--source', '1', '--target', '12', '--itemtype', 'soft'], 2, /needs both --itemtype and --pricelist/],
      [['--source', '1', '--target', '12', '--itemtype', 'soft', '--pricelist', 'abc'], 2, /--pricelist must be a positive whole number, not "abc"/],
      [['--source', '1', '--target', '12', '--itemtype', 'soft licenses!', '--pricelist', '20'], 2, /product type's internal name/],
      [['--source', '1'], 2, /needs --target P/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await w.exec(['periods', 'add', '--module', '7', ...args]);
      expect(r.code, args.join(' ')).to.equal(code);
      expect(r.stderr, args.join(' ')).to.match(msg);
    }
    expect(JSON.parse((await w.exec(['periods', 'list', '--module', '7', '--json'])).stdout)).to.deep.equal([]);
    expect((await w.exec(['periods', 'add', '--module', '7', '--source', '1', '--target', '12'])).stdout).to.match(/^\d+\n$/);
    const dup = await w.exec(['periods', 'add', '--module', '7', '--source', '1', '--target', '0']);
    expect(dup.stderr).to.match(/Rule \d+ of module 7 already exists for source period 1 and all tariff plans/);
    const rm = await w.exec(['periods', 'remove', '--module', '7', '--id', '9999']);
    expect(rm.stderr).to.match(/Module 7 has no period rule 9999/);
    expect(JSON.parse((await w.exec(['periods', 'list', '--module', '7', '--json'])).stdout)).to.have.length(1);
  });

  it('list only reads: without a state file it says there are no rules, exits 0 and creates no file', async () => {
    const fresh = await World.create();
    try {
      rmSync(fresh.db, { force: true });
      const text = await fresh.exec(['periods', 'list', '--module', '1']);
      expect(text.code, text.stderr).to.equal(0);
      expect(text.stdout).to.match(/^Module 1 has no period rules/);
      const json = await fresh.exec(['periods', 'list', '--module', '1', '--json']);
      expect(json.code, json.stderr).to.equal(0);
      expect(JSON.parse(json.stdout)).to.deep.equal([]);
      expect(existsSync(fresh.db)).to.equal(false);
    } finally {
      await fresh.close();
    }
  });

  it('--help describes the admin commands', async () => {
    const r = await w.exec(['--help']);
    expect(r.code).to.equal(0);
    for (const c of ['periods', 'pool', 'maintain', 'sandbox', 'demo']) expect(r.stdout).to.include(c);
  });
});
