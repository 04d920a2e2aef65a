// `pmisplicense playground` (SPEC 9 v3): the sandbox licensing server and a simulated BILLmanager
// host in one command, so that an administrator can try every admin command, every protocol
// command and the panel pages before touching a real BILLmanager. It prints the environment to
// export in another shell and serves until interrupted (SIGINT/SIGTERM), then removes what it made.
//
// The simulated host is reached the way the module reaches a real one: through an executable at
// $MGR_ROOT/sbin/mgrctl (a two-line wrapper around dist/sandbox-mgrctl that names the host's state
// file), so MGR_ROOT alone points the module at it; PMISPLICENSE_MGRCTL is printed too, to be plain
// about which mgrctl answers. The state and the log go to $MGR_ROOT/var as on a server.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { addMonths, today } from '../dates.js';
import { CommandError } from '../errors.js';
import { createSimulatedHost, type NewSimService } from '../sandbox/host.js';
import { IN_MEMORY_NOTICE, startLicensingServer, type LicensingSandbox } from '../sandbox/licensing-server.js';

export const PLAYGROUND_MODULE = 1;
const USER = 'reseller';
const BALANCE = 1000;
/** The host's tariff plan of the services and the host's id of the "Control panel" option. */
const HOST_TARIFF = '20';
const PANEL_OPTION = 16660;
const PANEL_CHOICES = [
  { id: 398, name: 'ISPmanager Lite', panel: '3541' },
  { id: 399, name: 'ISPmanager Business', panel: '4601' },
  { id: 400, name: 'Without control panel', panel: 'nopanel' },
];

export interface PlaygroundOptions {
  port: number;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The services a new customer base would have: ordered, not opened yet (BILLmanager's `open` does that). */
function services(day: string): NewSimService[] {
  const paid = addMonths(day, 1);
  const base = { pricelist: HOST_TARIFF, itemtype: 'soft', processingmodule: PLAYGROUND_MODULE, status: 1, period: '1', expiredate: paid };
  return [
    { id: 101, ip: '203.0.113.10', panel: '3541', ...base },
    { id: 102, ip: '203.0.113.20', panel: '3541', ...base },
    { id: 103, ip: '203.0.113.30', panel: '4601', ...base, period: '12', expiredate: addMonths(day, 12) },
    { id: 104, ip: '203.0.113.40', panel: 'nopanel', ...base },
  ];
}

export async function playground(o: PlaygroundOptions): Promise<number> {
  const exe = realpathSync(process.argv[1]!);
  const hostMgrctl = join(dirname(exe), 'sandbox-mgrctl');
  if (!existsSync(hostMgrctl)) {
    throw new CommandError('playground', `the simulated BILLmanager's mgrctl (${hostMgrctl}) is missing: run the playground from a build (npm run build, then node dist/pmisplicense playground).`);
  }
  const root = mkdtempSync(join(tmpdir(), 'pmisplicense-playground-'));
  let sb: LicensingSandbox | null = null;
  let host: ReturnType<typeof createSimulatedHost> | null = null;
  try {
    mkdirSync(join(root, 'var'), { mode: 0o700 });
    mkdirSync(join(root, 'sbin'));
    const hostDb = join(root, 'host.db');
    const mgrctl = join(root, 'sbin', 'mgrctl');
    writeFileSync(mgrctl, `#!/bin/sh\n# The playground's simulated BILLmanager (pmisplicense playground).\nPMISPLICENSE_SANDBOX_HOST=${shellQuote(hostDb)}\nexport PMISPLICENSE_SANDBOX_HOST\nexec ${shellQuote(process.execPath)} ${shellQuote(hostMgrctl)} "$@"\n`);
    chmodSync(mgrctl, 0o755);

    // A test password made here: it is the simulated module's, never a real one, and never printed.
    const password = randomBytes(12).toString('hex');
    sb = await startLicensingServer({ port: o.port, user: USER, password, balance: BALANCE });
    host = createSimulatedHost(hostDb);
    host.addModule({ id: PLAYGROUND_MODULE, url: sb.url, username: USER, password });
    const day = today();
    for (const s of services(day)) {
      host.addService(s);
      // What BILLmanager's soft.edit shows of the tariff option: the host's own ids (never sent upstream).
      const chosen = PANEL_CHOICES.find((c) => c.panel === s.panel)!;
      host.setFormOptions(s.id, [{ id: PANEL_OPTION, value: String(chosen.id), choices: PANEL_CHOICES.map(({ id, name }) => ({ id, name })) }]);
    }

    const me = shellQuote(exe);
    const lines = [
      'pmisplicense playground: a sandbox licensing server and a simulated BILLmanager on this machine.',
      '',
      `  licensing server   ${sb.url} (account "${USER}", balance ${BALANCE.toFixed(2)}; ${IN_MEMORY_NOTICE.replace(/^Its/, 'its')})`,
      `  BILLmanager        simulated, state in ${root}: processing module ${PLAYGROUND_MODULE} configured against that server;`,
      `                     services 101, 102 (ISPmanager Lite, 3541), 103 (ISPmanager Business, 4601, yearly), 104 (nopanel),`,
      `                     product type soft, ordered and not opened yet; the panel is the product-type parameter "panel"`,
      '',
      'In another shell, export:',
      '',
      `export MGR_ROOT=${shellQuote(root)} PMISPLICENSE_MGRCTL=${shellQuote(mgrctl)}`,
      '',
      'then try (each is what BILLmanager or an administrator runs on a server):',
      `  ${me} tariffs --module ${PLAYGROUND_MODULE}`,
      `  ${me} periods add --module ${PLAYGROUND_MODULE} --source 1 --target 12`,
      `  ${me} --command open --item 101 --runningoperation 1`,
      `  ${me} pool list`,
      `  ${me} --command close --item 101 --runningoperation 2`,
      `  ${me} --command open --item 102 --runningoperation 3      (takes the pooled license when it may)`,
      `  ${me} diagnose --item 103`,
      `  ${me} maintain --dry-run`,
      `  ${me} reconcile --module ${PLAYGROUND_MODULE}`,
      `  PARAM_func=pmisplicense.pool PARAM_elid=${PLAYGROUND_MODULE} AUTH_USER=admin AUTH_LEVEL=29 ${me} panel </dev/null`,
      '',
      'Stop with Ctrl-C: the licensing server, the simulated BILLmanager and the state above are removed.',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);

    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    process.stdout.write('pmisplicense playground: stopped; its state is removed.\n');
    return 0;
  } finally {
    host?.close();
    await sb?.close();
    rmSync(root, { recursive: true, force: true });
  }
}
