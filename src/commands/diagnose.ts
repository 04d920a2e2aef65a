// `pmisplicense diagnose --item N` (SPEC 4): for an administrator setting up a new installation,
// what each source says about the service — the soft.edit form, BILLmanager's database settings,
// the tariff options read from that database — and the panel and add-ons the module would use, and
// why. License keys and the database password are masked. Exit 1 when the panel cannot be determined.
import type { Paths } from '../config.js';
import { asModuleError } from '../errors.js';
import { Host } from '../host/host.js';
import { ADDON_TYPE, openOptionsReader, type OptionsReader, type ServiceOptions, type TariffOption } from '../host/options.js';
import { resolvePanel } from '../host/panel.js';
import type { DatabaseSettings } from '../host/types.js';
import { addSecret, log, mask } from '../log.js';
import type { Service } from '../host/types.js';
import { today } from '../dates.js';
import { NoStateError } from '../errors.js';
import { parseServicePeriod } from '../pool/periods.js';
import { LicenseStore } from '../pool/store.js';
import { LicensingClient } from '../upstream/client.js';
import type { Tariff } from '../upstream/types.js';
import { explainPeriod, poolChoice, priceWords } from './dry-run.js';
import { periodName } from './pool.js';

const SECRET_FIELDS = new Set(['lickey', 'password', 'authinfo']);
const TYPE_NAMES: Record<number, string> = { [ADDON_TYPE.boolean]: 'boolean', [ADDON_TYPE.integer]: 'integer', [ADDON_TYPE.enumeration]: 'enumeration' };

function optionLine(o: TariffOption): string {
  const type = TYPE_NAMES[o.addontype] ?? `addontype ${o.addontype}`;
  const from = o.valueFrom === 'service' ? "the service's value" : o.valueFrom === 'tariff' ? "the tariff's default" : 'no value';
  const items = o.addontype === ADDON_TYPE.enumeration ? `; items in use: ${o.items.length ? o.items.join(', ') : 'none'}` : '';
  const key = o.key ? `"${o.key}"${o.intname ? '' : ' (internal name empty: the detail\'s)'}` : '(no internal name)';
  return `option ${o.id} ${key}, ${type} = ${o.value ?? '(none)'} (${from}${items})`;
}

export async function diagnose(p: Paths, o: { item: number }): Promise<number> {
  const lines: string[] = [];
  const say = (s = '') => lines.push(s);
  const host = new Host(p.mgrctl);
  try {
    const { service, form } = await host.readServiceWithForm(o.item);
    for (const f of form) if (SECRET_FIELDS.has(f.name)) addSecret(f.value);

    say(`Service ${o.item}: soft.edit fields`);
    for (const f of form) {
      const value = SECRET_FIELDS.has(f.name) && f.value ? '***' : f.value;
      const note = /^addon_\d+$/.test(f.name) ? '   (the host\'s option id and item id: never sent upstream nor read as a panel)' : f.name === 'panel' ? '   (product-type parameter: used only when the tariff has no panel option)' : '';
      say(`  ${f.name} = ${value}${note}`);
    }
    if (!form.some((f) => f.name === 'panel')) say('  (no product-type parameter "panel")');

    say();
    say("BILLmanager's database (paramlist)");
    let database: DatabaseSettings | null = null;
    let options: ServiceOptions | null = null;
    let dbFailure: string | null = null;
    try {
      database = await host.readDatabaseSettings();
      say(`  DBHost = ${database.host || '(none)'}, DBSocket = ${database.socket || '(none)'}, DBName = ${database.name || '(none)'}, DBUser = ${database.user || '(none)'}, DBPassword = ${database.password ? '***' : '(none)'}`);
      if (!database.name) say('  no DBName: the module reads no tariff options; the panel comes from the product-type parameter "panel"');
    } catch (e) {
      dbFailure = `paramlist failed: ${asModuleError(e).message}`;
      say(`  ${dbFailure}`);
    }

    if (database?.name) {
      say();
      let reader: OptionsReader | null = null;
      try {
        reader = await openOptionsReader(database);
        options = reader && (await reader.optionsOf(o.item));
        if (!options) dbFailure = `service ${o.item} is not in database '${database.name}': is it BILLmanager's own database?`;
      } catch (e) {
        dbFailure = asModuleError(e).message;
      } finally {
        await reader?.close();
      }
      if (options) {
        say(`Tariff options of tariff ${options.tariff} for service ${o.item} (read-only from '${database.name}')`);
        if (options.options.length === 0) say('  none');
        for (const opt of options.options) say(`  ${optionLine(opt)}`);
      } else {
        say(`Tariff options: cannot be read: ${dbFailure}`);
      }
    }

    say();
    if (dbFailure && database?.name) {
      say(`Panel: cannot be determined while the database cannot be read (open and setparam fail with a retryable "host" error).`);
      say('Upstream add-ons: unknown');
      return 1;
    }
    const r = resolvePanel(o.item, service.panel, options);
    if (r.panel === null) {
      say(`Panel: cannot be determined. ${r.why}`);
    } else {
      say(`Panel: ${r.panel}${r.panel === 'nopanel' ? ' (no license)' : ' (sent to the licensing server as pricelist)'}, from ${r.why}`);
    }
    const addons = Object.entries(r.addons);
    say(`Upstream add-ons: ${addons.length ? addons.map(([k, v]) => `${k}=${v}`).join(', ') : 'none'}${options ? ' (tariff options named addon_<digits>; nothing of soft.edit is forwarded)' : ' (no database: none are sent)'}`);
    if (r.panel !== null) {
      say();
      for (const line of await licenseOutlook(p, host, { ...service, panel: r.panel })) say(line);
    }
    return r.panel === null ? 1 : 0;
  } finally {
    const text = mask(lines.join('\n'));
    if (text) process.stdout.write(`${text}\n`);
    log.info(`diagnose --item ${o.item} done`);
  }
}

