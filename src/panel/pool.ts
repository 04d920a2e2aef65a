// "License pool" pages (SPEC 8, 5.5): the licenses the module manages with a summary line, and
// Adopt (a free account license the module did not release: src/pool/adopt.ts decides).
// Opened by its button on BILLmanager's Processing modules list (elid = the module); Reconcile is
// not here but beside it on that list (SPEC 8 v3: in this list elid would be a license).
import { addDays, addMonths } from '../dates.js';
import { log } from '../log.js';
import { adoptableLicenses, adoptLicense } from '../pool/adopt.js';
import { eligibleFromPool, hasPaidTime } from '../pool/lifecycle.js';
import type { JournalEntry, ManagedLicense } from '../pool/store.js';
import { PanelError, type PageContext, type PageResult } from './context.js';
import { el, elem, slist } from './output.js';
import { adviceLineRu, errorText, POOL_ADVICE_ID, POOL_SUMMARY_ID, POOL_VALUE_ID, poolSummary, poolValue, reusableFrom, tariffLabel, word } from './texts.js';
import type { Tariff } from '../upstream/types.js';

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

/** The raw keys of the type="msg" column `state` (each has an en and a ru message in the list's
 *  messages; test/panel/xml.test.ts checks). A bound license of a suspended service is `bound`. */
export const POOL_STATES = ['bound', 'free', 'gone', 'releasing'] as const;

function stateKey(l: ManagedLicense): (typeof POOL_STATES)[number] {
  return l.state === 'suspended' ? 'bound' : l.state;
}

/** The summary line's figures (SPEC 8): what the pool holds and what it has saved so far. */
export type PoolFigures = {
  /** Free licenses in the pool. */
  licenses: number;
  /** Paid days they hold (today included; lifetime ones not counted here). */
  paiddays: number;
  /** Lifetime licenses among them. */
  lifetime: number;
  /** Re-uses so far: each one a purchase avoided. */
  reuses: number;
};

/** The licensing server's prices are the one thing the state cannot answer for this page (SPEC 8):
 *  read once, with a short limit, so that a slow licensing server never holds the page. */
const PRICE_READ_MS = 10_000;

/**
 * Issue 16: what the re-uses saved in money (each re-use is an order of its tariff and period that
 * was not placed, priced at today's `pricelist.export`) and the period advice line (the module's
 * recorded history replayed under each rule set: src/advise). Two banners with ids; their texts
 * are made here in the page's language. Prices unreadable: no banner, one log line — the page and
 * its table never depend on the licensing server.
 */
async function poolValueAndAdvice(ctx: PageContext, module: number, reused: readonly JournalEntry[]): Promise<string> {
  // Loaded here: the other pool pages (Adopt) need none of it.
  const [{ LicensingClient }, { advise, adviceLine }, { dayNumber }, { historiesFromEvents }, { priceCents, priceTable }] = await Promise.all([
    import('../upstream/client.js'),
    import('../advise/advise.js'),
    import('../advise/calendar.js'),
    import('../advise/history.js'),
    import('../advise/model.js'),
  ]);
  let tariffs: Tariff[];
  try {
    const client = new LicensingClient(await ctx.host.readModule(module), { timeoutMs: PRICE_READ_MS, connectTimeoutMs: PRICE_READ_MS });
    tariffs = await client.tariffs();
  } catch (e) {
    log.warn(`pool page of module ${module}: the licensing server's prices could not be read (${e instanceof Error ? e.message : String(e)}); the page shows no value or advice`);
    return '';
  }
  const { prices, currency } = priceTable(tariffs);
  let cents = 0;
  let unpriced = 0;
  for (const j of reused) {
    const cost = priceCents(prices, j.pricelist, j.period);
    if (cost === null) unpriced++;
    else cents += cost;
  }
  const value = poolValue(reused.length, cents, unpriced, currency, ctx.lang);
  const history = historiesFromEvents(ctx.store.serviceEvents(module));
  const day = ctx.today;
  const report = advise({ module, services: history.services, current: ctx.store.periodRules(module), prices, purchases: ctx.store.purchases(module), from: dayNumber(addMonths(day, -12)), to: dayNumber(day) + 1 });
  const advice = ctx.lang === 'ru' ? adviceLineRu(report, currency) : adviceLine(report, currency);
  return (
    `<banner id="${POOL_VALUE_ID}" status="3">${el('param', cents / 100, { name: 'value' })}${el('msg', value)}</banner>` +
    `<banner id="${POOL_ADVICE_ID}" status="3">${el('msg', advice)}</banner>`
  );
}

/** pmisplicense.pool: every license the module manages (COREmanager pages the list itself), and
 *  the summary line above the table. */
export async function poolList(ctx: PageContext): Promise<PageResult> {
  const module = await ctx.module('list');
  const all = ctx.store.licenses(module);
  const free = all.filter((l) => l.state === 'free');
  const figures: PoolFigures = { licenses: free.length, paiddays: 0, lifetime: 0, reuses: 0 };
  for (const l of free) {
    if (l.period === 0) figures.lifetime++;
    else figures.paiddays += paidDays(l, ctx.today) ?? 0;
  }
  const reused = ctx.store.journal().filter((j) => j.module === module && j.kind === 'reuse' && j.outcome === 'reused');
  figures.reuses = reused.length;
  const body = all
    .map((l) => {
      const d = paidDays(l, ctx.today);
      return elem({
        id: l.upstreamId,
        tariff: tariffLabel(l.pricelist, l.tariffName),
        ip: l.ip,
        state: stateKey(l),
        item: l.item,
        expiredate: l.period === 0 ? word('lifetime', ctx.lang) : (l.expiredate ?? ''),
        reusable: reusable(l, ctx),
        paiddays: l.period === 0 ? word('lifetime', ctx.lang) : d === null ? '' : d,
      });
    })
    .join('');
  // The summary line above the table: a banner with an id, its figures as params and its text in
  // the page's language (ISPsystem documentation "Banners": <banner id="…" status="3"> with
  // <param name="…"> and <msg>; the id names the message `pmisplicense_pool_summary` of the list,
  // whose __name__ placeholders are the params; status 3 is information). The same figures as
  // plain fields for anything that reads the document.
  const params = Object.entries(figures)
    .map(([k, v]) => el('param', v, { name: k }))
    .join('');
  const banner = `<banner id="${POOL_SUMMARY_ID}" status="3">${params}${el('msg', poolSummary(figures, ctx.lang))}</banner>`;
  const extra = await poolValueAndAdvice(ctx, module, reused);
  const plain = el('pool_licenses', figures.licenses) + el('pool_paiddays', figures.paiddays) + el('pool_lifetime', figures.lifetime) + el('pool_reuses', figures.reuses);
  return { body: `${el('plid', module)}${banner}${extra}${plain}${body}`, replaces: ['plid', 'pool_licenses', 'pool_paiddays', 'pool_lifetime', 'pool_reuses'] };
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

