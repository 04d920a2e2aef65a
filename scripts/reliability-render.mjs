// Turns the case records of one run of test/reliability (JSON lines written by
// test/reliability/record.ts) into docs/RELIABILITY.md. Only counts and outcomes go in, never times,
// so the document a fresh run writes is the same as the committed one unless behaviour changed.
import { readFileSync } from 'node:fs';

const SUITES = [
  ['crash', 'Crash at every step', 'The module is killed (SIGKILL) at each licensing-server step of each command, before and after the upstream applied it, and during a SQLite write; then BILLmanager\'s retry runs the same command again.'],
  ['concurrency', 'Concurrency at scale', 'Many module processes at once on one state file: opens, closes feeding the pool, repeated opens of one service.'],
  ['faults', 'Upstream fault matrix', 'Every licensing-server function the module uses × HTTP 500, timeout, connection reset, broken XML, an auth error, an unknown error type.'],
  ['badinput', 'Bad input', 'Malformed or hostile input from BILLmanager, the administrator or the environment: a clear error document and nothing changed.'],
  ['interleavings', 'Interleavings of issue 7', 'The two interleavings that broke SPEC 5.8: `maintain` waits for a slow license list while `open` re-uses (or `close` releases) a license it read; the state, the upstream and the host must still agree, and the next open must re-use the released license.'],
  ['stress', 'Randomized interleavings (stress)', 'A seeded random mix of every protocol command, `maintain` and `reconcile --apply`, 2–4 module processes at a time, with upstream latency and faults, SIGKILLs and the clock moved by days and months; SPEC 5.8\'s four invariants checked after every round across the state, the upstream account and the host\'s services. `seed`, `operations` (module processes), `rounds`, `concurrentPairs` (pairs of processes that ran at once), `checks` and `violations` are measured by the run; a failing run is replayed with `npm run test:stress -- --seed S --ops N`.'],
  ['security', 'Security', 'Secrets never leave the process except to the host through mgrctl\'s environment form; files are private; TLS cannot be turned off; SQL is parameterised.'],
];
const MONEY = ['doublePurchases', 'doubleBindings', 'leaks', 'lostRecords', 'inconsistencies'];
const LABEL = { doublePurchases: 'double purchases', doubleBindings: 'double bindings', leaks: 'leaks', lostRecords: 'lost records', inconsistencies: 'inconsistent services' };

export function readRecords(file) {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const cell = (s) => String(s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function render(records) {
  const out = [];
  out.push('# Reliability figures');
  out.push('');
  out.push('Generated from the results of `test/reliability/` by `scripts/reliability-render.mjs`: written');
  out.push('here by `npm run test:reliability -- --write`, or outside the tree by a full `npm test` with');
  out.push('`PMISPLICENSE_RELIABILITY_DOC=<path>` (CI\'s artifact), whether the cases passed or not. Do not');
  out.push('edit by hand.');
  out.push('Every count is measured by the case; a case "held" only when its test passed and every money');
  out.push('count is 0. The stress run\'s figures depend on timing (retries, kills), so they can vary a little');
  out.push('between runs of the same seed.');
  out.push('');
  const failing = records.filter((r) => !r.ok);
  if (failing.length > 0) {
    out.push(`**${failing.length} case(s) FAILED in this run:**`);
    out.push('');
    for (const r of failing) out.push(`- ${cell(r.suite)} / ${cell(r.name)}: ${cell(r.outcome ?? r.error ?? 'failed')}`);
    out.push('');
  }
  for (const r of records.filter((x) => x.suite === 'stress')) {
    const c = r.counts ?? {};
    out.push(`Stress (${cell(r.name)}): seed ${c.seed}, ${c.operations} module processes in ${c.rounds} rounds, ${c.concurrentPairs} concurrent pairs, ${c.checks} invariant checks, ${c.kills} SIGKILLs, ${c.faults} faults, **${c.violations} violation(s)**.`);
    out.push('');
  }
  // A count no case of the suite measured is shown as "–", never as a 0 nobody measured.
  const total = (key, rs = records) => (rs.some((r) => typeof r[key] === 'number') ? rs.reduce((n, r) => n + (r[key] ?? 0), 0) : '–');
  out.push('| suite | cases | all held | ' + MONEY.map((k) => LABEL[k]).join(' | ') + ' |');
  out.push('|---|---|---|' + MONEY.map(() => '---').join('|') + '|');
  for (const [id, title] of SUITES) {
    const rs = records.filter((r) => r.suite === id);
    out.push(`| ${title} | ${rs.length} | ${rs.every((r) => r.ok) ? 'yes' : 'NO'} | ${MONEY.map((k) => total(k, rs)).join(' | ')} |`);
  }
  out.push(`| **all** | **${records.length}** | **${records.every((r) => r.ok) ? 'yes' : 'NO'}** | ${MONEY.map((k) => `**${total(k)}**`).join(' | ')} |`);
  for (const [id, title, what] of SUITES) {
    const rs = records.filter((r) => r.suite === id);
    out.push('');
    out.push(`## ${title}`);
    out.push('');
    out.push(what);
    out.push('');
    if (rs.length === 0) {
      out.push('No cases recorded.');
      continue;
    }
    const countKeys = [...new Set(rs.flatMap((r) => Object.keys(r.counts ?? {})))];
    const moneyKeys = MONEY.filter((k) => rs.some((r) => r[k] !== undefined));
    out.push(`| case | held | ${moneyKeys.map((k) => LABEL[k]).join(' | ')}${moneyKeys.length ? ' | ' : ''}${countKeys.join(' | ')}${countKeys.length ? ' | ' : ''}outcome |`);
    out.push(`|---|---|${moneyKeys.map(() => '---|').join('')}${countKeys.map(() => '---|').join('')}---|`);
    for (const r of rs) {
      out.push(`| ${cell(r.name)} | ${r.ok ? 'yes' : 'NO'} | ${moneyKeys.map((k) => `${r[k] ?? '–'} | `).join('')}${countKeys.map((k) => `${r.counts?.[k] ?? '–'} | `).join('')}${cell(r.outcome)} |`);
    }
  }
  out.push('');
  return out.join('\n');
}
