// "Reconcile" pages (SPEC 8, 3): the findings of `reconcile` for the module, and Apply for the
// selected ones (each re-checked first: src/pool/reconcile.ts decides and applies).
import { log } from '../log.js';
import { applyFinding, FAULT_KINDS, findDiscrepancies, type Finding } from '../pool/reconcile.js';
import { PanelError, type PageContext, type PageResult } from './context.js';
import { el, elem, pageFields, paginate } from './output.js';
import { errorText, findingKind } from './texts.js';

/** A finding's id in the list: kind:license:item, '-' for an absent part. */
export function findingId(f: Finding): string {
  return `${f.kind}:${f.license ?? '-'}:${f.item ?? '-'}`;
}

function adminContext(ctx: PageContext) {
  return { store: ctx.store, host: ctx.host, paths: ctx.paths, today: ctx.today };
}

/** pmisplicense.reconcile: the findings, a page at a time. */
export async function reconcileList(ctx: PageContext): Promise<PageResult> {
  const module = await ctx.module('list');
  const findings = await findDiscrepancies(adminContext(ctx), module);
  const { rows, page } = paginate(findings, ctx.param('p_cnt'), ctx.param('p_num'));
  const body = rows
    .map((f) =>
      elem({
        id: findingId(f),
        kind: findingKind(f.kind, ctx.lang),
        license: f.license,
        item: f.item,
        paiddays: f.paidDaysLeft,
        detail: f.detail,
        fix: f.fix,
      }),
    )
    .join('');
  return { body: `${el('plid', module)}${body}${pageFields(page)}`, replaces: ['plid'] };
}

const ID_RE = /^(leak|lost|unmanaged|autoprolong|drift|params|unbound|moved):(\d+|-):(\d+|-)$/;

/** pmisplicense.reconcile.apply: applies the selected findings that still hold. */
export async function reconcileApply(ctx: PageContext): Promise<PageResult> {
  const module = await ctx.module('form');
  const raw = ctx.param('elid');
  const ids = ctx.idList('elid');
  for (const id of ids) if (!ID_RE.test(id)) throw new PanelError('value', 'elid', raw, errorText('finding', ctx.lang, id));
  const admin = adminContext(ctx);
  // Found anew: a selection with a finding that no longer holds (or one that is information only)
  // is refused whole, before anything is applied, so a stale page never half-applies. Each fix is
  // still re-checked under the service's lock by applyFinding.
  const current = new Map((await findDiscrepancies(admin, module)).map((f) => [findingId(f), f]));
  const selected: Finding[] = [];
  const problems: string[] = [];
  for (const id of new Set(ids)) {
    const f = current.get(id);
    if (!f) problems.push(errorText('findingGone', ctx.lang, id));
    else if (!FAULT_KINDS.includes(f.kind)) problems.push(errorText('findingInfo', ctx.lang, id));
    else selected.push(f);
  }
  if (problems.length) throw new PanelError('value', 'elid', raw, problems.join(' '));
  for (const f of selected) {
    const id = findingId(f);
    try {
      const r = await applyFinding(admin, f);
      log.info(`panel (${ctx.req.user || 'unknown user'}): reconcile ${id}: ${r.applied ? 'applied' : 'not applied'}: ${r.message}`);
      if (!r.applied) problems.push(`${id}: ${r.message}`);
    } catch (e) {
      problems.push(`${id}: ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new PanelError('value', 'elid', raw, errorText('applyFailed', ctx.lang, problems.join('; ')));
  return { body: '<ok/>' };
}