/**
 * SPEC 3 v3: the period rule that applies and the license the service has or would get (the pool's
 * choice, or why none, and the price of a new one) — from the state opened read-only, and the
 * licensing server's price export (a read). Nothing is reserved, ordered or written.
 */
async function licenseOutlook(p: Paths, host: Host, service: Service): Promise<string[]> {
  const out: string[] = [];
  const module = service.processingmodule;
  if (module === null) return ['License: the service names no processing module (processingmodule): nothing to say about its license.'];
  let store: LicenseStore | null = null;
  try {
    store = LicenseStore.open(p.db, { readonly: true });
  } catch (e) {
    if (!(e instanceof NoStateError)) throw e;
  }
  try {
    const rules = store ? store.periodRules(module) : [];
    let period: number | null = null;
    try {
      const servicePeriod = parseServicePeriod(service.period);
      const choice = explainPeriod({ period: servicePeriod, itemtype: service.itemtype, pricelist: service.pricelist }, rules);
      period = choice.period;
      out.push(`Period rule: service period ${periodName(servicePeriod)} → license ${periodName(choice.period)} (${choice.why})`);
    } catch (e) {
      out.push(`Period rule: cannot apply: ${asModuleError(e).message}`);
    }
    if (service.panel === 'nopanel') {
      out.push('License: none (nopanel)');
      return out;
    }
    const bound = store?.licenseOfService(service.id) ?? null;
    if (bound) {
      // Bound in any module: a license stays with the module that bought it (SPEC 5.9).
      out.push(`License: bound to license ${bound.upstreamId} (tariff ${bound.pricelist}, ${bound.period === null ? 'period unknown' : periodName(bound.period)}, ${bound.period === 0 ? 'lifetime' : `paid until ${bound.expiredate ?? '?'}`}, IP ${bound.ip || '?'})${bound.pricelist !== service.panel ? `; the panel is now ${service.panel}: setparam would swap it` : ''}`);
      return out;
    }
    const day = today();
    const pool = store ? poolChoice(store, module, service.panel, day) : { license: null, why: 'the module has no state yet (no pool): a new one would be ordered' };
    let tariffs: Tariff[] | null = null;
    if (!pool.license && period !== null) {
      try {
        tariffs = await new LicensingClient(await host.readModule(module)).tariffs();
      } catch (e) {
        log.warn(`diagnose: the licensing server's prices could not be read: ${asModuleError(e).message}`);
      }
    }
    out.push(`License on open: ${pool.why}${!pool.license && period !== null ? ` (tariff ${service.panel}, ${periodName(period)}: ${priceWords(tariffs, service.panel, period)})` : ''}`);
    return out;
  } finally {
    store?.close();
  }
}
