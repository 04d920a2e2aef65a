// Test set-up only: writes license rows straight into a state file, as a past run would have left
// them. The module itself changes licenses only through the store's transitions (SPEC 5.8); tests
// that need a given starting state (a page of many licenses, odd values) plant it here.
import Database from 'better-sqlite3';
import { LicenseStore, type LicenseState } from '../../src/pool/store.js';

export interface SeedRow {
  module: number;
  upstreamId: number;
  pricelist: string;
  tariffName?: string;
  period: number | null;
  state: LicenseState;
  item?: number | null;
  releasedFrom?: number | null;
  ip: string;
  expiredate: string | null;
  ipChangeDate?: string | null;
  keyChangeDate?: string | null;
  hasKey?: boolean;
}

export function seedLicenses(dbFile: string, rows: SeedRow[]): void {
  LicenseStore.open(dbFile).close(); // creates and migrates the file
  const db = new Database(dbFile);
  try {
    const ins = db.prepare(
      `INSERT INTO license (module, upstream_id, pricelist, tariff_name, period, state, item, released_from, ip, expiredate, ip_change_date, key_change_date, has_key, version, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
    );
    db.transaction(() => {
      for (const r of rows) {
        ins.run(r.module, r.upstreamId, r.pricelist, r.tariffName ?? '', r.period, r.state, r.item ?? null, r.releasedFrom ?? null, r.ip, r.expiredate, r.ipChangeDate ?? null, r.keyChangeDate ?? null, r.hasKey === false ? 0 : 1, new Date().toISOString());
      }
    })();
  } finally {
    db.close();
  }
}
