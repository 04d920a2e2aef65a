// A seeded year of churn played through the real module (open, prolong, close as BILLmanager calls
// them, the daily maintain as cron runs it) against the sandbox licensing server and the simulated
// host, under a given rule set; then `advise` on the resulting state, and the pure replay of the same
// story for comparison. Used by the advise-real tests (one year per shape and rule set).
import { expect } from 'chai';
import { advise, type AdviceReport } from '../../src/advise/advise.js';
import { dayNumber } from '../../src/advise/calendar.js';
import type { Rule } from '../../src/advise/model.js';
import { addDays, addMonths } from '../../src/dates.js';
import { DEFAULT_PRICES } from '../../src/sandbox/licensing-state.js';
import { MODULE, World } from '../support/world.js';
import { asHistories, churn, type ChurnService, type Shape } from './churn.js';

export const START = '2026-01-10';
export const MONTHS = 12;
export const LAST_DAY = addDays(addMonths(START, MONTHS), -1);

export type Report = AdviceReport & { currency: string };

export async function ok(w: World, args: string[]): Promise<string> {
  const r = await w.exec(args);
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0);
  return r.stdout;
}

export function story(shape: Shape): ChurnService[] {
  return churn({ seed: 16_016, shape, services: 14, start: START, months: MONTHS, periods: [1, 1, 1, 12, 3] });
}

/** The `periods add` arguments of a rule (what `advise` prints after `pmisplicense`). */
export function addRuleArgs(r: Rule): string[] {
  return ['periods', 'add', '--module', String(MODULE), '--source', String(r.source), '--target', String(r.target), ...(r.itemtype ? ['--itemtype', r.itemtype, '--pricelist', String(r.pricelist)] : [])];
}

/** Plays the story day by day through the real commands; returns the sandbox's spend in cents. */
async function play(w: World, list: readonly ChurnService[]): Promise<number> {
  const end = addMonths(START, MONTHS);
  let ro = 1000;
  const run = async (command: string, item: number) => {
    const r = await w.command(command, { item, ro: ro++ });
    expect(r.code, `${w.day} ${command} ${item}: ${r.stdout}`).to.equal(0);
  };
  for (let day = START; day < end; day = addDays(day, 1)) {
    w.setDay(day);
    for (const s of list) {
      if (s.close !== day) continue;
      w.host.sim.updateService(s.item, { status: 4 });
      await run('close', s.item);
    }
    for (const s of list) {
      if (s.open !== day) continue;
      w.addService({ id: s.item, ip: `203.0.113.${s.item - 100}`, panel: s.tariff, period: String(s.period), pricelist: s.hostPricelist, expiredate: s.paid[0]![1] });
      await run('open', s.item);
    }
    for (const s of list) {
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

export interface PlayedYear {
  w: World;
  story: ChurnService[];
  rules: Rule[];
  spentCents: number;
  report: Report;
  /** The same story and rules through the pure replay (no module, no sandbox). */
  pure: AdviceReport;
}

/** A fresh world with these rules (set by `periods add`, or by the given admin commands, which must
 *  leave exactly these rules), the story played, then `advise --json` on its last day. */
export async function playYear(shape: Shape, rules: readonly Rule[], setup: readonly string[][] = rules.map(addRuleArgs)): Promise<PlayedYear> {
  const w = await World.create({ day: START, balance: 100_000 });
  const list = story(shape);
  for (const args of setup) await ok(w, args);
  const spentCents = await play(w, list);
  w.setDay(LAST_DAY);
  const report = JSON.parse(await ok(w, ['advise', '--module', String(MODULE), '--json'])) as Report;
  const pure = advise({
    module: MODULE,
    services: asHistories(list),
    current: rules.map((r, i) => ({ ...r, id: i + 1, module: MODULE })),
    prices: DEFAULT_PRICES,
    purchases: [],
    from: dayNumber(START),
    to: dayNumber(LAST_DAY) + 1,
  });
  return { w, story: list, rules: [...rules], spentCents, report, pure };
}

export const money = (cents: number): string => (cents / 100).toFixed(2);

/** What every played year must show: the record is the sandbox's, the replay of the rules used is
 *  within 1 % of it, the advice is the pure replay's cheapest, the optimum is below every rule set. */
export function checkYear(y: PlayedYear, label: string): void {
  const { report, spentCents, pure } = y;
  expect(report.services, `${label}: services`).to.equal(y.story.length);
  expect(report.to).to.equal(LAST_DAY);
  expect(report.from <= START).to.equal(true);
  expect(spentCents, `${label}: the sandbox was paid`).to.be.greaterThan(0);
  expect(report.actual.cents, `${label}: advise's record of what was spent`).to.equal(spentCents);
  expect(report.actual.orders, `${label}: orders`).to.equal(y.w.purchases());
  const used = report.candidates.find((c) => c.key === 'current')!;
  const gap = Math.abs(used.spend.cents - spentCents) / spentCents;
  expect(gap, `${label}: replay of the rules used ${money(used.spend.cents)} against the sandbox's ${money(spentCents)}`).to.be.at.most(0.01);
  const cheapest = [...pure.candidates].sort((a, b) => a.spend.cents - b.spend.cents)[0]!;
  expect(report.recommended.key, `${label}: recommended`).to.equal(pure.recommended.key);
  expect(report.recommended.rules).to.deep.equal(pure.recommended.rules);
  expect(report.candidates.find((c) => c.key === report.recommended.key)!.spend.cents).to.equal(cheapest.spend.cents);
  for (const c of report.candidates) expect(report.optimum.cents, `${label}: optimum against ${c.key}`).to.be.at.most(c.spend.cents);
  expect(report.optimum.cents).to.equal(pure.optimum.cents);
  process.stdout.write(
    `      ${label}: sandbox spent ${money(spentCents)}, advise's replay of the rules used ${money(used.spend.cents)} (${(gap * 100).toFixed(2)} %); ` +
      `${report.candidates.map((c) => `${c.key} ${money(c.spend.cents)}`).join(', ')}; optimum ${money(report.optimum.cents)}; recommended ${report.recommended.key}\n`,
  );
}
