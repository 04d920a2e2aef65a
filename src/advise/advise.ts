// Period advice (issue 16): the provider's own history replayed under each candidate rule set,
// against what was spent and the offline optimum; then the cheapest rules and the commands that
// set them. Pure: the command (src/commands/advise.ts) reads the state and the prices.
import type { PeriodRule, Purchase } from '../pool/store.js';
import { dayNumber, dayString, plusMonths } from './calendar.js';
import { priceCents, type PriceTable, type Rule, type RuleSet, type ServiceHistory, type Spend } from './model.js';
import { cheapestCover, type LicenseKind } from './optimum.js';
import { addSpend, byTariff, emptySpend, licensePeriods, replayTariff, UnknownPriceError } from './simulate.js';

export interface AdviseInput {
  module: number;
  services: readonly ServiceHistory[];
  /** The module's rules now (with their ids, for `periods remove`). */
  current: readonly PeriodRule[];
  prices: PriceTable;
  /** What the module recorded as bought (orders and prolongations). */
  purchases: readonly Purchase[];
  /** Day numbers: the replay covers [from, to). */
  from: number;
  to: number;
}

export interface CandidateResult extends RuleSet {
  spend: Spend;
}

export interface AdviceReport {
  module: number;
  from: string;
  /** Last day replayed (inclusive). */
  to: string;
  services: number;
  /** Tariffs left out: a price the replay needs is unknown. */
  unpriced: string[];
  actual: { cents: number; orders: number; renewals: number; unpriced: number };
  candidates: CandidateResult[];
  optimum: { cents: number; bought: Record<number, number> };
  recommended: { key: string; name: string; rules: Rule[]; keep: boolean; commands: string[]; savesCents: number };
}

const sameRule = (a: Rule, b: Rule): boolean => a.source === b.source && a.target === b.target && (a.itemtype ?? null) === (b.itemtype ?? null) && (a.pricelist ?? null) === (b.pricelist ?? null);

function describeRules(rules: readonly Rule[]): string {
  if (rules.length === 0) return 'no rules';
  return rules.map((r) => `${r.source} → ${r.target}${r.itemtype ? ` (${r.itemtype} plan ${r.pricelist})` : ''}`).join(', ');
}

/** 1 and 3, 6, 24, 36 (not sold) fall back to a month; 12 is a year; lifetime and the rest are left alone. */
function defaultTarget(period: number): number {
  return period === 12 ? 12 : 1;
}

function isMonths(p: number): boolean {
  return p > 0;
}

/** The cheapest of "every plan's services monthly or yearly", per BILLmanager tariff plan (coordinate descent). */
function perPlanRules(services: readonly ServiceHistory[], cost: (rules: Rule[], tariffs: ReadonlySet<string>) => number): Rule[] {
  const groups = new Map<string, { itemtype: string; pricelist: number; periods: Set<number>; tariffs: Set<string> }>();
  for (const s of services) {
    if (!isMonths(s.period) || !/^[1-9]\d{0,9}$/.test(s.hostPricelist)) continue;
    const key = `${s.itemtype}\u0000${s.hostPricelist}`;
    const g = groups.get(key) ?? { itemtype: s.itemtype, pricelist: Number(s.hostPricelist), periods: new Set(), tariffs: new Set() };
    g.periods.add(s.period);
    g.tariffs.add(s.tariff);
    groups.set(key, g);
  }
  const list = [...groups.values()];
  const rulesOf = (targets: number[]): Rule[] =>
    list.flatMap((g, i) => [...g.periods].sort((a, b) => a - b).filter((p) => targets[i] !== defaultTarget(p)).map((p) => ({ source: p, target: targets[i]!, itemtype: g.itemtype, pricelist: g.pricelist })));
  const all = new Set(services.map((s) => s.tariff));
  const monthly = list.map(() => 1);
  const yearly = list.map(() => 12);
  let targets = cost(rulesOf(yearly), all) < cost(rulesOf(monthly), all) ? yearly : monthly;
  for (let i = 0; i < list.length; i++) {
    const flipped = targets.slice();
    flipped[i] = targets[i] === 12 ? 1 : 12;
    const touched = list[i]!.tariffs;
    if (cost(rulesOf(flipped), touched) < cost(rulesOf(targets), touched)) targets = flipped;
  }
  return rulesOf(targets);
}

