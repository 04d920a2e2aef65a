// Period advice against the real module, growing shape: a year played under the seed's rule (1 → 12),
// then the advice's own printed commands applied to a fresh module and the same year played again —
// what advise said the recommended rules would have spent must be what the sandbox is then paid.
import { expect } from 'chai';
import { addRuleArgs, checkYear, money, ok, playYear, type PlayedYear } from './real-year.js';

const SEED_RULE = [{ source: 1, target: 12, itemtype: null, pricelist: null }];

describe('advise on a growing year played through the real commands', function () {
  this.timeout(900_000);
  let year: PlayedYear;
  let again: PlayedYear;

  before(async () => {
    year = await playYear('growing', SEED_RULE);
  });
  after(async () => {
    await year?.w.close();
    await again?.w.close();
  });

  it("records the sandbox's debits, replays the rules used within 1 %, recommends the cheapest, optimum below all", () => {
    checkYear(year, 'growing under 1 → 12');
    expect(year.report.recommended.keep, 'the seed rule is not the cheapest in a growing year').to.equal(false);
  });

  it('prints the same advice as a table with the commands that set it', async () => {
    const text = await ok(year.w, ['advise', '--module', '1']);
    expect(text).to.include(`Period advice for module 1: ${year.story.length} service(s)`);
    expect(text).to.include('offline optimum');
    for (const c of year.report.recommended.commands) expect(text).to.include(c);
  });

  it("the recommended rules, set by advise's own commands and played for real, cost what advise said (within 1 %)", async () => {
    const { recommended } = year.report;
    const commands = recommended.commands.map((c) => {
      const words = c.split(' ');
      expect(words[0]).to.equal('pmisplicense');
      return words.slice(1);
    });
    again = await playYear('growing', recommended.rules, [...SEED_RULE.map(addRuleArgs), ...commands]);
    const said = year.report.candidates.find((c) => c.key === recommended.key)!.spend.cents;
    const gap = Math.abs(again.spentCents - said) / said;
    process.stdout.write(`      advise said ${recommended.key} would spend ${money(said)}; played for real: ${money(again.spentCents)} (${(gap * 100).toFixed(2)} %)\n`);
    expect(gap).to.be.at.most(0.01);
    expect(again.spentCents).to.be.below(year.spentCents);
    checkYear(again, `growing under the advice (${recommended.key})`);
    expect(again.report.recommended.keep, 'advice on the advised rules: keep them').to.equal(true);
  });
});
