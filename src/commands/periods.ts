// `periods add|list|remove` (SPEC 3, 5.1). Scripts and the panel rely on the output: `add` prints
// only the new id; `list --json` prints [{id, source, target, itemtype, pricelist}].
import type { Paths } from '../config.js';
import { BadInputError } from '../errors.js';
import { log } from '../log.js';
import { parseLicensePeriod, parseServicePeriod } from '../pool/periods.js';
import { openStore } from '../pool/store.js';

export interface PeriodsArgs {
  action: 'add' | 'list' | 'remove';
  module: number;
  source?: string;
  target?: string;
  itemtype?: string;
  pricelist?: string;
  id?: number;
  json: boolean;
}

function positiveId(what: string, v: number | undefined): number {
  if (v === undefined || !Number.isSafeInteger(v) || v <= 0) throw new BadInputError(what, String(v ?? ''), `--${what} must be a positive whole number.`);
  return v;
}

export async function periodsCommand(p: Paths, a: PeriodsArgs): Promise<number> {
  const module = positiveId('module', a.module);
  const store = openStore(p.db);
  try {
    if (a.action === 'add') {
      if (a.source === undefined) throw new BadInputError('source', '', '--source is required: the service period code the rule applies to.');
      if (a.target === undefined) throw new BadInputError('target', '', '--target is required: 1, 12 or 0.');
      const source = parseServicePeriod(a.source, 'source');
      const target = parseLicensePeriod(a.target, 'target');
      if ((a.itemtype === undefined) !== (a.pricelist === undefined)) {
        throw new BadInputError('pricelist', a.pricelist ?? '', 'A tariff-limited rule needs both --itemtype and --pricelist; a global rule has neither.');
      }
      let pricelist: number | null = null;
      if (a.pricelist !== undefined) {
        if (!/^[1-9]\d{0,9}$/.test(a.pricelist.trim())) throw new BadInputError('pricelist', a.pricelist, `--pricelist must be a tariff plan id, got "${a.pricelist}".`);
        pricelist = Number(a.pricelist.trim());
      }
      const itemtype = a.itemtype === undefined ? null : a.itemtype.trim();
      if (itemtype === '') throw new BadInputError('itemtype', '', '--itemtype must not be empty.');
      let id: number;
      try {
        id = store.addPeriodRule({ module, source, target, itemtype, pricelist });
      } catch (e) {
        if (/UNIQUE/.test((e as Error).message)) throw new BadInputError('source', String(source), `A rule for source period ${source} with the same scope already exists in module ${module}; remove it first.`);
        throw e;
      }
      log.info(`period rule ${id} added to module ${module}: ${source} -> ${target}${itemtype ? ` for ${itemtype}/${pricelist}` : ''}`);
      process.stdout.write(`${id}\n`);
    } else if (a.action === 'remove') {
      const id = positiveId('id', a.id);
      if (!store.removePeriodRule(module, id)) throw new BadInputError('id', String(id), `Module ${module} has no period rule ${id}.`);
      log.info(`period rule ${id} removed from module ${module}`);
    } else {
      const rules = store.periodRules(module).map(({ id, source, target, itemtype, pricelist }) => ({ id, source, target, itemtype, pricelist }));
      if (a.json) {
        process.stdout.write(`${JSON.stringify(rules)}\n`);
      } else if (rules.length === 0) {
        process.stdout.write(`Module ${module} has no period rules: every service period buys the same license period (1 month where none is sold).\n`);
      } else {
        const name = (p: number) => (p === 0 ? 'lifetime' : p === -100 ? 'trial' : p === -50 ? 'day' : `${p} mo`);
        process.stdout.write('ID   SOURCE     TARGET     SCOPE\n');
        for (const r of rules) {
          process.stdout.write(`${String(r.id).padEnd(5)}${name(r.source).padEnd(11)}${name(r.target).padEnd(11)}${r.itemtype ? `${r.itemtype} tariff ${r.pricelist}` : 'all tariffs'}\n`);
        }
      }
    }
    return 0;
  } finally {
    store.close();
  }
}
