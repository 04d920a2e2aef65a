// Period mapping, "Periods comparison" (SPEC 5.1): which license period a service's period buys.
import { BadInputError } from '../errors.js';
import type { PeriodRule } from './store.js';

/** BILLmanager period codes (months; 0 lifetime, -100 trial, -50 day). */
export const SERVICE_PERIODS = [1, 3, 6, 12, 24, 36, 0, -100, -50] as const;
/** What the licensing server sells. */
export const LICENSE_PERIODS = [1, 12, 0] as const;

export function parseServicePeriod(raw: string, what = 'period'): number {
  const s = raw.trim();
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!(SERVICE_PERIODS as readonly number[]).includes(n)) {
    throw new BadInputError(what, raw, `"${raw}" is not a BILLmanager period code (${SERVICE_PERIODS.join(', ')}).`);
  }
  return n;
}

export function parseLicensePeriod(raw: string, what = 'target'): number {
  const s = raw.trim();
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!(LICENSE_PERIODS as readonly number[]).includes(n)) {
    throw new BadInputError(what, raw, `"${raw}" is not a license order period: licenses are sold for 1 (month), 12 (year) or 0 (lifetime).`);
  }
  return n;
}

export interface ServiceTariff {
  period: number;
  itemtype: string;
  pricelist: string;
}

/** The rule's target (a tariff-limited rule beats a global one), else the service period itself;
 *  a period the licensing server does not sell becomes 1 month. */
export function licensePeriod(service: ServiceTariff, rules: readonly PeriodRule[]): number {
  const matching = rules.filter((r) => r.source === service.period);
  const limited = matching.find((r) => r.itemtype === service.itemtype && r.pricelist !== null && String(r.pricelist) === service.pricelist);
  const global = matching.find((r) => r.itemtype === null && r.pricelist === null);
  const period = limited?.target ?? global?.target ?? service.period;
  return (LICENSE_PERIODS as readonly number[]).includes(period) ? period : 1;
}

// --- the rules' rules: one implementation behind `periods add|remove` and the panel form ------

/** What an administrator typed, from the CLI's options or the panel form's fields. */
export interface PeriodRuleInput {
  source?: string;
  target?: string;
  /** Both or neither: a tariff-limited rule names the product type and the tariff plan. */
  itemtype?: string | null;
  pricelist?: string | null;
}

/** Why a rule was refused, for the panel's translated message (the English text is the error's message). */
export type PeriodRuleProblem = 'source_missing' | 'target_missing' | 'source_invalid' | 'target_invalid' | 'scope_half' | 'pricelist_invalid' | 'itemtype_invalid' | 'duplicate' | 'no_rule';

/** A refused rule: `object` names the field (source, target, itemtype, pricelist, id). */
export class PeriodRuleError extends BadInputError {
  constructor(
    object: string,
    value: string,
    readonly problem: PeriodRuleProblem,
    message: string,
    /** The existing rule a duplicate collides with, or the missing rule's id. */
    readonly ruleId: number | null = null,
  ) {
    super(object, value, message);
  }
}

type RuleFields = Omit<PeriodRule, 'id' | 'module'>;

