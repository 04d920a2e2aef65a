// The administrator's commands (SPEC 3): `pmisplicense periods|pool|maintain|sandbox|demo …`.
// yargs is loaded only here, so the protocol path never pays for it.
import yargs from 'yargs';
import { paths } from './config.js';
import { asModuleError } from './errors.js';
import { log, mask, openLog } from './log.js';

/** Returns the exit code, or null for a command that keeps running (the sandbox). */
export async function runAdmin(argv: readonly string[]): Promise<number | null> {
  const p = paths();
  let code: number | null = 0;
  const report = (e: unknown) => {
    const err = asModuleError(e);
    log.error(`${argv.slice(0, 2).join(' ')} failed: ${err.message}`);
    if (err.type === 'internal' && e instanceof Error && e.stack) log.error(e.stack);
    process.stderr.write(`pmisplicense: ${mask(err.message)}\n`);
    code = 1;
  };
  const guard = (fn: () => Promise<number | null>) => async () => {
    try {
      code = await fn();
    } catch (e) {
      report(e);
    }
  };
  const startLog = () => {
    openLog(p.log);
    if (process.env.PMISPLICENSE_NOW) log.warn(`PMISPLICENSE_NOW is set: "now" is ${process.env.PMISPLICENSE_NOW}`);
  };
  const moduleOpt = { type: 'number', describe: 'processing module id in BILLmanager' } as const;

  await yargs([...argv])
    .scriptName('pmisplicense')
    .usage('$0 <command> [options]\n\nBILLmanager runs this module as `$0 --command <name> --item N …`; the commands below are for the administrator.')
    .command(
      'periods <action>',
      'Periods comparison rules (source period → license period)',
      (y) =>
        y
          .positional('action', { choices: ['add', 'list', 'remove'] as const, demandOption: true })
          .option('module', { ...moduleOpt, demandOption: true })
          .option('source', { type: 'string', describe: 'service period code (1, 3, 6, 12, 24, 36, 0, -100, -50)' })
          .option('target', { type: 'string', describe: 'license period: 1, 12 or 0 (lifetime)' })
          .option('itemtype', { type: 'string', describe: 'product type internal name (with --pricelist)' })
          .option('pricelist', { type: 'string', describe: 'host tariff plan id (with --itemtype)' })
          .option('id', { type: 'number', describe: 'rule id (remove)' })
          .option('json', { type: 'boolean', default: false }),
      (a) => guard(async () => {
        startLog();
        const { periodsCommand } = await import('./commands/periods.js');
        return periodsCommand(p, a);
      })(),
    )
    .command(
      'pool <action>',
      'The licenses this module manages: list them, or adopt a free.lic license it did not release',
      (y) =>
        y
          .positional('action', { choices: ['list', 'adopt'] as const, demandOption: true })
          .option('module', moduleOpt)
          .option('license', { type: 'number', describe: 'upstream license id (adopt)' })
          .option('force', { type: 'boolean', default: false, describe: 'adopt a license that looks in use (adopt)' })
          .option('json', { type: 'boolean', default: false }),
      (a) => guard(async () => {
        startLog();
        if (a.action === 'adopt') {
          const { poolAdopt } = await import('./commands/pool-adopt.js');
          return poolAdopt(p, { module: a.module ?? 0, license: a.license ?? 0, force: a.force === true });
        }
        const { poolCommand } = await import('./commands/pool.js');
        return poolCommand(p, a);
      })(),
    )
    .command(
      'panel',
      'The panel pages handler (run by BILLmanager)',
      (y) => y,
      () => guard(async () => {
        const { runPanel } = await import('./panel/handler.js');
        return runPanel(p);
      })(),
    )
    .command(
      'reconcile',
      'Compare the licensing server account, the module state and the host services; --apply fixes the faults',
      (y) => y.option('module', moduleOpt).option('json', { type: 'boolean', default: false }).option('apply', { type: 'boolean', default: false }),
      (a) => guard(async () => {
        startLog();
        const { reconcile } = await import('./commands/reconcile.js');
        return reconcile(p, { module: a.module ?? null, json: a.json, apply: a.apply });
      })(),
    )
    .command(
      'maintain',
      'Daily upkeep (cron): renew bound licenses by the 5-day rule, fill in missing keys, drop expired pooled licenses',
      (y) => y.option('module', moduleOpt),
      (a) => guard(async () => {
        startLog();
        const { maintain } = await import('./commands/maintain.js');
        return maintain(p, a.module ?? null);
      })(),
    )
    .command(
      'diagnose',
      "Where a service's panel and add-ons come from (soft.edit, BILLmanager's database) and which ones the module would use",
      (y) => y.option('item', { type: 'number', demandOption: true, describe: 'service id in BILLmanager' }),
      (a) => guard(async () => {
        if (!Number.isInteger(a.item) || a.item <= 0) {
          process.stderr.write(`pmisplicense: --item must be a service id (a positive whole number), got '${String(a.item)}'\n`);
          return 2;
        }
        startLog();
        const { diagnose } = await import('./commands/diagnose.js');
        return diagnose(p, { item: a.item });
      })(),
    )
    .command(
      'sandbox',
      'Run the sandbox licensing server on loopback (for a test processing module, the tests and the demo)',
      (y) =>
        y
          .option('port', { type: 'number', default: 0 })
          .option('user', { type: 'string', default: 'reseller' })
          .option('password', { type: 'string', describe: 'or PMISPLICENSE_SANDBOX_PASSWORD (keeps it out of the process list)' })
          .option('balance', { type: 'number', default: 1000 })
          .option('key-delay-ms', { type: 'number', default: 0 })
          .option('now', { type: 'string', describe: 'ISO date the sandbox takes as "now"' }),
      (a) => guard(async () => {
        const { sandboxCommand } = await import('./commands/sandbox.js');
        return sandboxCommand(a);
      })(),
    )
    .command(
      'demo',
      "Play the seed's worked example on the sandbox licensing server and a simulated host",
      (y) => y,
      () => guard(async () => {
        const { demo } = await import('./commands/demo.js');
        return demo();
      })(),
    )
    .demandCommand(1, 'Name a command; --help lists them.')
    .strict()
    .help()
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`pmisplicense: ${msg}\nRun pmisplicense --help for the commands.\n`);
      code = 1;
    })
    .parseAsync();
  return code;
}
