// PLACEHOLDER
// The interface the panel codes against; the real implementation (another engineer's) replaces
// this file at merge.
import type { Paths } from '../config.js';
import { ModuleError } from '../errors.js';
import type { Host } from '../host/host.js';
import type { LicenseStore } from './store.js';

export interface AdoptableLicense { id: number; licname: string; pricelist: string; ip: string; period: number; expiredate: string | null; why: string }
export interface AdminContext { store: LicenseStore; host: Host; paths: Paths; today: string }

export async function adoptableLicenses(_ctx: AdminContext, _module: number): Promise<AdoptableLicense[]> {
  throw new ModuleError('internal', 'Adopting licenses is not available in this build.', false);
}

export async function adoptLicense(_ctx: AdminContext, _module: number, _license: number, _force: boolean): Promise<string> {
  throw new ModuleError('internal', 'Adopting licenses is not available in this build.', false);
}
