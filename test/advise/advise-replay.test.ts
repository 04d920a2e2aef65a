// `advise` (the built executable) on histories recorded in a real state file, for the three churn
// shapes: the service events as the module's item commands record them (open, each prolong after a
// payment, close), the sandbox's prices through pricelist.export. The runs through the real
// commands are advise-real.test.ts and advise-shapes.test.ts (14 services: a year of real processes
// takes minutes); here larger stories (60 services) reach advise through the state it reads, and its
// figures must be the pure replay's.
import { expect } from 'chai';
import { advise, type AdviceReport } from '../../src/advise/advise.js';
import { dayNumber } from '../../src/advise/calendar.js';
import { addDays, addMonths } from '../../src/dates.js';
import { DEFAULT_PRICES } from '../../src/sandbox/licensing-state.js';
import { MODULE, World } from '../support/world.js';
import { asHistories, churn, type ChurnService, type Shape } from './churn.js';

const START = '2026-01-10';
const LAST = addDays(addMonths(START, 12), -1);

function record(w: World, story: readonly ChurnService[]): void {
  w.store((st) => {
    for (const s of story) {
      const base = { module: MODULE, item: s.item, period: String(s.period), panel: s.tariff, pricelist: s.hostPricelist, itemtype: 'soft' };
      s.paid.forEach(([day, until], i) => st.recordServiceEvent({ ...base, day, command: i === 0 ? 'open' : 'prolong', expiredate: until }));
      if (s.close) st.recordServiceEvent({ ...base, day: s.close, command: 'close', expiredate: s.paid.at(-1)![1] });
    }
    // A service without a panel is not replayed, and says so.
    st.recordServiceEvent({ module: MODULE, item: 999, period: '1', panel: 'nopanel', pricelist: '20', itemtype: 'soft', day: START, command: 'open', expiredate: addMonths(START, 1) });
  });
}

describe('advise on recorded histories of growing, steady and shrinking churn', function () {
  this.timeout(120_000);
  const changedRules: string[] = [];
  for (const shape of ['growing', 'steady', 'shrinking'] as Shape[]) {
    it(`${shape}: names the rule set the replay finds cheapest, with the replay's figures, and the optimum below all`, async () => {
      const w = await World.create({ day: LAST });
      try {
        const story = churn({ seed: 1600 + shape.length, shape, services: 60, start: START, months: 12 });
        // The state exists once a writing command ran; the rule set used is 1 → 12.
        expect((await w.exec(['periods', 'add', '--module', String(MODULE), '--source', '1', '--target', '12'])).code).to.equal(0);
        record(w, story);
        const r = await w.exec(['advise', '--module', String(MODULE), '--json']);
        expect(r.code, r.stderr).to.equal(0);
        const got = JSON.parse(r.stdout) as AdviceReport & { currency: string };
        const pure = advise({
          module: MODULE,
          services: asHistories(story),
          current: [{ id: 1, module: MODULE, source: 1, target: 12, itemtype: null, pricelist: null }],
          prices: DEFAULT_PRICES,
          purchases: [],
          from: dayNumber(START),
          to: dayNumber(LAST) + 1,
        });
        expect(got.services).to.equal(story.length);
        expect(got.candidates.map((c) => [c.key, c.spend.cents])).to.deep.equal(pure.candidates.map((c) => [c.key, c.spend.cents]));
        expect(got.optimum).to.deep.equal(pure.optimum);
        const cheapest = Math.min(...pure.candidates.map((c) => c.spend.cents));
        expect(got.candidates.find((c) => c.key === got.recommended.key)!.spend.cents).to.equal(cheapest);
        expect(got.recommended.key).to.equal(pure.recommended.key);
        for (const c of got.candidates) expect(got.optimum.cents, c.name).to.be.at.most(c.spend.cents);
        expect(got.currency).to.be.a('string');
        // The recommended commands, run, give the recommended rules (when it is not "keep").
        expect(got.recommended.commands.length > 0, 'advice to change the rules comes with the commands').to.equal(!got.recommended.keep);
        if (!got.recommended.keep) changedRules.push(shape);
        for (const cmd of got.recommended.commands) expect((await w.exec(cmd.split(' ').slice(1))).code, cmd).to.equal(0);
        const again = JSON.parse((await w.exec(['advise', '--module', String(MODULE), '--json'])).stdout) as AdviceReport;
        expect(again.recommended.keep, JSON.stringify(again.recommended)).to.equal(true);
        process.stdout.write(`      ${shape}: ${got.candidates.map((c) => `${c.key} ${(c.spend.cents / 100).toFixed(2)}`).join(', ')}; optimum ${(got.optimum.cents / 100).toFixed(2)}; recommended ${got.recommended.key}\n`);
        const text = await w.exec(['advise', '--module', String(MODULE)]);
        expect(text.stdout).to.include('service 999 (no control panel)');
      } finally {
        await w.close();
      }
    });
  }

  it('the check that the printed commands set the advised rules ran with commands in at least one shape (not only on "keep")', () => {
    expect(changedRules, 'shapes whose advice changed the rules').to.not.deep.equal([]);
  });
});
