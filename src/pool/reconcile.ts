// PLACEHOLDER
// The interface the panel codes against; the real implementation (another engineer's) replaces
// this file at merge.
import { ModuleError } from '../errors.js';
import type { AdminContext } from './adopt.js';

export type FindingKind = 'leak' | 'lost' | 'unmanaged' | 'autoprolong' | 'drift' | 'params';
export interface Finding { kind: FindingKind; module: number; license: number | null; item: number | null; paidDaysLeft: number | null; detail: string; fix: string }

export async function findDiscrepancies(_ctx: AdminContext, _module: number | null): Promise<Finding[]> {
  throw new ModuleError('internal', 'Reconciliation is not available in this build.', false);
}

export async function applyFinding(_ctx: AdminContext, _f: Finding): Promise<{ applied: boolean; message: string }> {
  throw new ModuleError('internal', 'Reconciliation is not available in this build.', false);
}
