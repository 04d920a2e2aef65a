// The per-service lock (SPEC 5.8): every process that changes a service's license — a protocol
// command, maintain, reconcile, the panel — holds it, so what it reads of the service is what the
// previous holder left. Kept in the state file; a lock whose holder died is free.
import { lockWaitSeconds } from '../config.js';
import { BusyError } from '../errors.js';
import type { LicenseStore } from './store.js';

/** A lock whose holder died (SIGKILL, a crash) is free. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits for another live process working on the same service (BILLmanager may start a retry
 *  while the first run is still going), at most PMISPLICENSE_LOCK_WAIT; then BusyError. */
export async function lockService(store: LicenseStore, item: number, command: string): Promise<void> {
  const deadline = Date.now() + lockWaitSeconds() * 1000;
  for (;;) {
    const holder = store.tryLock(item, command, isAlive);
    if (holder === null) return;
    if (Date.now() >= deadline) throw new BusyError(item, holder);
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 150));
  }
}

/** Runs fn holding the service's lock. */
export async function underServiceLock<T>(store: LicenseStore, item: number, command: string, fn: () => Promise<T>): Promise<T> {
  await lockService(store, item, command);
  try {
    return await fn();
  } finally {
    store.unlock(item);
  }
}
