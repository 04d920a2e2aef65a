// What every page needs: the request, the module the page is about, the state, the host, and
// the panel's own error (a BILLmanager error element with a text in the page's language).
import type { Paths } from '../config.js';
import { today } from '../dates.js';
import { Host, isOwnModuleKind } from '../host/host.js';
import { HostReplyError, runMgrctl } from '../host/mgrctl.js';
import { log } from '../log.js';
import { openStore, type LicenseStore } from '../pool/store.js';
import { childText, childrenNamed } from '../xml.js';
import type { PanelRequest } from './request.js';
import { errorText } from './texts.js';

/** An error the panel shows as it is: its text is already in the page's language. */
export class PanelError extends Error {
  constructor(
    readonly type: string,
    readonly object: string,
    readonly value: string,
    text: string,
  ) {
    super(text);
  }
}

export interface PageResult {
  /** What is appended to the page document. */
  body: string;
  /** Names of children of the incoming document the body replaces (form fields). */
  replaces?: string[];
}

export class PageContext {
  private storeHandle: LicenseStore | null = null;
  readonly host: Host;
  readonly today: string;

  constructor(
    readonly req: PanelRequest,
    readonly paths: Paths,
  ) {
    this.host = new Host(paths.mgrctl);
    this.today = today();
  }

  get lang() {
    return this.req.lang;
  }

  get store(): LicenseStore {
    this.storeHandle ??= openStore(this.paths.db);
    return this.storeHandle;
  }

  close(): void {
    this.storeHandle?.close();
    this.storeHandle = null;
  }

  /** A parameter, trimmed; '' when absent. */
  param(name: string): string {
    return (this.req.param(name) ?? '').trim();
  }

  /**
   * The processing module of the page (SPEC 8): `plid` inside the pages; a list opened by its
   * button on the Processing modules list gets the selected module as `elid` instead.
   */
  async module(kind: 'list' | 'form'): Promise<number> {
    const plid = this.param('plid');
    const object = plid !== '' || kind === 'form' ? 'plid' : 'elid';
    const raw = object === 'plid' ? plid : this.param('elid');
    if (!/^[1-9]\d{0,9}$/.test(raw)) throw new PanelError('value', object, raw, errorText('moduleId', this.lang, raw));
    const id = Number(raw);
    await this.checkModule(id, object);
    return id;
  }

  /** The host must know the module, and it must be this module's kind (one mgrctl read). */
  private async checkModule(id: number, object: string): Promise<void> {
    try {
      const doc = await runMgrctl('processing.edit', { elid: id }, { mgrctl: this.paths.mgrctl });
      const kind = childText(doc, 'module').trim();
      // BILLmanager names the module's kind in `module`; a reply without it is taken as ours.
      if (!isOwnModuleKind(kind)) throw new PanelError('value', object, String(id), errorText('moduleOther', this.lang, id, kind));
    } catch (e) {
      if (e instanceof HostReplyError && e.hostType === 'missed') throw new PanelError('value', object, String(id), errorText('moduleMissing', this.lang, id));
      throw e;
    }
  }

  /** `elid` as a list of ids ("1, 2, 3"; COREmanager separates group selections with ", "). */
  idList(object = 'elid'): string[] {
    const raw = this.param(object);
    const ids = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (ids.length === 0) throw new PanelError('value', object, raw, errorText('elid', this.lang, raw));
    return ids;
  }

  numericIds(object = 'elid'): number[] {
    const raw = this.param(object);
    return this.idList(object).map((s) => {
      if (!/^[1-9]\d{0,9}$/.test(s)) throw new PanelError('value', object, raw, errorText('elid', this.lang, raw));
      return Number(s);
    });
  }
}

export interface ProductType {
  id: string;
  name: string;
  intname: string;
}

export interface TariffPlan {
  id: string;
  name: string;
  /** As the host's list gives it: the product type's id (or its name or internal name). */
  itemtype: string;
}

export interface Catalog {
  itemtypes: ProductType[];
  pricelists: TariffPlan[];
}

/** The host's product types and tariff plans (SPEC 4: the `itemtype` and `pricelist` lists). A
 *  host that cannot answer gives an empty catalog: the form still serves rules for all tariff plans. */
export async function readCatalog(ctx: PageContext): Promise<Catalog> {
  const opts = { mgrctl: ctx.paths.mgrctl };
  try {
    const [it, pl] = await Promise.all([runMgrctl('itemtype', {}, opts), runMgrctl('pricelist', {}, opts)]);
    return {
      itemtypes: childrenNamed(it, 'elem').map((e) => ({ id: childText(e, 'id').trim(), name: childText(e, 'name').trim(), intname: childText(e, 'intname').trim() })).filter((t) => t.intname !== ''),
      pricelists: childrenNamed(pl, 'elem').map((e) => ({ id: childText(e, 'id').trim(), name: childText(e, 'name').trim(), itemtype: childText(e, 'itemtype').trim() })).filter((t) => /^\d+$/.test(t.id)),
    };
  } catch (e) {
    log.warn(`panel: the product types and tariff plans could not be read from BILLmanager: ${(e as Error).message}`);
    return { itemtypes: [], pricelists: [] };
  }
}

/** Tariff plans of one product type; the list's `itemtype` may be the type's id, name or internal name. */
export function plansOf(c: Catalog, intname: string): TariffPlan[] {
  const t = c.itemtypes.find((x) => x.intname === intname);
  if (!t) return [];
  return c.pricelists.filter((p) => p.itemtype === t.id || p.itemtype === t.intname || (t.name !== '' && p.itemtype === t.name));
}
