// `npm run test:stress -- --seed S --ops N [--services K] [--quiet] [--no-host-faults] [--no-migration]`:
// the interleaving stress test of
// test/reliability/stress-kit.ts for as long as asked. Prints the operation log as it goes (or only
// on failure with --quiet), then the figures; exit 1 on any violation, with the seed to replay it.
// With PMISPLICENSE_RELIABILITY_OUT set, the run is also recorded for docs/RELIABILITY.md.
import { writeRecord } from '../test/reliability/record.js';
import { runStress } from '../test/reliability/stress-kit.js';

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: npm run test:stress -- [--seed S] [--ops N] [--services K] [--quiet] [--no-host-faults] [--no-migration]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const opts: { seed: number; ops: number; services: number; quiet: boolean; hostFaults: boolean; withMigration: boolean } = {
  seed: Math.floor(Math.random() * 2 ** 31),
  ops: 1000,
  services: 40,
  quiet: false,
  hostFaults: true,
  // SPEC 5.9's migration and module moves (issue 14) are in the mix; --no-migration replays a seed
  // of a run made before they were.
  withMigration: true,
};
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--quiet') {
    opts.quiet = true;
    continue;
  }
  if (a === '--no-host-faults') {
    opts.hostFaults = false;
    continue;
  }
  if (a === '--no-migration') {
    opts.withMigration = false;
    continue;
  }
  if (a === '--with-migration') continue; // the default now; kept so that old command lines still work
  const key = a.replace(/^--/, '');
  if (!['seed', 'ops', 'services'].includes(key)) usage(`unknown option ${a}`);
  const value = Number(args[++i]);
  if (!Number.isInteger(value) || value < 0) usage(`${a} needs a whole number`);
  opts[key as 'seed' | 'ops' | 'services'] = value;
}

const r = await runStress({ seed: opts.seed, ops: opts.ops, services: opts.services, hostFaults: opts.hostFaults, withMigration: opts.withMigration, progress: opts.quiet ? undefined : (l) => process.stdout.write(`${l}\n`) });
if (opts.quiet && r.violations.length > 0) process.stdout.write(`${r.opLog.join('\n')}\n`);
const count = (k: string): number => r.violations.filter((v) => v.kind === k).length;
writeRecord({
  suite: 'stress',
  name: `long run: seed ${r.seed}, ${r.operations} processes`,
  ok: r.violations.length === 0,
  testPassed: true,
  doublePurchases: count('doublePurchases'),
  doubleBindings: count('doubleBindings'),
  leaks: count('leaks'),
  lostRecords: count('lostRecords'),
  inconsistencies: count('inconsistencies'),
  counts: { seed: r.seed, operations: r.operations, rounds: r.rounds, concurrentPairs: r.concurrentPairs, checks: r.checks, kills: r.kills, faults: r.faults, hostFaults: r.hostFaults, hostFaultsHit: r.hostFaultsHit, clockMoves: r.clockMoves, violations: r.violations.length },
  outcome: r.violations.length === 0 ? `0 violations in ${r.checks} checks` : `${r.violations.length} violation(s)`,
});
process.stdout.write(
  `\nseed ${r.seed}: ${r.operations} module processes in ${r.rounds} rounds (${r.concurrentPairs} concurrent pairs), ${r.checks} checks, ` +
    `${r.kills} SIGKILLs, ${r.faults} faults (${r.hostFaults} on the host, ${r.hostFaultsHit} of them hit), ${r.retries} retries, ${r.abandoned} left manual, ${r.clockMoves} clock moves, reconcile ${r.reconcileAvailable ? 'on' : 'not built'}, ${r.seconds} s\n`,
);
for (const v of r.violations) process.stdout.write(`VIOLATION round ${v.round}, invariant ${v.invariant} (${v.kind}): ${v.message}\n`);
process.stdout.write(r.violations.length === 0 ? '0 violations\n' : `${r.violations.length} violation(s): replay with npm run test:stress -- --seed ${r.seed} --ops ${opts.ops} --services ${opts.services}${opts.hostFaults ? '' : ' --no-host-faults'}${opts.withMigration ? '' : ' --no-migration'}\n`);
process.exit(r.violations.length === 0 ? 0 : 1);