const ITEMTYPE_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Checks a rule as `periods add` does (SPEC 3, 5.1) and returns it typed; nothing is written. */
export function validatePeriodRule(input: PeriodRuleInput): RuleFields {
  if (input.source === undefined || input.source.trim() === '') {
    throw new PeriodRuleError('source', '', 'source_missing', 'The source period is required: the service period code the rule applies to (1, 3, 6, 12, 24, 36, 0, -100, -50).');
  }
  if (input.target === undefined || input.target.trim() === '') {
    throw new PeriodRuleError('target', '', 'target_missing', 'The target period is required: 1 (month), 12 (year) or 0 (lifetime).');
  }
  let source: number;
  let target: number;
  try {
    source = parseServicePeriod(input.source, 'source');
  } catch (e) {
    throw new PeriodRuleError('source', input.source, 'source_invalid', (e as Error).message);
  }
  try {
    target = parseLicensePeriod(input.target, 'target');
  } catch (e) {
    throw new PeriodRuleError('target', input.target, 'target_invalid', (e as Error).message);
  }
  const itemtypeRaw = input.itemtype?.trim() ?? '';
  const pricelistRaw = input.pricelist?.trim() ?? '';
  const hasItemtype = input.itemtype !== undefined && input.itemtype !== null;
  const hasPricelist = input.pricelist !== undefined && input.pricelist !== null;
  if (hasItemtype !== hasPricelist || (hasItemtype && (itemtypeRaw === '') !== (pricelistRaw === ''))) {
    const missing = !hasPricelist || pricelistRaw === '' ? 'pricelist' : 'itemtype';
    throw new PeriodRuleError(missing, missing === 'pricelist' ? pricelistRaw : itemtypeRaw, 'scope_half', 'A tariff-limited rule needs both the product type (itemtype) and the tariff plan (pricelist); a global rule has neither.');
  }
  if (!hasItemtype || itemtypeRaw === '') return { source, target, itemtype: null, pricelist: null };
  if (!ITEMTYPE_RE.test(itemtypeRaw)) {
    throw new PeriodRuleError('itemtype', itemtypeRaw, 'itemtype_invalid', `The product type must be its internal name (letters, digits, _ . -), such as soft; got "${itemtypeRaw}".`);
  }
  if (!/^[1-9]\d{0,9}$/.test(pricelistRaw)) {
    throw new PeriodRuleError('pricelist', pricelistRaw, 'pricelist_invalid', `The tariff plan must be a tariff plan id (a positive whole number); got "${pricelistRaw}".`);
  }
  return { source, target, itemtype: itemtypeRaw, pricelist: Number(pricelistRaw) };
}

function sameScope(a: RuleFields, b: RuleFields): boolean {
  return a.source === b.source && (a.itemtype ?? '') === (b.itemtype ?? '') && (a.pricelist ?? 0) === (b.pricelist ?? 0);
}

function duplicateError(module: number, rule: RuleFields, existing: PeriodRule): PeriodRuleError {
  const scope = rule.itemtype ? `product type ${rule.itemtype}, tariff plan ${rule.pricelist}` : 'all tariff plans';
  return new PeriodRuleError(
    'source',
    String(rule.source),
    'duplicate',
    `Rule ${existing.id} of module ${module} already exists for source period ${rule.source} and ${scope}; change or remove it instead of adding another.`,
    existing.id,
  );
}

/** The store as the period rules need it (LicenseStore has these). */
export interface PeriodRuleStore {
  exclusive<T>(fn: () => T): T;
  periodRules(module: number): PeriodRule[];
  addPeriodRule(r: Omit<PeriodRule, 'id'>): number;
  removePeriodRule(module: number, id: number): boolean;
  changePeriodRule(module: number, id: number, r: RuleFields): boolean;
}

/** Adds a rule; refuses a bad one, or one with the same source and scope as an existing rule. */
export function addPeriodRule(store: PeriodRuleStore, module: number, input: PeriodRuleInput): PeriodRule {
  const rule = validatePeriodRule(input);
  return store.exclusive(() => {
    const existing = store.periodRules(module).find((r) => sameScope(r, rule));
    if (existing) throw duplicateError(module, rule, existing);
    const id = store.addPeriodRule({ module, ...rule });
    return { id, module, ...rule };
  });
}

/** Changes rule `id` of the module; refuses a bad rule, a missing id, or a clash with another rule. */
export function changePeriodRule(store: PeriodRuleStore, module: number, id: number, input: PeriodRuleInput): PeriodRule {
  const rule = validatePeriodRule(input);
  return store.exclusive(() => {
    const rules = store.periodRules(module);
    if (!rules.some((r) => r.id === id)) throw new PeriodRuleError('elid', String(id), 'no_rule', `Module ${module} has no period rule ${id}.`, id);
    const clash = rules.find((r) => r.id !== id && sameScope(r, rule));
    if (clash) throw duplicateError(module, rule, clash);
    store.changePeriodRule(module, id, rule);
    return { id, module, ...rule };
  });
}

/** Removes the rules `ids` of the module, all or none: one missing id refuses the lot. */
export function removePeriodRules(store: PeriodRuleStore, module: number, ids: readonly number[], object = 'id'): void {
  store.exclusive(() => {
    const known = new Set(store.periodRules(module).map((r) => r.id));
    const missing = ids.find((id) => !known.has(id));
    if (missing !== undefined) throw new PeriodRuleError(object, String(missing), 'no_rule', `Module ${module} has no period rule ${missing}.`, missing);
    for (const id of ids) store.removePeriodRule(module, id);
  });
}
