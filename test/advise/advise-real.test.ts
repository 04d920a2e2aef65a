// Period advice against the real module: a seeded year of churn played through the built executable
// (open, prolong, close as BILLmanager calls them, the daily maintain as cron runs it) against the
// sandbox licensing server and the simulated host, under one rule set (1 → 12); then `advise` on the
// resulting state. Its replay of the rules that were used must come to what the sandbox actually
// debited (within 1 %), its record of what was spent must be the sandbox's to the cent, and it must
// name the rule set that the pure replay of the same story finds cheapest.
import { expect } from 'chai';
import { advise, type AdviceReport } from '../../src/advise/advise.js';
import { dayNumber, dayString } from '../../src/advise/calendar.js';
import { addDays, addMonths } from '../../src/dates.js';
import { DEFAULT_PRICES } from '../../src/sandbox/licensing-state.js';
import { MODULE, World } from '../support/world.js';
import { asHistories, churn, type ChurnService } from './churn.js';

const START = '2026-01-10';
const MONTHS = 12;

async function ok(w: World, args: string[]): Promise<string> {
  const r = await w.exec(args);
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0);
  return r.stdout;
}

/** Plays the story day by day through the real commands; returns the sandbox's spend in cents. */
async function play(w: World, story: readonly ChurnService[]): Promise<number> {
  const end = addMonths(START, MONTHS);
  let ro = 1000;
  const run = async (command: string, item: number) => {
    const r = await w.command(command, { item, ro: ro++ });
    expect(r.code, `${w.day} ${command} ${item}: ${r.stdout}`).to.equal(0);
  };
  for (let day = START; day < end; day = addDays(day, 1)) {
    w.setDay(day);
    for (const s of story) {
      if (s.close !== day) continue;
      w.host.sim.updateService(s.item, { status: 4 });
      await run('close', s.item);
    }
    for (const s of story) {
      if (s.open !== day) continue;
      w.addService({ id: s.item, ip: `203.0.113.${s.item - 100}`, panel: s.tariff, period: String(s.period), pricelist: s.hostPricelist, expiredate: s.paid[0]![1] });
      await run('open', s.item);
    }
    for (const s of story) {
      const pay = s.paid.findIndex(([from], i) => i > 0 && from === day);
      if (pay < 0) continue;
      w.host.sim.updateService(s.item, { expiredate: s.paid[pay]![1] });
      await run('prolong', s.item);
    }
    // cron's maintain, on the days it can buy something (a bound license within the renewal lead
    // whose service is paid beyond it): the other days it spends nothing and costs a process each
    // (a pooled license that expired is dropped by the next run, and was not re-usable meanwhile).
    const lead = addDays(day, 5);
    const due = w.store((st) =>
      st.licenses(MODULE).some((l) => l.state === 'bound' && l.item !== null && l.expiredate !== null && l.expiredate <= lead && (w.host.sim.service(l.item)?.expiredate ?? '') > l.expiredate),
    );
    if (due) await ok(w, ['maintain', '--module', String(MODULE)]);
  }
  return Math.round(w.sandbox.spent * 100);
}

describe('advise on a year of churn played through the real commands', function () {
  this.timeout(600_000);
  let w: World;
  let story: ChurnService[];
  let spentCents: number;
  let report: AdviceReport & { currency: string };
  const lastDay = addDays(addMonths(START, MONTHS), -1);

  before(async () => {
    w = await World.create({ day: START, balance: 100_000 });
    story = churn({ seed: 16_016, shape: 'growing', services: 14, start: START, months: MONTHS, periods: [1, 1, 1, 12, 3] });
    await ok(w, ['periods', 'add', '--module', String(MODULE), '--source', '1', '--target', '12']);
    spentCents = await play(w, story);
    w.setDay(lastDay);
    report = JSON.parse(await ok(w, ['advise', '--module', String(MODULE), '--json'])) as AdviceReport & { currency: string };
  });
  after(async () => {
    await w?.close();
  });

  it('replays every service of the story over the whole year', () => {
    expect(report.services).to.equal(story.length);
    expect(report.to).to.equal(lastDay);
    expect(report.from <= START).to.equal(true);
    expect(spentCents).to.be.greaterThan(0);
  });

  it('records what was spent to the cent of the sandbox\'s debits', () => {
    expect(report.actual.cents).to.equal(spentCents);
    expect(report.actual.orders).to.equal(w.purchases());
  });

  it("replays the rules that were used to within 1 % of the sandbox's actual spend", () => {
    const used = report.candidates.find((c) => c.key === 'current')!;
    const gap = Math.abs(used.spend.cents - spentCents) / spentCents;
    process.stdout.write(`      sandbox spent ${(spentCents / 100).toFixed(2)}, advise's replay of the rules used ${(used.spend.cents / 100).toFixed(2)} (${(gap * 100).toFixed(2)} %)\n`);
    expect(gap).to.be.at.most(0.01);
  });

  it('names the rule set the offline replay of the same story finds cheapest, and the optimum is below every rule set', () => {
    const pure = advise({
      module: MODULE,
      services: asHistories(story),
      current: [{ id: 1, module: MODULE, source: 1, target: 12, itemtype: null, pricelist: null }],
      prices: DEFAULT_PRICES,
      purchases: [],
      from: dayNumber(START),
      to: dayNumber(lastDay) + 1,
    });
    const cheapest = [...pure.candidates].sort((a, b) => a.spend.cents - b.spend.cents)[0]!;
    expect(report.recommended.key).to.equal(pure.recommended.key);
    expect(report.recommended.rules).to.deep.equal(pure.recommended.rules);
    expect(report.candidates.find((c) => c.key === report.recommended.key)!.spend.cents).to.equal(cheapest.spend.cents);
    for (const c of report.candidates) expect(report.optimum.cents).to.be.at.most(c.spend.cents);
    expect(report.optimum.cents).to.equal(pure.optimum.cents);
    process.stdout.write(`      ${report.candidates.map((c) => `${c.key} ${(c.spend.cents / 100).toFixed(2)}`).join(', ')}; optimum ${(report.optimum.cents / 100).toFixed(2)}; recommended ${report.recommended.key}\n`);
  });

  it('prints the same advice as a table with the commands that set it', async () => {
    const text = await ok(w, ['advise', '--module', String(MODULE)]);
    expect(text).to.include(`Period advice for module ${MODULE}: ${story.length} service(s)`);
    expect(text).to.include('offline optimum');
    for (const c of report.recommended.commands) expect(text).to.include(c);
    expect(dayString(dayNumber(lastDay))).to.equal(lastDay);
  });
});
