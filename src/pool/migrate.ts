// Existing licenses (SPEC 5.9, reconcile kind `unbound`): a provider that installs the module has
// live services whose licenses were bought by hand or by a previous module. Such a license is bound
// to its service *as it is* — key, IP and period kept, so the customer's panel keeps working —
// renamed `Item #<item>` (remoteid = item), and renewed from then on like any other. Nothing is
// bought, no key is changed. Only an unambiguous candidate is ever taken: not managed by any module
// of this host, active or suspended upstream, the service's IP (compared canonically) and the
// tariff of the service's panel. Two candidates, or none, are left to the administrator.
import type { Day } from '../dates.js';
import { BadInputError } from '../errors.js';
import type { Host } from '../host/host.js';
import type { Service, ServiceListRow } from '../host/types.js';
import { canonicalIp, sameIp } from '../ip.js';
import { log } from '../log.js';
import { STATUS, type LicensingApi, type UpstreamLicense } from '../upstream/types.js';
import { factsOf, licnameOf, type ServiceParamWriter } from './lifecycle.js';
import type { LicenseStore, ManagedLicense } from './store.js';

/** Service statuses that need a license: active (2) and suspended (3). */
export function isLiveStatus(status: number): boolean {
  return status === 2 || status === 3;
}

/** The account licenses that could be the service's own (SPEC 3 `unbound`), lowest id first. */
export function candidatesFor(service: { ip: string }, panel: string, account: readonly UpstreamLicense[], managed: ReadonlySet<number>): UpstreamLicense[] {
  // A service without a usable IP matches nothing (an empty IP is no address to compare).
  if (canonicalIp(service.ip) === null || !/^\d+$/.test(panel)) return [];
  return account
    .filter((u) => !managed.has(u.id) && (u.status === STATUS.active || u.status === STATUS.suspended) && sameIp(u.ip, service.ip) && u.pricelist === panel)
    .sort((a, b) => a.id - b.id);
}

/** One line naming the candidates (id, name, expiry), for the administrator. */
export function describeCandidates(cands: readonly UpstreamLicense[]): string {
  return cands.map((u) => `${u.id} ("${u.licname}", ${u.period === 0 ? 'lifetime' : `until ${u.expiredate ?? '?'}`})`).join(', ');
}

export interface BindExistingDeps {
  store: LicenseStore;
  upstream: LicensingApi;
  host: ServiceParamWriter;
  /** The module (account) the license is on: it is recorded with the license (SPEC 5.9). */
  module: number;
  today: Day;
}

/**
 * Binds one candidate to the service as it is. The state first (one compare-and-set transaction
 * that refuses a license any module manages, or a service that has one: two services sharing an
 * IP and a tariff never both take it), then the name upstream, then the service's params.
 * Returns null when the license was taken meanwhile or no longer fits (the caller decides anew).
 */
export async function bindExisting(d: BindExistingDeps, service: Service, candidate: number, panel: string): Promise<ManagedLicense | null> {
  // Read anew with its key (the list carries none) and checked again: it may have changed since the list.
  const u = await d.upstream.get(candidate);
  if ((u.status !== STATUS.active && u.status !== STATUS.suspended) || !sameIp(u.ip, service.ip) || u.pricelist !== panel) return null;
  const lic = d.store.bindExisting({ module: d.module, upstreamId: u.id, item: service.id, suspended: service.status === 3, ...factsOf(u, null) });
  if (!lic) return null;
  const name = licnameOf(service.id);
  if (u.licname !== name || u.remoteid !== String(service.id)) await d.upstream.edit(u.id, { licname: name, remoteid: String(service.id) });
  if (service.licenseId !== u.id) await d.host.saveParam(service.id, 'license_id', String(u.id));
  if (u.lickey && u.lickey !== service.lickey) await d.host.saveSecretParam(service.id, 'lickey', u.lickey); // a key only ever through -e
  if (u.expiredate && u.expiredate !== service.licenseExpiredate) await d.host.saveParam(service.id, 'license_expiredate', u.expiredate);
  log.warn(
    `service ${service.id}: bound existing license ${u.id} (bought outside the module, was "${u.licname}") as it is: key, IP ${u.ip} and period ${u.period ?? '?'} kept, ` +
      `${u.period === 0 ? 'lifetime' : `paid until ${u.expiredate ?? '?'}`}; renamed "${name}"; nothing bought`,
  );
  return lic;
}

