// `pmisplicense demo` (README's first command): the seed's worked example, played for real on the
// sandbox licensing server and a simulated BILLmanager host. Each step runs this very executable
// the way BILLmanager does (a new process, --command … --item …), with the clock set to the day of
// the story, and prints what happened upstream and the money it cost.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { addMonths } from '../dates.js';
import { createSimulatedHost } from '../sandbox/host.js';
import { DEFAULT_PRICES, startLicensingServer, type LicensingSandbox } from '../sandbox/licensing-server.js';

const MODULE = 1;
const TARIFF = '3541'; // ISPmanager Lite
const out = (s = '') => process.stdout.write(`${s}\n`);
const money = (n: number) => n.toFixed(2);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function demo(): Promise<number> {
  const exe = realpathSync(process.argv[1]!);
  const dir = mkdtempSync(join(tmpdir(), 'pmisplicense-demo-'));
  const password = randomBytes(12).toString('hex');
  const sb = await startLicensingServer({ user: 'reseller', password, balance: 1000, now: '2026-01-10' });
  const host = createSimulatedHost(join(dir, 'host.db'));
  host.addModule({ id: MODULE, url: sb.url, username: 'reseller', password });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MGR_ROOT: dir,
    PMISPLICENSE_MGRCTL: join(dirname(exe), 'sandbox-mgrctl'),
    PMISPLICENSE_SANDBOX_HOST: join(dir, 'host.db'),
    PMISPLICENSE_DB: join(dir, 'pmisplicense.db'),
    PMISPLICENSE_LOG: join(dir, 'pmisplicense.log'),
  };
  let day = '2026-01-10';
  let seenRequests = 0;
  let spentBefore = 0;
  let failed = false;

  const run = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [exe, ...args], { env: { ...env, PMISPLICENSE_NOW: `${day}T12:00:00Z` }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });

  const at = (d: string, what: string) => {
    day = d;
    sb.setNow(d);
    out(`\n${d}  ${what}`);
  };
  /** Runs one protocol command and reports what it did upstream and what it cost. */
  const billmanager = async (command: string, item: number) => {
    const r = await run(['--command', command, '--item', String(item), '--runningoperation', String(item * 100 + seenRequests)]);
    if (r.code !== 0) {
      failed = true;
      out(`    ✗ ${command} failed: ${r.stdout.trim()}`);
      return;
    }
    out(`    BILLmanager runs: pmisplicense --command ${command} --item ${item}   → ok`);
    reportUpstream(sb, seenRequests);
    seenRequests = sb.requests().length;
    const spent = sb.spent - spentBefore;
    spentBefore = sb.spent;
    out(`    money spent: ${money(spent)}`);
  };
  const license = (item: number) => sb.licenses().find((l) => l.licname === `Item #${item}`);

  try {
    out('pmisplicense demo — the seed\'s example on the sandbox licensing server (prices: ISPmanager Lite');
    out(`10.00 a month, 100.00 a year) and a simulated BILLmanager. Every step below is a real run of the module.`);
    out('The customer\'s panel choice comes here from the service\'s parameter "panel"; on a real BILLmanager it comes');
    out('from the tariff option with the internal name "panel" (pmisplicense diagnose --item N shows it).');

    at(day, 'The provider sells yearly licenses monthly: periods comparison rule 1 → 12.');
    const rule = await run(['periods', 'add', '--module', String(MODULE), '--source', '1', '--target', '12']);
    out(`    pmisplicense periods add --module 1 --source 1 --target 12   → rule ${rule.stdout.trim()}`);

    at('2026-01-10', 'Anna orders a VPS (service 101, IP 203.0.113.10) with ISPmanager Lite for 1 month.');
    host.addService({ id: 101, ip: '203.0.113.10', panel: TARIFF, period: '1', expiredate: addMonths(day, 1), pricelist: '20', itemtype: 'soft', processingmodule: MODULE, status: 2 });
    await billmanager('open', 101);
    const lic = license(101);
    if (lic) out(`    license ${lic.id}: ${lic.period === 12 ? 'yearly' : `${lic.period}-month`}, bound to ${lic.ip}, paid until ${lic.expiredate}; key saved on the service: ${host.service(101)?.params.lickey ? 'yes' : 'no'}`);

    at('2026-02-08', 'Anna renews her VPS for two more months (paid until 2026-04-10).');
    host.updateService(101, { expiredate: '2026-04-10' });
    await billmanager('prolong', 101);
    out('    the license is paid until next January: nothing to buy (renewal only within 5 days of expiry)');

    at('2026-03-01', 'The daily maintenance run (cron).');
    const m = await run(['maintain']);
    out(`    pmisplicense maintain   → ${m.stdout.trim()}`);
    reportUpstream(sb, seenRequests);
    seenRequests = sb.requests().length;

    at('2026-03-20', 'In her third month Anna cancels the VPS.');
    await billmanager('close', 101);
    const pooled = lic ? sb.license(lic.id) : undefined;
    if (pooled) out(`    license ${pooled.id} is now "${pooled.licname}", ${pooled.status === 3 ? 'suspended' : `status ${pooled.status}`}, auto-renewal ${pooled.autoprolongOn ? 'on' : 'off'}, paid until ${pooled.expiredate}: it waits in the pool`);

    at('2026-03-25', 'Boris orders a VPS (service 102, IP 203.0.113.20) with ISPmanager Lite for 1 month.');
    host.addService({ id: 102, ip: '203.0.113.20', panel: TARIFF, period: '1', expiredate: addMonths(day, 1), pricelist: '20', itemtype: 'soft', processingmodule: MODULE, status: 2 });
    await billmanager('open', 102);
    const reused = license(102);
    if (reused) out(`    Boris got license ${reused.id}${lic && reused.id === lic.id ? ' — the one from the pool, not a new purchase' : ''}: bound to ${reused.ip}, new key, paid until ${reused.expiredate}`);

    const pool = await run(['pool', 'list']);
    out('\n    pmisplicense pool list');
    for (const line of pool.stdout.trimEnd().split('\n')) out(`      ${line}`);

    const p = DEFAULT_PRICES[TARIFF]!;
    const monthly = p['1']!;
    const yearly = p['12']!;
    // Months covered: Anna 2026-01-10..04-10 (3), Boris 2026-03-25..2027-01-10 (about 10), by one license.
    const withoutAnything = 3 * monthly + 10 * monthly;
    out('\nWhat the story cost at the licensing server');
    out(`    with the rule and the pool (this run):   ${money(sb.spent)}  (${sb.purchases()} purchase(s), ${sb.prolongs()} renewal(s)); Boris is covered until ${reused?.expiredate ?? '?'}`);
    out(`    same months, monthly licenses, no pool:  ${money(withoutAnything)}  (Anna 3 × ${money(monthly)}, Boris 10 × ${money(monthly)}; computed from the price list)`);
    out(`    yearly licenses but no pool:             ${money(2 * yearly)}  (a second yearly license for Boris; computed)`);
    out(`    balance left at the licensing server:    ${money(sb.balance)}`);
    const saved = 2 * yearly - sb.spent;
    if (saved > 0) out(`\nThe pool saved ${money(saved)}: Boris got Anna's paid license instead of a new one.`);
    return failed ? 1 : 0;
  } finally {
    host.close();
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The licensing server's functions as an administrator would say them. */
const IN_WORDS: Record<string, string> = {
  auth: 'log in',
  soft: 'list licenses',
  'soft.edit': 'read license',
  'soft.order.param': 'order (paid)',
  'service.prolong': 'renew (paid)',
  'soft.suspend': 'suspend',
  'soft.resume': 'resume',
  'soft.delete': 'delete',
};

/** One line per licensing-server request since `from`: what the module asked for. */
function reportUpstream(sb: LicensingSandbox, from: number): void {
  const reqs = sb.requests().slice(from);
  if (reqs.length === 0) {
    out('    requests to the licensing server: none');
    return;
  }
  const names = reqs.map((r) => (r.func === 'soft.edit' && r.params.sok ? (r.params.clicked_button === 'newkey' ? 'new key' : 'change name/IP/renewal') : (IN_WORDS[r.func] ?? r.func)));
  out(`    requests to the licensing server: ${names.join(', ')}`);
}
