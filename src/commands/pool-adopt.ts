// `pool adopt --module N --license ID [--force]` (SPEC 3): the work is in pool/adopt.ts, shared
// with the panel's Adopt form.
import type { Paths } from '../config.js';
import { today } from '../dates.js';
import { Host } from '../host/host.js';
import { adoptLicense } from '../pool/adopt.js';
import { openStore } from '../pool/store.js';

export async function poolAdopt(p: Paths, o: { module: number; license: number; force: boolean }): Promise<number> {
  const store = openStore(p.db);
  try {
    const said = await adoptLicense({ store, host: new Host(p.mgrctl), paths: p, today: today() }, o.module, o.license, o.force);
    process.stdout.write(`${said}\n`);
    return 0;
  } finally {
    store.close();
  }
}