/** The license periods the rules give the services, as a short key (run-length encoded). */
function periodKey(services: readonly ServiceHistory[], rules: readonly Rule[]): string {
  const periods = licensePeriods(services, rules);
  let out = '';
  for (let i = 0; i < periods.length; ) {
    let j = i;
    while (j < periods.length && periods[j] === periods[i]) j++;
    out += `${periods[i]}x${j - i},`;
    i = j;
  }
  return out;
}

export function advise(input: AdviseInput): AdviceReport {
  const { services, prices, from, to } = input;
  const tariffs = byTariff(services);
  const unpriced = new Set<string>();
  const replayCache = new Map<string, Spend | null>();
  const tariffSpend = (tariff: string, rules: readonly Rule[]): Spend | null => {
    const list = tariffs.get(tariff)!;
    // Rule sets that give this tariff's services the same periods replay alike: one replay.
    const key = `${tariff}|${periodKey(list, rules)}`;
    if (replayCache.has(key)) return replayCache.get(key)!;
    let s: Spend | null;
    try {
      s = replayTariff(tariff, list, rules, prices, from, to);
    } catch (e) {
      if (!(e instanceof UnknownPriceError)) throw e;
      unpriced.add(tariff);
      s = null;
    }
    replayCache.set(key, s);
    return s;
  };
  const spendOf = (rules: readonly Rule[], only: ReadonlySet<string> | null = null): Spend => {
    let total = emptySpend();
    for (const t of tariffs.keys()) {
      if (only && !only.has(t)) continue;
      const s = tariffSpend(t, rules);
      if (s) total = addSpend(total, s);
    }
    return total;
  };

  const current: Rule[] = input.current.map(({ source, target, itemtype, pricelist }) => ({ source, target, itemtype, pricelist }));
  const sources = [...new Set(services.map((s) => s.period))].filter(isMonths).sort((a, b) => a - b);
  const sets: RuleSet[] = [
    { key: 'current', name: `the rules now (${describeRules(current)})`, rules: current },
    { key: 'none', name: 'no rules (license period = service period)', rules: [] },
    { key: 'year', name: 'every service period → 12 (yearly licenses)', rules: sources.filter((p) => p !== 12).map((p) => ({ source: p, target: 12, itemtype: null, pricelist: null })) },
    { key: 'per-plan', name: 'per tariff plan: monthly or yearly, whichever is cheaper', rules: perPlanRules(services, (rules, only) => spendOf(rules, only).cents) },
  ];
  // Two rule sets that give every service the same license period are one candidate (the first named).
  const seen = new Map<string, CandidateResult>();
  const candidates: CandidateResult[] = [];
  for (const set of sets) {
    const signature = periodKey(services, set.rules);
    const same = seen.get(signature);
    if (same) {
      if (set.key !== 'current' && same.key === 'current') same.name += ` = ${set.name}`;
      continue;
    }
    const c = { ...set, spend: spendOf(set.rules) };
    seen.set(signature, c);
    candidates.push(c);
  }
  // Unpriced tariffs are left out of every figure alike, so the figures compare.
  if (unpriced.size > 0) for (const c of candidates) c.spend = spendOf(c.rules, new Set([...tariffs.keys()].filter((t) => !unpriced.has(t))));

  // The offline optimum, per tariff.
  let optimumCents = 0;
  const bought: Record<number, number> = {};
  const D = Math.max(0, to - from);
  for (const [tariff, list] of tariffs) {
    if (unpriced.has(tariff)) continue;
    const demand = new Array<number>(D).fill(0);
    for (const s of list) {
      const end = Math.min(s.close ?? to, to);
      const start = Math.max(s.open, from);
      // Walk the paid-until steps alongside the days (each step once).
      let step = -1;
      let until = Number.NEGATIVE_INFINITY;
      for (let d = start; d < end; d++) {
        while (step + 1 < s.paid.length && s.paid[step + 1]!.from <= d) until = s.paid[++step]!.until;
        if (until >= d) demand[d - from]!++;
      }
    }
    const kinds: LicenseKind[] = [];
    for (const months of [1, 12]) {
      const cents = priceCents(prices, tariff, months);
      if (cents !== null) kinds.push({ months, cents, end: (s) => plusMonths(from + s, months) - from });
    }
    // A lifetime license covers every day left: in the optimum too, so that a rule set with a
    // lifetime target is never below it either.
    const lifetime = priceCents(prices, tariff, 0);
    if (lifetime !== null) kinds.push({ months: 0, cents: lifetime, end: () => D - 1 });
    const o = cheapestCover(demand, kinds);
    optimumCents += o.cents;
    for (const [k, n] of Object.entries(o.bought)) bought[Number(k)] = (bought[Number(k)] ?? 0) + n;
  }

  // What was spent, as the module recorded it, at today's prices.
  const actual = { cents: 0, orders: 0, renewals: 0, unpriced: 0 };
  for (const p of input.purchases) {
    const d = dayNumber(p.day);
    if (d < from || d >= to || unpriced.has(p.pricelist)) continue;
    const c = priceCents(prices, p.pricelist, p.period);
    if (c === null) {
      actual.unpriced++;
      continue;
    }
    actual.cents += c;
    if (p.kind === 'order') actual.orders++;
    else actual.renewals++;
  }

  const currentResult = candidates.find((c) => c.key === 'current')!;
  const ranked = [...candidates].sort((a, b) => a.spend.cents - b.spend.cents || a.rules.length - b.rules.length);
  const best = ranked[0]!.spend.cents === currentResult.spend.cents ? currentResult : ranked[0]!;
  const keep = best === currentResult;
  const commands: string[] = [];
  if (!keep) {
    const present = new Set(sources);
    for (const r of input.current) {
      if (present.has(r.source) && !best.rules.some((b) => sameRule(b, r))) commands.push(`pmisplicense periods remove --module ${input.module} --id ${r.id}`);
    }
    for (const r of best.rules) {
      if (current.some((c) => sameRule(c, r))) continue;
      commands.push(`pmisplicense periods add --module ${input.module} --source ${r.source} --target ${r.target}${r.itemtype ? ` --itemtype ${r.itemtype} --pricelist ${r.pricelist}` : ''}`);
    }
  }
  return {
    module: input.module,
    from: dayString(from),
    to: dayString(to - 1),
    services: services.length,
    unpriced: [...unpriced].sort(),
    actual,
    candidates,
    optimum: { cents: optimumCents, bought },
    recommended: { key: best.key, name: best.name, rules: best.rules, keep, commands, savesCents: currentResult.spend.cents - best.spend.cents },
  };
}

/** One line for the pool page (SPEC 8's summary above the table): the rules now against the advice. */
export function adviceLine(r: AdviceReport, currency: string): string {
  const m = (c: number) => `${(c / 100).toFixed(2)}${currency ? ` ${currency}` : ''}`;
  if (r.services === 0) return `Period advice: no service history recorded yet (pmisplicense advise --module ${r.module}).`;
  const now = r.candidates.find((c) => c.key === 'current')!;
  const head = `Period advice (${r.from} – ${r.to}, ${r.services} services): the rules now would spend ${m(now.spend.cents)}, the offline optimum ${m(r.optimum.cents)}`;
  if (r.recommended.keep) return `${head}; no other rule set would spend less: keep them.`;
  const best = r.candidates.find((c) => c.key === r.recommended.key)!;
  return `${head}; ${r.recommended.name} would spend ${m(best.spend.cents)} (${m(r.recommended.savesCents)} less): pmisplicense advise --module ${r.module} gives the commands.`;
}
