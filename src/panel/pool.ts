// "License pool" pages (SPEC 8, 5.5): the licenses the module manages with a summary line, and
// Adopt (a free account license the module did not release: src/pool/adopt.ts decides).
import { addDays, addMonths } from '../dates.js';
import { log } from '../log.js';
import { adoptableLicenses, adoptLicense } from '../pool/adopt.js';
import { eligibleFromPool, hasPaidTime } from '../pool/lifecycle.js';
import type { ManagedLicense } from '../pool/store.js';
import { PanelError, type PageContext, type PageResult } from './context.js';
import { el, elem, pageFields, paginate, slist } from './output.js';
import { errorText, poolSummary, reusableFrom, tariffLabel, word } from './texts.js';

/** Paid days left, today included (expiredate − today + 1, 0 once expired); null for lifetime or unknown. */
export function paidDays(l: Pick<ManagedLicense, 'period' | 'expiredate'>, today: string): number | null {
  if (l.period === 0 || l.expiredate === null) return null;
  if (l.expiredate < today) return 0;
  return Math.round((Date.parse(`${l.expiredate}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000) + 1;
}

function reusable(l: ManagedLicense, ctx: PageContext): string {
  if (l.state === 'bound' || l.state === 'suspended') return `${word('inUse', ctx.lang)} ${l.item ?? ''}`.trim();
  if (l.state === 'gone') return word('leftPool', ctx.lang);
  // Taken off a service whose close did not finish: the close's rerun (or maintain) finishes it.
  if (l.state === 'releasing') return `${word('releasingFrom', ctx.lang)} ${l.releasedFrom ?? ''}`.trim();
  if (eligibleFromPool(l, ctx.today)) return word('now', ctx.lang);
  if (l.period !== 0 && l.expiredate === null) return word('unknownExpiry', ctx.lang);
  if (!hasPaidTime(l.period, l.expiredate, ctx.today)) return word('expired', ctx.lang);
  const from = [l.ipChangeDate, l.keyChangeDate].filter((d): d is string => d !== null).map((d) => addMonths(d, 1)).sort().at(-1) ?? addDays(ctx.today, 1);
  const blocking = (d: string | null) => (d !== null && addMonths(d, 1) > ctx.today ? d : null);
  return reusableFrom(from, blocking(l.ipChangeDate), blocking(l.keyChangeDate), ctx.lang);
}

/** pmisplicense.pool: every license the module manages, a page at a time, and the summary line. */
export async function poolList(ctx: PageContext): Promise<PageResult> {
  const module = await ctx.module('list');
  const all = ctx.store.licenses(module);
  const free = all.filter((l) => l.state === 'free');
  let days = 0;
  let lifetime = 0;
  for (const l of free) {
    if (l.period === 0) lifetime++;
    else days += paidDays(l, ctx.today) ?? 0;
  }
  const reuses = ctx.store.journal().filter((j) => j.module === module && j.kind === 'reuse' && j.outcome === 'reused').length;
  const summary = poolSummary(free.length, days, lifetime, reuses, ctx.lang);
  const { rows, page } = paginate(all, ctx.param('p_cnt'), ctx.param('p_num'));
  const body = rows
    .map((l) => {
      const d = paidDays(l, ctx.today);
      return elem({
        id: l.upstreamId,
        tariff: tariffLabel(l.pricelist, l.tariffName),
        ip: l.ip,
        state: word(l.state === 'suspended' ? 'bound' : l.state, ctx.lang),
        item: l.item,
        expiredate: l.period === 0 ? word('lifetime', ctx.lang) : (l.expiredate ?? ''),
        reusable: reusable(l, ctx),
        paiddays: l.period === 0 ? word('lifetime', ctx.lang) : d === null ? '' : d,
      });
    })
    .join('');
  // The summary line above the table: a banner (COREmanager shows a list's <banner> over it) and
  // the same figures as plain fields for anything that reads the document.
  const banner = `<banner status="3">${el('msg', summary)}</banner>`;
  const figures = el('pool_licenses', free.length) + el('pool_paiddays', days) + el('pool_reuses', reuses);
  return { body: `${el('plid', module)}${banner}${figures}${body}${pageFields(page)}`, replaces: ['plid', 'pool_licenses', 'pool_paiddays', 'pool_reuses'] };
}

/** pmisplicense.pool.adopt: a select of the adoptable licenses; sok=ok adopts the chosen one. */
export async function poolAdopt(ctx: PageContext): Promise<PageResult> {
  const module = await ctx.module('form');
  const adminCtx = { store: ctx.store, host: ctx.host, paths: ctx.paths, today: ctx.today };
  if (ctx.param('sok') === 'ok') {
    const raw = ctx.param('license');
    if (!/^[1-9]\d{0,9}$/.test(raw)) throw new PanelError('value', 'license', raw, errorText('license', ctx.lang, raw));
    const message = await adoptLicense(adminCtx, module, Number(raw), false);
    log.info(`panel (${ctx.req.user || 'unknown user'}): ${message}`);
    return { body: `<ok/>${el('msg', message)}` };
  }
  const licenses = await adoptableLicenses(adminCtx, module);
  const choices = licenses.map(
    (l) => [String(l.id), `#${l.id} ${tariffLabel(l.pricelist, l.tariffName)}, ${l.ip || '-'}, ${l.period === 0 ? word('lifetime', ctx.lang) : (l.expiredate ?? '?')}: ${l.licname} (${l.why})`] as const,
  );
  return {
    body: el('plid', module) + el('license', choices[0]?.[0] ?? '') + slist('license', choices),
    replaces: ['plid', 'license', 'slist'],
  };
}

