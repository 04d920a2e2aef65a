// `pmisplicense advise --module N [--months 12] [--json]` (issue 16): the module's own history
// (the services' commands and the purchases the state recorded) replayed under each candidate
// rule set, at the licensing server's prices (pricelist.export), beside what was spent and the
// offline optimum; then the cheapest rules and the commands that set them. It only reads: the
// state (read-only) and one price export; nothing is written anywhere.
//
// BILLmanager's own database (`item`) would give the history from before the module recorded it;
// its column names for the opening and closing days are not confirmed by a public source, so it is
// not read (the record starts with schema v6 of the state).
import type { Paths } from '../config.js';
import { addMonths, today } from '../dates.js';
import { NoStateError } from '../errors.js';
import { Host } from '../host/host.js';
import { advise, type AdviceReport } from '../advise/advise.js';
import { dayNumber } from '../advise/calendar.js';
import { historiesFromEvents } from '../advise/history.js';
import { priceTable } from '../advise/model.js';
import { LicenseStore } from '../pool/store.js';
import { LicensingClient } from '../upstream/client.js';

export interface AdviseOptions {
  module: number;
  months: number;
  json: boolean;
}

function money(cents: number, currency: string): string {
  return `${(cents / 100).toFixed(2)}${currency ? ` ${currency}` : ''}`;
}

export interface AdviceJson extends AdviceReport {
  currency: string;
}

export function adviceText(r: AdviceReport, currency: string): string {
  const m = (c: number) => money(c, '');
  const pct = (c: number) => (r.optimum.cents > 0 ? `${((c / r.optimum.cents - 1) * 100).toFixed(0)} %` : '-');
  const rows: string[][] = [['', 'spent', 'orders', 'renewals', 're-used', 'above optimum']];
  rows.push(["what was spent (the module's record)", m(r.actual.cents), String(r.actual.orders), String(r.actual.renewals), '-', r.actual.orders + r.actual.renewals > 0 ? pct(r.actual.cents) : '-']);
  for (const c of r.candidates) rows.push([`replayed: ${c.name}`, m(c.spend.cents), String(c.spend.orders), String(c.spend.renewals), String(c.spend.reuses), pct(c.spend.cents)]);
  const bought = Object.entries(r.optimum.bought)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} × ${k === '12' ? 'year' : k === '1' ? 'month' : k === '0' ? 'lifetime' : `${k} months`}`)
    .join(', ');
  rows.push(['offline optimum (knowing the future)', m(r.optimum.cents), '', '', '', '']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const table = rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
  const out = [
    `Period advice for module ${r.module}: ${r.services} service(s) replayed from ${r.from} to ${r.to}, at the licensing server's prices${currency ? ` (${currency})` : ''}.`,
    '',
    ...table,
    ...(bought ? [`(the optimum buys ${bought} license(s))`] : []),
    '',
  ];
  if (r.services === 0) {
    out.push('No service history recorded for this module in that time: advice needs the module to have opened, prolonged and closed services.');
    return out.join('\n');
  }
  if (r.recommended.keep) {
    out.push(`Recommended: keep the rules you have — no candidate would have spent less (${r.recommended.name}).`);
  } else {
    out.push(`Recommended: ${r.recommended.name} — ${money(r.recommended.savesCents, currency)} less than the rules now over this history. To set it:`);
    for (const c of r.recommended.commands) out.push(`  ${c}`);
  }
  out.push(
    '',
    'Replayed as the module runs: closes, opens (the pool first, SPEC 5.5), payments, then the daily maintain (renewal within 5 days, only while the service is paid beyond the license).',
    'The optimum buys month, year (and lifetime) licenses on any day and moves them freely between services; it ignores the one IP/key change a month, so no rule set can beat it.',
  );
  if (r.unpriced.length) out.push(`Left out (the licensing server gives no price a replay needed): tariff ${r.unpriced.join(', ')}.`);
  if (r.actual.unpriced) out.push(`${r.actual.unpriced} recorded purchase(s) have no price now and are not in "what was spent".`);
  return out.join('\n');
}

export async function adviseCommand(p: Paths, o: AdviseOptions): Promise<number> {
  let store: LicenseStore | null = null;
  try {
    store = LicenseStore.open(p.db, { readonly: true });
  } catch (e) {
    if (!(e instanceof NoStateError)) throw e;
  }
  let history: ReturnType<typeof historiesFromEvents> = { services: [], skipped: [] };
  let rules: ReturnType<LicenseStore['periodRules']> = [];
  let purchases: ReturnType<LicenseStore['purchases']> = [];
  try {
    if (store) {
      history = historiesFromEvents(store.serviceEvents(o.module));
      rules = store.periodRules(o.module);
      purchases = store.purchases(o.module);
    }
  } finally {
    store?.close();
  }
  const host = new Host(p.mgrctl);
  const { prices, currency } = priceTable(await new LicensingClient(await host.readModule(o.module)).tariffs());
  const day = today();
  const report = advise({ module: o.module, services: history.services, current: rules, prices, purchases, from: dayNumber(addMonths(day, -o.months)), to: dayNumber(day) + 1 });
  if (o.json) {
    const json: AdviceJson = { ...report, currency };
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } else {
    process.stdout.write(`${adviceText(report, currency)}\n`);
    if (history.skipped.length) process.stdout.write(`Not replayed: ${history.skipped.map((s) => `service ${s.item} (${s.why})`).join(', ')}.\n`);
  }
  return 0;
}
