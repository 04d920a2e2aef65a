// Which panel license a service needs and which upstream add-ons go with its order (SPEC 4):
// from the tariff options in BILLmanager's database when paramlist names one, else from the
// product-type parameter `panel` of soft.edit. Nothing of soft.edit is ever forwarded upstream.
import { BadInputError, HostError } from '../errors.js';
import { log } from '../log.js';
import type { Host } from './host.js';
import { ADDON_TYPE, openOptionsReader, type OptionsReader, type ServiceOptions, type TariffOption } from './options.js';
import type { DatabaseSettings, Service } from './types.js';

const PANEL_VALUE = /^([1-9]\d{0,9}|nopanel)$/;
const UPSTREAM_ADDON = /^addon_\d+$/;

export type PanelSource = 'option panel' | 'panel-like enumeration' | 'product-type parameter';

export interface PanelResolution {
  /** The panel the module would use; null when it cannot be determined (`error` says why). */
  panel: string | null;
  source: PanelSource | null;
  /** One sentence: where the panel came from, or what is missing. */
  why: string;
  error: BadInputError | null;
  /** Options named addon_<digits> with their totals: the only add-ons ever sent upstream. */
  addons: Record<string, string>;
}

const HOW_TO_CONFIGURE =
  'Give the tariff plan\'s "Control panel license" option the internal name "panel" (Products → Tariff plans → Options), with enumeration values whose internal names are the licensing server\'s tariff ids (e.g. 3541) or "nopanel"; then check with: pmisplicense diagnose --item';

function describe(o: TariffOption): string {
  return `option ${o.id}${o.key ? ` "${o.key}"` : ' (no internal name)'}`;
}

/** An enumeration whose items are all licensing-server tariff ids or nopanel (SPEC 4). */
function looksLikePanel(o: TariffOption): boolean {
  return o.addontype === ADDON_TYPE.enumeration && o.items.length > 0 && o.items.every((i) => PANEL_VALUE.test(i));
}

function fail(value: string, message: string, addons: Record<string, string>, source: PanelSource | null = null): PanelResolution {
  return { panel: null, source, why: message, error: new BadInputError('panel', value, message), addons };
}

function accept(item: number, value: string, source: PanelSource, why: string, addons: Record<string, string>): PanelResolution {
  if (!PANEL_VALUE.test(value)) {
    return fail(value, `Service ${item}: the control panel "${value}" (${why}) is not a tariff id of the licensing server (digits, e.g. 3541) nor "nopanel". Set the enumeration value's internal name to the tariff id.`, addons, source);
  }
  return { panel: value, source, why, error: null, addons };
}

/**
 * SPEC 4: the option `panel`; else the tariff's one panel-like enumeration; else the product-type
 * parameter. `options` null = paramlist names no database.
 */
export function resolvePanel(item: number, productPanel: string, options: ServiceOptions | null): PanelResolution {
  const addons: Record<string, string> = {};
  for (const o of options?.options ?? []) {
    if (UPSTREAM_ADDON.test(o.key) && o.value !== null) addons[o.key] = o.value;
  }
  if (options) {
    const named = options.options.filter((o) => o.key === 'panel');
    if (named.length > 0) {
      const o = named[0]!;
      if (named.length > 1) log.warn(`service ${item}: tariff ${options.tariff} has ${named.length} options named "panel"; ${describe(o)} is used`);
      if (o.value === null) {
        return fail('', `Service ${item}: the tariff option "panel" (${describe(o)} of tariff ${options.tariff}) has neither a chosen nor a default value. Set a default value of the option (e.g. "nopanel"), or choose one on the service.`, addons, 'option panel');
      }
      return accept(item, o.value, 'option panel', `tariff option "panel" (${describe(o)} of tariff ${options.tariff}), ${o.valueFrom === 'service' ? "the service's choice" : "the option's default"}`, addons);
    }
    const alike = options.options.filter(looksLikePanel);
    if (alike.length > 1) {
      return fail('', `Service ${item}: tariff ${options.tariff} has ${alike.length} enumeration options whose values all look like licensing-server tariff ids: ${alike.map(describe).join(' and ')}. Give the one that is the control panel license the internal name "panel".`, addons);
    }
    if (alike.length === 1) {
      const o = alike[0]!;
      if (o.value === null) {
        return fail('', `Service ${item}: the control panel option (${describe(o)} of tariff ${options.tariff}) has neither a chosen nor a default value. Set a default value (e.g. "nopanel") and give the option the internal name "panel".`, addons, 'panel-like enumeration');
      }
      return accept(item, o.value, 'panel-like enumeration', `the tariff's only enumeration whose values are all tariff ids or nopanel (${describe(o)} of tariff ${options.tariff}; name it "panel" to make this explicit), ${o.valueFrom === 'service' ? "the service's choice" : "the option's default"}`, addons);
    }
  }
  if (productPanel !== '') {
    const why = options ? `product-type parameter "panel" (tariff ${options.tariff} has no option "panel")` : 'product-type parameter "panel" (paramlist names no database, so no tariff options are read)';
    return accept(item, productPanel, 'product-type parameter', why, addons);
  }
  const missing = options
    ? `tariff ${options.tariff} has no option "panel" (nor one enumeration of tariff ids), and the service has no product-type parameter "panel"`
    : 'paramlist names no database (DBName), so no tariff options can be read, and the service has no product-type parameter "panel"';
  return fail('', `Service ${item}: cannot tell which control panel license it needs: ${missing}. ${HOW_TO_CONFIGURE} ${item}.`, addons);
}

/** What `open`, `setparam` and `diagnose` learn about a service's panel, and from where. */
export interface PanelFindings {
  database: DatabaseSettings;
  /** null: no database named. */
  options: ServiceOptions | null;
  resolution: PanelResolution;
}

/**
 * Reads paramlist, then (when it names a database) the service's options over one short
 * connection, and resolves the panel. Database failures are HostErrors (retryable).
 */
export async function findPanel(host: Host, service: Service): Promise<PanelFindings> {
  const database = await host.readDatabaseSettings();
  let reader: OptionsReader | null = null;
  let options: ServiceOptions | null = null;
  try {
    reader = await openOptionsReader(database);
    if (reader) {
      options = await reader.optionsOf(service.id);
      // The form knows the service, the database does not: not BILLmanager's database, or not yet.
      if (!options) {
        throw new HostError(`Service ${service.id} is not in database '${database.name}' that paramlist names: is it BILLmanager's own database?`, true);
      }
    }
  } finally {
    await reader?.close();
  }
  return { database, options, resolution: resolvePanel(service.id, service.panel, options) };
}

/** The service with the panel and add-ons of SPEC 4, for `open` and `setparam`; a value error when the panel cannot be determined. */
export async function withResolvedPanel(host: Host, service: Service): Promise<Service> {
  const { resolution, options } = await findPanel(host, service);
  if (resolution.error || resolution.panel === null) throw resolution.error ?? new BadInputError('panel', '', resolution.why);
  log.info(`service ${service.id}: panel ${resolution.panel} from ${resolution.why}; upstream add-ons: ${Object.keys(resolution.addons).length ? Object.entries(resolution.addons).map(([k, v]) => `${k}=${v}`).join(', ') : 'none'}`);
  // The product type as the database gives it (SPEC 4 v3), for the tariff-limited period rules.
  return { ...service, panel: resolution.panel, addons: resolution.addons, itemtype: options?.itemtype ?? service.itemtype };
}
