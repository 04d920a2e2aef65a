// `pmisplicense panel`: the handler of the panel pages (SPEC 8), run by COREmanager as
// $MGR_ROOT/addon/pmisplicense_panel for every function declared in
// etc/xml/billmgr_mod_pmisplicense_panel.xml. The request is PARAM_* and AUTH_* in the
// environment and the page document on stdin; the answer is that document with the page's data,
// `<ok/>`, or an `<error>`. It always exits 0 with well-formed XML: COREmanager shows "the plugin
// terminated with an error or returned an invalid XML" for anything else, which tells the
// administrator nothing (ISPsystem documentation "Handlers", section "Debugging handlers").
import type { Paths } from '../config.js';
import { asModuleError, ModuleError } from '../errors.js';
import { log, mask, openLog } from '../log.js';
import { PeriodRuleError } from '../pool/periods.js';
import { PageContext, PanelError, type PageResult } from './context.js';
import { answer, el, pagingBack, xmlText } from './output.js';
import { pageDocument, readPageDocument, requestFrom, type PanelRequest } from './request.js';
import { errorText, moduleErrorText, ruleErrorText } from './texts.js';

/** BILLmanager's access levels: 28 and above are administrators (SPEC 8). */
export const ADMIN_LEVEL = 28;

type Page = (ctx: PageContext) => Promise<PageResult>;

const PAGES: Record<string, () => Promise<Page>> = {
  'pmisplicense.periods': async () => (await import('./periods.js')).periodsList,
  'pmisplicense.periods.edit': async () => (await import('./periods.js')).periodsEdit,
  'pmisplicense.periods.delete': async () => (await import('./periods.js')).periodsDelete,
  'pmisplicense.pool': async () => (await import('./pool.js')).poolList,
  'pmisplicense.pool.adopt': async () => (await import('./pool.js')).poolAdopt,
  'pmisplicense.reconcile': async () => (await import('./reconcile.js')).reconcileList,
  'pmisplicense.reconcile.apply': async () => (await import('./reconcile.js')).reconcileApply,
};

/** Every function the handler answers (the XML declares the same ones; a test checks). */
export const PANEL_FUNCS = Object.keys(PAGES);

function errorElement(type: string, object: string, value: string, text: string, lang: string): string {
  return (
    `<error type="${xmlText(type)}" object="${xmlText(object)}" lang="${xmlText(lang)}">` +
    `<param name="object">${xmlText(object)}</param><param name="value">${xmlText(value)}</param>` +
    `${el('msg', mask(text))}</error>`
  );
}

function failure(e: unknown, req: PanelRequest): string {
  if (e instanceof PanelError) return errorElement(e.type, e.object, e.value, e.message, req.lang);
  if (e instanceof PeriodRuleError) return errorElement(e.type, e.object, e.value, ruleErrorText(e, req.lang), req.lang);
  const err = asModuleError(e);
  if (err.type === 'internal' && e instanceof Error && e.stack) log.error(e.stack);
  return errorElement(err.type, err.object, err.value, moduleErrorText(err.type, err.message, req.lang), req.lang);
}

/** Answers one request; never throws. */
export async function handle(req: PanelRequest, p: Paths): Promise<string> {
  let ctx: PageContext | null = null;
  try {
    if (req.authLevel === null || req.authLevel < ADMIN_LEVEL) {
      log.warn(`panel: ${req.func || '(no func)'} refused to user '${req.user}' of access level ${req.authLevel ?? 'unknown'}`);
      throw new PanelError('access', 'func', req.func, errorText('access', req.lang));
    }
    const load = PAGES[req.func];
    if (!load) throw new PanelError('command', 'func', req.func, errorText('func', req.lang, req.func));
    ctx = new PageContext(req, p);
    const page = await load();
    const r = await page(ctx);
    return answer(req.doc, r.body + pagingBack(req.doc, req.paging), r.replaces);
  } catch (e) {
    if (!(e instanceof PanelError) && !(e instanceof ModuleError && e.type === 'value')) log.error(`panel: ${req.func} failed: ${(e as Error).message ?? String(e)}`);
    return answer(req.doc, failure(e, req) + pagingBack(req.doc, req.paging));
  } finally {
    try {
      ctx?.close();
    } catch {
      /* the answer is already decided */
    }
  }
}

/** Run by `pmisplicense panel`: reads the request, prints the answer, returns 0 whatever happened. */
export async function runPanel(p: Paths): Promise<number> {
  let out: string;
  try {
    openLog(p.log);
    const doc = pageDocument(await readPageDocument());
    out = await handle(requestFrom(process.env, doc), p);
  } catch (e) {
    // Only a bug gets here (handle never throws): still a well-formed page.
    out = `<?xml version="1.0" encoding="UTF-8"?>\n<doc>${errorElement('internal', 'panel', '', `Internal error of the module's panel handler: ${(e as Error).message ?? String(e)}. Details are in the module log.`, 'en')}</doc>\n`;
  }
  process.stdout.write(out);
  return 0;
}
