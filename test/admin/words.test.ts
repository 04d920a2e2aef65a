// The command line in an administrator's words (issue 16): `help [command]` and `version` answer
// like --help and --version, `periods delete` is `periods remove` (the panel's word), and a typo
// with swapped or missing letters gets a suggestion (Damerau-Levenshtein distance of 2 at most) —
// still a usage error that does nothing.
import { expect } from 'chai';
import { distance, suggest } from '../../src/admin.js';
import { usageError } from '../support/usage.js';
import { MODULE, World } from '../support/world.js';


describe('admin command words: help, version, periods delete, suggestions', function () {
  this.timeout(60_000);
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.close();
  });

  it('help prints what --help prints: overall, for a group, for an action, for a command', async () => {
    for (const [words, flags] of [
      [['help'], ['--help']],
      [['help', 'periods'], ['periods', '--help']],
      [['help', 'periods', 'add'], ['periods', 'add', '--help']],
      [['help', 'maintain'], ['maintain', '--help']],
      [['help', 'periods', 'delete'], ['periods', 'remove', '--help']],
    ] as const) {
      const a = await w.exec([...words]);
      const b = await w.exec([...flags]);
      expect(a.code, a.stderr).to.equal(0);
      expect(a.stdout, words.join(' ')).to.equal(b.stdout);
      expect(a.stdout).to.match(/^Usage: pmisplicense/);
    }
    expect((await w.exec(['help'])).stdout).to.include('pmisplicense help <command>');
    expect((await w.exec(['periods', '--help'])).stdout).to.match(/remove, delete +remove a rule/);
    usageError(await w.exec(['help', 'perods']), /help: unknown command "perods" \(did you mean "periods"\?\)/);
    usageError(await w.exec(['help', 'periods', 'lsit']), /unknown action "lsit" for periods \(did you mean "list"\?\)/);
  });

  it('version prints what --version prints; with an argument it is a usage error', async () => {
    const a = await w.exec(['version']);
    const b = await w.exec(['--version']);
    expect(a.code).to.equal(0);
    expect(a.stdout).to.equal(b.stdout).and.to.match(/^\d+\.\d+\.\d+/);
    usageError(await w.exec(['version', '--json']), /version takes no arguments/);
  });

  it('periods delete removes the rule as periods remove does', async () => {
    const add = await w.exec(['periods', 'add', '--module', String(MODULE), '--source', '3', '--target', '12']);
    const id = Number(add.stdout);
    expect(w.store((s) => s.periodRules(MODULE).map((r) => r.id))).to.include(id);
    const del = await w.exec(['periods', 'delete', '--module', String(MODULE), '--id', String(id)]);
    expect(del.code, del.stderr).to.equal(0);
    expect(w.store((s) => s.periodRules(MODULE).map((r) => r.id))).to.not.include(id);
    const again = await w.exec(['periods', 'delete', '--module', String(MODULE), '--id', String(id)]);
    expect(again.code).to.equal(1); // a rule that does not exist, as for remove
  });

  it('swapped letters get a suggestion and nothing is done: lsit → list, adpot → adopt, mantain → maintain', async () => {
    const seq = w.sandbox.lastRequestSeq();
    const calls = w.host.sim.calls().length;
    usageError(await w.exec(['periods', 'lsit', '--module', String(MODULE)]), /unknown action "lsit" for periods \(did you mean "list"\?\)/);
    usageError(await w.exec(['pool', 'adpot', '--module', String(MODULE), '--license', '5']), /unknown action "adpot" for pool \(did you mean "adopt"\?\)/);
    usageError(await w.exec(['mantain']), /unknown command "mantain" \(did you mean "maintain"\?\)/);
    usageError(await w.exec(['pool', 'list', '--josn']), /no option "--josn" \(did you mean "--json"\?\)/);
    usageError(await w.exec(['verison']), /did you mean "version"/);
    usageError(await w.exec(['periods', 'dleete', '--module', '1', '--id', '1']), /did you mean "delete"/);
    expect(w.sandbox.requestsAfter(seq)).to.have.length(0);
    expect(w.host.sim.calls().length).to.equal(calls);
  });

  it('distance counts a swap of neighbours as one edit; no suggestion beyond 2 edits or for a stray short word', () => {
    expect(distance('lsit', 'list')).to.equal(1);
    expect(distance('adpot', 'adopt')).to.equal(1);
    expect(distance('ca', 'abc')).to.equal(3); // optimal string alignment, not unrestricted Damerau
    expect(distance('reconcile', 'reconcile')).to.equal(0);
    expect(suggest('lsit', ['add', 'list', 'remove'])).to.equal(' (did you mean "list"?)');
    expect(suggest('rmeove', ['add', 'list', 'remove'])).to.equal(' (did you mean "remove"?)');
    expect(suggest('xyz', ['add', 'list', 'remove'])).to.equal('');
    expect(suggest('qq', ['id'])).to.equal('');
  });
});
