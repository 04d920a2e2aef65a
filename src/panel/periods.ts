// "Periods comparison" pages (SPEC 8, 5.1): the module's rules, the rule form, deleting rules.
// The checks and messages are those of `periods add|remove` (src/pool/periods.ts). This page never
// calls the licensing server: the rules live in the state; names come from the host's lists.
import { log } from '../log.js';
import { addPeriodRule, changePeriodRule, LICENSE_PERIODS, removePeriodRules, SERVICE_PERIODS } from '../pool/periods.js';
import { PanelError, plansOf, readCatalog, type Catalog, type PageContext, type PageResult } from './context.js';
import { el, elem, slist } from './output.js';
import { errorText, periodLabel, word } from './texts.js';

function itemtypeLabel(c: Catalog, intname: string): string {
  const t = c.itemtypes.find((x) => x.intname === intname);
  return t && t.name ? `${t.name} (${intname})` : intname;
}

function pricelistLabel(c: Catalog, id: number): string {
  const p = c.pricelists.find((x) => x.id === String(id));
  return p && p.name ? `${p.name} (#${id})` : `#${id}`;
}

/** pmisplicense.periods: one row per rule, all of them (COREmanager pages the list itself). */
export async function periodsList(ctx: PageContext): Promise<PageResult> {
  const module = await ctx.module('list');
  const rows = ctx.store.periodRules(module);
  // Names only when a row needs them: a module without tariff-limited rules costs no host call.
  const catalog: Catalog = rows.some((r) => r.itemtype !== null) ? await readCatalog(ctx) : { itemtypes: [], pricelists: [] };
  const body = rows
    .map((r) =>
      elem({
        id: r.id,
        source: periodLabel(r.source, ctx.lang),
        target: periodLabel(r.target, ctx.lang),
        itemtype: r.itemtype === null ? '' : itemtypeLabel(catalog, r.itemtype),
        pricelist: r.pricelist === null ? word('allTariffs', ctx.lang) : pricelistLabel(catalog, r.pricelist),
      }),
    )
    .join('');
  return { body: `${el('plid', module)}${body}`, replaces: ['plid'] };
}

interface RuleForm {
  source: string;
  target: string;
  compare_pricelist: 'on' | 'off';
  itemtype: string;
  pricelist: string;
}

const FIELDS = ['elid', 'plid', 'source', 'target', 'compare_pricelist', 'itemtype', 'pricelist'];

function formBody(ctx: PageContext, module: number, elid: string, f: RuleForm, c: Catalog): PageResult {
  const itemtype = f.itemtype !== '' ? f.itemtype : (c.itemtypes.find((t) => t.intname === 'soft') ?? c.itemtypes[0])?.intname ?? '';
  const plans = plansOf(c, itemtype);
  const pricelist = plans.some((p) => p.id === f.pricelist) ? f.pricelist : (plans[0]?.id ?? f.pricelist);
  const body =
    el('elid', elid) +
    el('plid', module) +
    el('source', f.source) +
    el('target', f.target) +
    el('compare_pricelist', f.compare_pricelist) +
    el('itemtype', itemtype) +
    el('pricelist', pricelist) +
    slist('source', SERVICE_PERIODS.map((p) => [String(p), periodLabel(p, ctx.lang)] as const)) +
    slist('target', LICENSE_PERIODS.map((p) => [String(p), periodLabel(p, ctx.lang)] as const)) +
    slist('itemtype', c.itemtypes.map((t) => [t.intname, t.name || t.intname] as const)) +
    slist('pricelist', plans.map((p) => [p.id, p.name ? `${p.name} (#${p.id})` : `#${p.id}`] as const));
  return { body, replaces: [...FIELDS, 'slist'] };
}

function submitted(ctx: PageContext): RuleForm {
  return {
    source: ctx.param('source'),
    target: ctx.param('target'),
    compare_pricelist: ctx.param('compare_pricelist') === 'on' ? 'on' : 'off',
    itemtype: ctx.param('itemtype'),
    pricelist: ctx.param('pricelist'),
  };
}

/** pmisplicense.periods.edit: show (get), refill (setvalues), add or change (sok=ok). */
export async function periodsEdit(ctx: PageContext): Promise<PageResult> {
  const module = await ctx.module('form');
  const elid = ctx.param('elid');
  const ruleId = (): number => {
    if (!/^[1-9]\d{0,9}$/.test(elid)) throw new PanelError('value', 'elid', elid, errorText('elid', ctx.lang, elid));
    return Number(elid);
  };

  if (ctx.param('sok') === 'ok') {
    const f = submitted(ctx);
    // An unticked "Compare with tariff plan" makes a rule for all tariff plans, whatever the hidden selects hold.
    const input = { source: f.source, target: f.target, itemtype: f.compare_pricelist === 'on' ? f.itemtype : null, pricelist: f.compare_pricelist === 'on' ? f.pricelist : null };
    if (elid === '') {
      const r = addPeriodRule(ctx.store, module, input);
      log.info(`panel (${ctx.req.user || 'unknown user'}): period rule ${r.id} added to module ${module}: ${r.source} -> ${r.target}${r.itemtype ? ` for ${r.itemtype}/${r.pricelist}` : ''}`);
    } else {
      const r = changePeriodRule(ctx.store, module, ruleId(), input);
      log.info(`panel (${ctx.req.user || 'unknown user'}): period rule ${r.id} of module ${module} changed: ${r.source} -> ${r.target}${r.itemtype ? ` for ${r.itemtype}/${r.pricelist}` : ''}`);
    }
    return { body: '<ok/>' };
  }

  const catalog = await readCatalog(ctx);
  if (ctx.param('sv_field') !== '') return formBody(ctx, module, elid, submitted(ctx), catalog);
  if (elid === '') return formBody(ctx, module, '', { source: '1', target: '12', compare_pricelist: 'off', itemtype: '', pricelist: '' }, catalog);
  const id = ruleId();
  const rule = ctx.store.periodRules(module).find((r) => r.id === id);
  if (!rule) throw new PanelError('value', 'elid', elid, errorText('no_rule', ctx.lang, id));
  return formBody(
    ctx,
    module,
    String(id),
    {
      source: String(rule.source),
      target: String(rule.target),
      compare_pricelist: rule.itemtype === null ? 'off' : 'on',
      itemtype: rule.itemtype ?? '',
      pricelist: rule.pricelist === null ? '' : String(rule.pricelist),
    },
    catalog,
  );
}

/** pmisplicense.periods.delete: the rules in elid, all or none. */
export async function periodsDelete(ctx: PageContext): Promise<PageResult> {
  const module = await ctx.module('form');
  const ids = ctx.numericIds('elid');
  removePeriodRules(ctx.store, module, ids, 'elid');
  log.info(`panel (${ctx.req.user || 'unknown user'}): period rules ${ids.join(', ')} removed from module ${module}`);
  return { body: '<ok/>' };
}
