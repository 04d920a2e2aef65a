// `pmisplicense tariffs --module N [--json]` (SPEC 3 v3): the licensing server's tariffs as its
// price export gives them (`pricelist.export`, SPEC 7) — the ids to type as the panel
// enumeration's internal names, their names, and what each license period costs. It only reads:
// one call to the licensing server, nothing written anywhere.
import type { Paths } from '../config.js';
import { Host } from '../host/host.js';
import { LicensingClient } from '../upstream/client.js';
import type { Tariff, TariffPrice } from '../upstream/types.js';

export interface TariffsOptions {
  module: number;
  json: boolean;
}

/** The license periods a column is shown for, in this order. */
const COLUMNS: ReadonlyArray<readonly [number, string]> = [
  [1, '1 month'],
  [12, '1 year'],
  [0, 'lifetime'],
];

/** A price as the administrator reads it; "unknown" where the export gave no readable one. */
export function priceText(p: TariffPrice | null | undefined): string {
  if (!p) return '-';
  if (p.cost === null) return 'unknown';
  return `${p.cost.toFixed(2)}${p.currency ? ` ${p.currency}` : ''}`;
}

export function tariffsTable(tariffs: readonly Tariff[]): string {
  const rows: string[][] = [['id', 'name', ...COLUMNS.map(([, label]) => label)]];
  for (const t of tariffs) {
    rows.push([t.id, t.name || '(no name)', ...COLUMNS.map(([period]) => priceText(t.prices.find((p) => p.period === period)))]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export async function tariffsCommand(p: Paths, o: TariffsOptions): Promise<number> {
  const host = new Host(p.mgrctl);
  const upstream = new LicensingClient(await host.readModule(o.module));
  const tariffs = await upstream.tariffs();
  if (o.json) {
    process.stdout.write(`${JSON.stringify(tariffs)}\n`);
    return 0;
  }
  if (tariffs.length === 0) {
    process.stdout.write(`The licensing server of module ${o.module} lists no tariff the account can order (pricelist.export itemtype=soft).\n`);
    return 0;
  }
  process.stdout.write(
    [
      `Tariffs the licensing server of module ${o.module} sells (pricelist.export):`,
      '',
      tariffsTable(tariffs),
      '',
      'Type the id as the internal name of the panel enumeration\'s value (Products → Enumerations).',
      '"-": the export lists no price for that period; "unknown": it lists one that cannot be read.',
    ].join('\n') + '\n',
  );
  return 0;
}
