// Puts a license into the module's pool the way an administrator does: the sandbox account gets a
// free.lic license and `pmisplicense pool adopt` takes it over.
import { expect } from 'chai';
import type { SeedLicense } from '../../src/sandbox/licensing-server.js';
import { MODULE, type World } from './world.js';

export async function pooled(w: World, seed: SeedLicense): Promise<number> {
  const lic = w.sandbox.addLicense({ licname: 'free.lic', manualSuspended: true, ...seed });
  const r = await w.exec(['pool', 'adopt', '--module', String(MODULE), '--license', String(lic.id)]);
  expect(r.code, r.stderr).to.equal(0);
  return lic.id;
}
