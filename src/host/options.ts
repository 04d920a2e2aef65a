// The service's tariff options, read read-only from BILLmanager's own database (SPEC 4).
// BILLmanager keeps a service's options as child items of the service and an enumeration choice as
// an enumeration item whose internal name is what the administrator typed; the edit form shows only
// host ids. ISPsystem's own modules read them from the database the same way: Module::AddItemAddon
// in processing/certificate/sslstore/module.cpp of github.com/ISPsystemLLC/billmanager, and
// `itemaddons` in ISPsystem's Python helper library (the value rules and filters below follow them).
//
// mysql2 is loaded here only, by a dynamic import, so commands that need no options never load it.
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { HostError } from '../errors.js';
import { addSecret, log, mask } from '../log.js';
import type { DatabaseSettings } from './types.js';

/** pricelist.addontype */
export const ADDON_TYPE = { boolean: 1, integer: 2, enumeration: 3 } as const;

export interface TariffOption {
  /** pricelist.id of the option (the host's id; what soft.edit calls addon_<id>). */
  id: number;
  /** pricelist.intname, else (NULL or empty) the detail's itemtype.intname; '' when neither. */
  key: string;
  /** pricelist.intname as stored ('' when NULL), for `diagnose`. */
  intname: string;
  addontype: number;
  /**
   * enumeration: the chosen item's intname, else the default item's; boolean: the service's
   * boolvalue, else the option's addonbool; integer: the included amount plus the ordered one.
   * null when there is none (an enumeration with neither a chosen nor a default item).
   */
  value: string | null;
  /** Where the value came from, for `diagnose`. */
  valueFrom: 'service' | 'tariff' | 'none';
  /** Enumeration options: the internal names of the items the option and the services refer to. */
  items: string[];
}

export interface ServiceOptions {
  /** The service's tariff (item.pricelist). */
  tariff: number;
  /** The tariff's product type, item → pricelist → itemtype.intname (as ISPsystem's Module::ItemQuery
   *  reads it); null when the database does not say. What tariff-limited period rules compare. */
  itemtype: string | null;
  options: TariffOption[];
}

const CONNECT_TIMEOUT_MS = 10_000;
const QUERY_TIMEOUT_MS = 30_000;

/** Every option row of the given services' tariffs, filtered as ISPsystem's module base does. */
const OPTIONS_SQL = `
SELECT i.id AS service, i.pricelist AS tariff, p.id AS option_id, p.intname AS intname, t.intname AS detail,
       p.addontype AS addontype, p.addonlimit AS option_limit, p.addonbool AS option_bool,
       pe.intname AS default_item, a.id AS chosen_id, a.intvalue AS intvalue, a.addonlimit AS service_limit,
       a.boolvalue AS boolvalue, ie.intname AS chosen_item
FROM item i
JOIN pricelist p ON p.parent = i.pricelist
LEFT JOIN item a ON a.parent = i.id AND a.pricelist = p.id
LEFT JOIN itemtype t ON t.id = p.itemtype
LEFT JOIN enumerationitem ie ON ie.id = a.enumerationitem
LEFT JOIN enumerationitem pe ON pe.id = p.enumerationitem
WHERE i.id IN (?)
  AND (p.active = 'on' OR a.id IS NOT NULL)
  AND COALESCE(p.billtype, 0) NOT IN (4, 10)
  AND (p.compound IS NULL OR a.id IS NOT NULL)
ORDER BY i.id, p.id`;

/**
 * The items of enumeration options: the option's default and every service's choice. (The
 * enumeration's full item list would need columns SPEC 4 does not name; these are the items that
 * can reach an order.)
 */
const ITEMS_SQL = `
SELECT p.id AS option_id, e.intname AS intname FROM pricelist p JOIN enumerationitem e ON e.id = p.enumerationitem
WHERE p.parent IN (?) AND p.addontype = 3
UNION
SELECT p.id, e.intname FROM pricelist p JOIN item a ON a.pricelist = p.id JOIN enumerationitem e ON e.id = a.enumerationitem
WHERE p.parent IN (?) AND p.addontype = 3`;

