// `periods add|list|remove` (SPEC 3, 5.1). Scripts and the panel rely on the output: `add` prints
// only the new id; `list --json` prints [{id, source, target, itemtype, pricelist}]. The checks and
// messages are those of src/pool/periods.ts, which the panel's rule form uses too.
import type { Paths } from '../config.js';
import { BadInputError, NoStateError } from '../errors.js';
import { log } from '../log.js';
import { addPeriodRule, removePeriodRules } from '../pool/periods.js';
import { LicenseStore, openStore, type PeriodRule } from '../pool/store.js';
import { periodName } from './pool.js';

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

/** `periods list` only reads: the state is opened read-only, and a missing state file is not
 *  created (a module nobody configured has no rules). */
function listRules(p: Paths, a: PeriodsArgs, module: number): number {
  let rules: Array<Pick<PeriodRule, 'id' | 'source' | 'target' | 'itemtype' | 'pricelist'>>;
  try {
    const store = LicenseStore.open(p.db, { readonly: true });
    try {
      rules = store.periodRules(module).map(({ id, source, target, itemtype, pricelist }) => ({ id, source, target, itemtype, pricelist }));
    } finally {
      store.close();
    }
  } catch (e) {
    if (!(e instanceof NoStateError)) throw e;
    rules = [];
  }
  if (a.json) {
    process.stdout.write(`${JSON.stringify(rules)}\n`);
  } else if (rules.length === 0) {
    process.stdout.write(`Module ${module} has no period rules: every service period buys the same license period (1 month where none is sold).\n`);
  } else {
    process.stdout.write('ID   SOURCE      TARGET      SCOPE\n');
    for (const r of rules) {
      process.stdout.write(`${String(r.id).padEnd(5)}${periodName(r.source).padEnd(12)}${periodName(r.target).padEnd(12)}${r.itemtype ? `${r.itemtype} tariff ${r.pricelist}` : 'all tariffs'}\n`);
    }
  }
  return 0;
}

export async function periodsCommand(p: Paths, a: PeriodsArgs): Promise<number> {
  const module = positiveId('module', a.module);
  if (a.action === 'list') return listRules(p, a, module);
  const store = openStore(p.db);
  try {
    if (a.action === 'add') {
      const rule = addPeriodRule(store, module, { source: a.source, target: a.target, itemtype: a.itemtype, pricelist: a.pricelist });
      log.info(`period rule ${rule.id} added to module ${module}: ${rule.source} -> ${rule.target}${rule.itemtype ? ` for ${rule.itemtype}/${rule.pricelist}` : ''}`);
      process.stdout.write(`${rule.id}\n`);
    } else if (a.action === 'remove') {
      const id = positiveId('id', a.id);
      removePeriodRules(store, module, [id]);
      log.info(`period rule ${id} removed from module ${module}`);
    }
    return 0;
  } finally {
    store.close();
  }
}