/** The panel the service needs (SPEC 4, as `open` determines it): a value error when it cannot be told. */
export async function panelOf(host: Host, service: Service): Promise<string> {
  const { withResolvedPanel } = await import('../host/panel.js');
  return (await withResolvedPanel(host, service)).panel;
}

/**
 * SPEC 5.9 for `prolong`, `resume`, `sync_item` and `maintain`: a live service with no license bound
 * never passes silently. With exactly one candidate it is bound (and the caller goes on); otherwise
 * a `value` error names the candidates or says there is none, pointing to reconcile. Returns the
 * license bound, or null when the service needs none (not live, no panel, or one is bound already).
 * The caller holds the service's lock.
 */
export async function bindIfUnbound(
  d: BindExistingDeps & { host: Host },
  service: Service,
  command: string,
  known: { account?: readonly UpstreamLicense[]; panel?: string } = {},
): Promise<ManagedLicense | null> {
  if (d.store.licenseOfService(service.id) || !isLiveStatus(service.status)) return null;
  // A release this service started is not finished: the service is being changed, not migrated.
  if (d.store.releasingFrom(service.id).length > 0) return null;
  const panel = known.panel ?? (await panelOf(d.host, service));
  if (panel === 'nopanel') return null;
  const list = known.account ?? (await d.upstream.list());
  for (let attempt = 0; attempt < 3; attempt++) {
    const cands = candidatesFor(service, panel, list, d.store.managedUpstreamIds());
    if (cands.length !== 1) {
      const what =
        cands.length === 0
          ? `the licensing server account of processing module ${d.module} has no license for it that the module does not manage (active or suspended, IP ${service.ip || '(none)'}, tariff ${panel})`
          : `the account has ${cands.length} licenses that could be its own (IP ${service.ip}, tariff ${panel}): ${describeCandidates(cands)}`;
      throw new BadInputError(
        'license_id',
        cands.map((c) => c.id).join(','),
        `Service ${service.id} is ${service.status === 3 ? 'suspended' : 'active'} and has no license bound, so ${command} cannot keep it renewed: ${what}. ` +
          `Run "pmisplicense reconcile --module ${d.module}" to see the unbound services${cands.length > 1 ? ', and delete or rename the license that is not this service\'s' : ', and order or adopt a license for it'}.`,
      );
    }
    const lic = await bindExisting(d, service, cands[0]!.id, panel);
    if (lic) {
      log.info(`service ${service.id}: ${command} goes on with license ${lic.upstreamId}, bound from the existing licenses (SPEC 5.9)`);
      return lic;
    }
    // Taken meanwhile or changed upstream: decide again from what is true now.
  }
  throw new BadInputError('license_id', '', `Service ${service.id}: its candidate license kept changing while it was being bound; run "pmisplicense reconcile --module ${d.module}" and try again.`);
}

/** A service's panel as `open` would determine it, or why it cannot be told. */
export type PanelOutcome = { panel: string; error: null } | { panel: null; error: string };

/**
 * The panels of many services (reconcile, maintain): with BILLmanager's database, every service's
 * tariff options in one query; the product-type parameter (soft.edit) is read only for a service
 * whose options name no panel — without a database, that is every service asked about.
 */
export async function panelsOf(host: Host, items: readonly number[]): Promise<Map<number, PanelOutcome>> {
  const out = new Map<number, PanelOutcome>();
  if (items.length === 0) return out;
  const [{ openOptionsReader }, { resolvePanel }, { ServiceNotFoundError }] = await Promise.all([import('../host/options.js'), import('../host/panel.js'), import('../host/host.js')]);
  const reader = await openOptionsReader(await host.readDatabaseSettings());
  let options: Map<number, import('../host/options.js').ServiceOptions> | null = null;
  try {
    if (reader) options = await reader.optionsOfMany(items);
  } finally {
    await reader?.close();
  }
  for (const item of items) {
    let r = resolvePanel(item, '', options?.get(item) ?? null);
    if (r.panel === null && r.source === null) {
      try {
        const s = await host.readService(item);
        r = resolvePanel(item, s.panel, options?.get(item) ?? null);
      } catch (e) {
        if (!(e instanceof ServiceNotFoundError)) throw e;
        out.set(item, { panel: null, error: `service ${item} is unknown to BILLmanager` });
        continue;
      }
    }
    out.set(item, r.panel !== null ? { panel: r.panel, error: null } : { panel: null, error: r.why });
  }
  return out;
}