interface OptionRow extends RowDataPacket {
  service: number;
  tariff: number;
  option_id: number;
  intname: string | null;
  detail: string | null;
  addontype: number | null;
  option_limit: string | number | null;
  option_bool: string | null;
  default_item: string | null;
  chosen_id: number | null;
  intvalue: string | number | null;
  service_limit: string | number | null;
  boolvalue: string | null;
  chosen_item: string | null;
}

function num(v: string | number | null): number | null {
  if (v === null) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** SPEC 4's value rules for one option row. */
function optionValue(r: OptionRow): Pick<TariffOption, 'value' | 'valueFrom'> {
  const chosen = r.chosen_id !== null;
  switch (Number(r.addontype)) {
    case ADDON_TYPE.enumeration:
      if (r.chosen_item !== null && r.chosen_item !== '') return { value: r.chosen_item, valueFrom: 'service' };
      if (r.default_item !== null && r.default_item !== '') return { value: r.default_item, valueFrom: 'tariff' };
      return { value: null, valueFrom: 'none' };
    case ADDON_TYPE.boolean:
      if (r.boolvalue !== null) return { value: r.boolvalue, valueFrom: 'service' };
      return { value: r.option_bool ?? 'off', valueFrom: 'tariff' };
    case ADDON_TYPE.integer: {
      const included = num(r.service_limit) ?? num(r.option_limit) ?? 0;
      const total = included + (num(r.intvalue) ?? 0);
      return { value: String(total), valueFrom: chosen && (r.service_limit !== null || r.intvalue !== null) ? 'service' : 'tariff' };
    }
    default:
      return { value: null, valueFrom: 'none' };
  }
}

function describeTarget(s: DatabaseSettings): string {
  return s.socket ? `socket ${s.socket}` : `host ${s.host || 'localhost'}`;
}

/** Any failure of the database: retryable (SPEC 4), never with the password in it. */
function dbError(s: DatabaseSettings, what: string, e: unknown): HostError {
  const err = e as { code?: string; message?: string };
  const reason = mask(`${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`);
  return new HostError(`Cannot ${what} BILLmanager's database '${s.name}' (${describeTarget(s)}, user '${s.user}'): ${reason}. The tariff options (the customer's panel) are read from it; check paramlist's DBHost/DBSocket/DBUser/DBPassword/DBName (pmisplicense diagnose --item N shows them).`, true);
}

/**
 * One short read-only connection to BILLmanager's database. Open it with `openOptionsReader`
 * (null when paramlist names no database), use it, close it.
 */
export class OptionsReader {
  private constructor(
    private readonly conn: Connection,
    readonly settings: DatabaseSettings,
  ) {}

  static async open(settings: DatabaseSettings): Promise<OptionsReader> {
    addSecret(settings.password);
    let mysql: typeof import('mysql2/promise');
    try {
      mysql = (await import('mysql2/promise')).default;
    } catch (e) {
      throw new HostError(`The mysql2 driver, needed to read BILLmanager's tariff options, cannot be loaded: ${(e as Error).message}. Reinstall the module (npm ci, install.sh).`, false);
    }
    const [hostName, portText] = settings.host.split(':');
    const port = portText && /^\d+$/.test(portText) ? Number(portText) : undefined;
    log.info(`reading tariff options from database '${settings.name}' (${describeTarget(settings)}, user '${settings.user}', read-only)`);
    let conn: Connection;
    try {
      conn = await mysql.createConnection({
        ...(settings.socket ? { socketPath: settings.socket } : { host: hostName || 'localhost', port }),
        user: settings.user,
        password: settings.password,
        database: settings.name,
        connectTimeout: CONNECT_TIMEOUT_MS,
        // Numbers as strings where precision could be lost (addonlimit is a decimal).
        decimalNumbers: false,
        supportBigNumbers: true,
        bigNumberStrings: true,
      });
    } catch (e) {
      throw dbError(settings, 'connect to', e);
    }
    try {
      // The module never writes BILLmanager's database; the server holds it to that.
      await conn.query({ sql: 'SET SESSION TRANSACTION READ ONLY', timeout: QUERY_TIMEOUT_MS });
    } catch (e) {
      await conn.end().catch(() => conn.destroy());
      throw dbError(settings, 'use', e);
    }
    return new OptionsReader(conn, settings);
  }

  private async rows<T extends RowDataPacket>(sql: string, values: unknown[]): Promise<T[]> {
    try {
      const [rows] = await this.conn.query<T[]>({ sql, values, timeout: QUERY_TIMEOUT_MS });
      return rows;
    } catch (e) {
      throw dbError(this.settings, 'read', e);
    }
  }

  /** The tariff options of one service; null when the database does not know the service. */
  async optionsOf(item: number): Promise<ServiceOptions | null> {
    return (await this.optionsOfMany([item])).get(item) ?? null;
  }

  /** The tariff options of many services in one query (plus one for the enumeration items). */
  async optionsOfMany(items: readonly number[]): Promise<Map<number, ServiceOptions>> {
    const out = new Map<number, ServiceOptions>();
    if (items.length === 0) return out;
    const tariffRows = await this.rows<RowDataPacket & { id: number; pricelist: number | null; itemtype: string | null }>(
      'SELECT i.id AS id, i.pricelist AS pricelist, t.intname AS itemtype FROM item i LEFT JOIN pricelist p ON p.id = i.pricelist LEFT JOIN itemtype t ON t.id = p.itemtype WHERE i.id IN (?)',
      [items],
    );
    for (const r of tariffRows) {
      const itemtype = (r.itemtype ?? '').trim();
      if (r.pricelist !== null) out.set(Number(r.id), { tariff: Number(r.pricelist), itemtype: itemtype || null, options: [] });
    }
    if (out.size === 0) return out;
    const rows = await this.rows<OptionRow>(OPTIONS_SQL, [[...out.keys()]]);
    const tariffs = [...new Set([...out.values()].map((s) => s.tariff))];
    const itemRows = await this.rows<RowDataPacket & { option_id: number; intname: string | null }>(ITEMS_SQL, [tariffs, tariffs]);
    const itemsOf = new Map<number, string[]>();
    for (const r of itemRows) {
      if (r.intname === null) continue;
      const list = itemsOf.get(Number(r.option_id)) ?? [];
      if (!list.includes(r.intname)) list.push(r.intname);
      itemsOf.set(Number(r.option_id), list);
    }
    const seen = new Set<string>();
    for (const r of rows) {
      // A service has one child item per option; should the host keep more, the first one counts.
      const once = `${r.service}/${r.option_id}`;
      if (seen.has(once)) continue;
      seen.add(once);
      const intname = (r.intname ?? '').trim();
      const option: TariffOption = {
        id: Number(r.option_id),
        key: intname || (r.detail ?? '').trim(),
        intname,
        addontype: Number(r.addontype ?? 0),
        ...optionValue(r),
        items: Number(r.addontype) === ADDON_TYPE.enumeration ? (itemsOf.get(Number(r.option_id)) ?? []).sort() : [],
      };
      out.get(Number(r.service))?.options.push(option);
    }
    return out;
  }

  /**
   * item.lastpricelist: the tariff a service is being changed from (> 0 while a tariff change is
   * pending), as ISPsystem's module base reads it before rolling a failed setparam back
   * (Module::Run in processing/certificate/sslstore/module.cpp of ISPsystemLLC/billmanager).
   * 0 when there is none or the database does not know the service.
   */
  async lastPricelist(item: number): Promise<number> {
    const rows = await this.rows<RowDataPacket & { lastpricelist: string | number | null }>('SELECT lastpricelist FROM item WHERE id = ?', [item]);
    const n = num(rows[0]?.lastpricelist ?? null);
    return n !== null && n > 0 ? n : 0;
  }

  /** Every service's `license_id` param in one query (itemparam: item, intname, value). */
  async licenseIdParams(): Promise<Map<number, string>> {
    const rows = await this.rows<RowDataPacket & { item: number; value: string | null }>("SELECT item, value FROM itemparam WHERE intname = 'license_id'", []);
    return new Map(rows.map((r) => [Number(r.item), r.value ?? '']));
  }

  async close(): Promise<void> {
    await this.conn.end().catch(() => this.conn.destroy());
  }
}

/** Opens the reader when paramlist names a database (DBName); null otherwise (SPEC 4). */
export async function openOptionsReader(settings: DatabaseSettings): Promise<OptionsReader | null> {
  if (!settings.name) return null;
  return OptionsReader.open(settings);
}
