// `reconcile [--module N] [--json] [--apply]` (SPEC 3): prints the findings of pool/reconcile.ts,
// one a line (or one JSON array), then a summary with the paid days per kind; --apply fixes the
// faults SPEC allows and reads everything again. Exit 0 when no fault is (left), 1 otherwise.
import type { Paths } from '../config.js';
import { today } from '../dates.js';
import { asModuleError } from '../errors.js';
import { Host } from '../host/host.js';
import { type AdminContext } from '../pool/adopt.js';
import { applyFinding, FAULT_KINDS, findDiscrepancies, type Finding, type FindingKind } from '../pool/reconcile.js';
import { openStore } from '../pool/store.js';

const KINDS: readonly FindingKind[] = ['leak', 'lost', 'autoprolong', 'params', 'unbound', 'unmanaged', 'drift', 'moved'];

function summary(findings: Finding[]): string {
  const parts = KINDS.map((k) => {
    const of = findings.filter((f) => f.kind === k);
    const days = of.reduce((n, f) => n + (f.paidDaysLeft ?? 0), 0);
    const lifetime = of.filter((f) => f.paidDaysLeft === null && f.license !== null).length;
    return `${of.length} ${k}${of.length ? ` (${days} paid days${lifetime ? `, ${lifetime} lifetime or unknown` : ''})` : ''}`;
  });
  const faults = findings.filter((f) => FAULT_KINDS.includes(f.kind)).length;
  return `reconcile: ${parts.join(', ')}; ${faults === 0 ? 'no fault' : `${faults} fault(s)`}`;
}

function line(f: Finding): string {
  const days = f.paidDaysLeft === null ? '-' : String(f.paidDaysLeft);
  return `${f.kind.padEnd(12)}license ${String(f.license ?? '-').padEnd(8)}service ${String(f.item ?? '-').padEnd(8)}paid days ${days.padEnd(5)}${f.detail}; fix: ${f.fix}`;
}

export async function reconcile(p: Paths, o: { module: number | null; json: boolean; apply: boolean }): Promise<number> {
  const store = openStore(p.db);
  try {
    const ctx: AdminContext = { store, host: new Host(p.mgrctl), paths: p, today: today() };
    const found = await findDiscrepancies(ctx, o.module);
    if (o.json) process.stdout.write(`${JSON.stringify(found.map(({ kind, license, item, paidDaysLeft, detail, fix }) => ({ kind, license, item, paidDaysLeft, detail, fix })))}\n`);
    else for (const f of found) process.stdout.write(`${line(f)}\n`);
    const say = (s: string) => (o.json ? process.stderr : process.stdout).write(`${s}\n`);
    say(summary(found));
    let remaining = found;
    if (o.apply && found.some((f) => FAULT_KINDS.includes(f.kind))) {
      for (const f of found.filter((x) => FAULT_KINDS.includes(x.kind))) {
        try {
          const r = await applyFinding(ctx, f);
          say(`  ${r.applied ? 'fixed' : 'not fixed'}: ${f.kind} license ${f.license ?? '-'} service ${f.item ?? '-'}: ${r.message}`);
        } catch (e) {
          say(`  failed: ${f.kind} license ${f.license ?? '-'} service ${f.item ?? '-'}: ${asModuleError(e).message}`);
        }
      }
      remaining = await findDiscrepancies(ctx, o.module);
      say(`after --apply: ${summary(remaining)}`);
    }
    return remaining.some((f) => FAULT_KINDS.includes(f.kind)) ? 1 : 0;
  } finally {
    store.close();
  }
}