/**
 * The modules an admin command without `--module` covers for unbound services (SPEC 3): the host's
 * processing modules of this kind and those the state knows. A host that cannot list its modules
 * leaves the state's (logged).
 */
export async function ownModulesOfHost(host: Host, stateModules: readonly number[]): Promise<number[]> {
  const { isOwnModuleKind } = await import('../host/host.js');
  const ids = new Set(stateModules);
  try {
    for (const r of await host.listProcessingModules()) if (isOwnModuleKind(r.kind)) ids.add(r.id);
  } catch (e) {
    log.warn(`the host's processing modules could not be listed (${(e as Error).message}); only the modules the state knows are covered`);
  }
  return [...ids].sort((a, b) => a - b);
}

/**
 * `maintain`'s part of SPEC 5.9: every live service of the covered modules with no license bound
 * is bound to its one candidate (and then gets the renewal rule) or reported as a failure of the
 * run. Returns how many were handled; failures go through `fail`.
 */
export async function maintainUnbound(o: {
  store: LicenseStore;
  host: Host;
  today: Day;
  onlyModule: number | null;
  stateModules: readonly number[];
  services: readonly ServiceListRow[];
  fail: (what: string, e: unknown) => void;
}): Promise<number> {
  const { store, host } = o;
  const modules = o.onlyModule !== null ? [o.onlyModule] : await ownModulesOfHost(host, o.stateModules);
  const unbound = o.services.filter((s) => s.processingmodule !== null && modules.includes(s.processingmodule) && isLiveStatus(s.status) && !store.licenseOfService(s.id) && store.releasingFrom(s.id).length === 0);
  if (unbound.length === 0) return 0;
  let panels: Map<number, PanelOutcome>;
  try {
    panels = await panelsOf(host, unbound.map((s) => s.id));
  } catch (e) {
    for (const s of unbound) o.fail(`service ${s.id} (no license bound)`, e);
    return 0;
  }
  const [{ LicensingClient }, { keyWaitSeconds, orderSettleSeconds }, { Lifecycle }, { underServiceLock }, { isOwnModuleKind }] = await Promise.all([
    import('../upstream/client.js'),
    import('../config.js'),
    import('./lifecycle.js'),
    import('./service-lock.js'),
    import('../host/host.js'),
  ]);
  const accounts = new Map<number, Promise<{ upstream: LicensingApi; list: UpstreamLicense[] }>>();
  const account = (m: number) => {
    let a = accounts.get(m);
    if (!a) {
      a = (async () => {
        const settings = await host.readModule(m);
        if (!isOwnModuleKind(settings.kind)) throw new BadInputError('module', String(m), `processing module ${m} is a "${settings.kind}" module, not pmisplicense`);
        const upstream = new LicensingClient(settings);
        return { upstream, list: await upstream.list() };
      })();
      accounts.set(m, a);
    }
    return a;
  };
  let handled = 0;
  for (const row of unbound) {
    const what = `service ${row.id} (no license bound)`;
    const p = panels.get(row.id)!;
    if (p.panel === 'nopanel') continue;
    try {
      if (p.panel === null) throw new BadInputError('panel', '', p.error);
      const module = row.processingmodule!;
      const { upstream, list } = await account(module);
      await underServiceLock(store, row.id, 'maintain', async () => {
        const service = await host.readService(row.id);
        if (service.processingmodule !== module) return; // moved meanwhile: its own run decides
        const lic = await bindIfUnbound({ store, upstream, host, module, today: o.today }, service, 'maintain', { account: list, panel: p.panel });
        if (!lic) return;
        const lifecycle = new Lifecycle({ store, upstream, host, module, today: o.today, keyWaitMs: keyWaitSeconds() * 1000, orderSettleMs: orderSettleSeconds() * 1000 });
        // Bound as it is: now it gets the renewal rule like every bound license (SPEC 5.3).
        await lifecycle.maintainBound({ ...service, licenseId: lic.upstreamId }, store.license(module, lic.upstreamId) ?? lic);
      });
      handled++;
    } catch (e) {
      o.fail(what, e);
    }
  }
  return handled;
}
