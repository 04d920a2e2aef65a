// The protocol runner: turns `--command X` into one command module, prints its document, and is
// the one place where a failure becomes an error document, is recorded on the running operation,
// and (when retrying will not cure it, or after the 5th retryable failure in a row) goes manual
// with a task for the administrator (SPEC 4, 6).
import { parseProtocolArgs, type ProtocolArgs } from './args.js';
import { checkEnvironment, paths, type Paths } from './config.js';
import { asModuleError, CommandError, errorDocument, type ModuleError } from './errors.js';
import { log, mask, openLog } from './log.js';

export interface ProtocolContext {
  args: ProtocolArgs;
  paths: Paths;
}

export interface ProtocolCommand {
  run(ctx: ProtocolContext): Promise<string>;
}

// Loaded lazily so that `features` does not parse the XML reader, SQLite or the HTTP client.
const COMMANDS: Record<string, () => Promise<ProtocolCommand>> = {
  features: () => import('./commands/features.js'),
  check_connection: () => import('./commands/check_connection.js'),
  open: () => import('./commands/open.js'),
  prolong: () => import('./commands/prolong.js'),
  close: () => import('./commands/close.js'),
  suspend: () => import('./commands/suspend.js'),
  resume: () => import('./commands/resume.js'),
  setparam: () => import('./commands/setparam.js'),
  sync_item: () => import('./commands/sync_item.js'),
  gen_key: () => import('./commands/gen_key.js'),
};

/** Every protocol command the runner knows (`features` lists the ones BILLmanager may call). */
export const PROTOCOL_COMMANDS: readonly string[] = Object.keys(COMMANDS);

/** BILLmanager runs these with --runningoperation; their failures count towards going manual. */
export const ITEM_OPERATIONS = ['open', 'prolong', 'close', 'suspend', 'resume', 'setparam'] as const;

export async function runProtocol(argv: readonly string[]): Promise<number> {
  const p = paths();
  openLog(p.log);
  if (process.env.PMISPLICENSE_NOW) log.warn(`PMISPLICENSE_NOW is set: "now" is ${process.env.PMISPLICENSE_NOW}`);
  let args: ProtocolArgs | null = null;
  try {
    const parsed = parseProtocolArgs(argv);
    args = parsed.args;
    if (parsed.problem) throw parsed.problem;
    checkEnvironment(); // an unusable setting is an error document of type command (SPEC 2)
    log.info(`command ${args.command}${args.item ? ` item=${args.item}` : ''}${args.runningOperation ? ` runningoperation=${args.runningOperation}` : ''}`);
    const load = Object.hasOwn(COMMANDS, args.command) ? COMMANDS[args.command] : undefined;
    if (!load) throw new CommandError(args.command, `Unknown command "${args.command}". Known commands: ${Object.keys(COMMANDS).join(', ')}.`);
    const out = await (await load()).run({ args, paths: p });
    process.stdout.write(out);
    log.info(`command ${args.command} done`);
    return 0;
  } catch (e) {
    const err = asModuleError(e);
    log.error(`command ${args?.command ?? '?'} failed: [${err.type}] ${err.message}`);
    if (e instanceof Error && e.stack && err.type === 'internal') log.error(e.stack);
    if (args) await reportFailure(args, p, err);
    // Masked like the log and the errorxml: a message may quote input that carries a secret.
    process.stdout.write(`${mask(errorDocument(err, args?.lang ?? 'en'))}\n`);
    return 1;
  }
}

const MANUAL_AFTER = 5;

async function reportFailure(args: ProtocolArgs, p: Paths, err: ModuleError): Promise<void> {
  const ro = args.runningOperation;
  if (ro === null) return;
  try {
    const { Host } = await import('./host/host.js');
    const host = new Host(p.mgrctl);
    await host.recordFailure(ro, errorDocument(err, args.lang));
    let manual = !err.retryable;
    if (args.item !== null) {
      const count = await countFailure(p, args.item, args.command, manual);
      if (count >= MANUAL_AFTER) manual = true;
    }
    if (manual) {
      log.info(`running operation ${ro} goes to manual: ${err.retryable ? `${MANUAL_AFTER} failures in a row` : 'retrying will not cure it'}`);
      await goManualOnce(host, p, ro, args.item, args.command);
    } else {
      log.info(`running operation ${ro} left for BILLmanager's retry`);
    }
  } catch (e) {
    log.error(`could not report the failure to BILLmanager: ${asModuleError(e).message}`);
  }
}

/** Goes manual with at most one task per running operation (SPEC 5.9): the state records the task.
 *  Without a usable state the task is still created (a task too many beats none). */
async function goManualOnce(host: import('./host/host.js').Host, p: Paths, ro: number, item: number | null, command: string): Promise<void> {
  let store: import('./pool/store.js').LicenseStore | null = null;
  try {
    const { openStore } = await import('./pool/store.js');
    store = openStore(p.db);
  } catch (e) {
    log.error(`task record unavailable: ${asModuleError(e).message}`);
  }
  try {
    await host.goManual(ro, item, command, store ?? undefined);
  } finally {
    store?.close();
  }
}

/** Counts a retryable failure; going manual resets the count. Returns the count (0 when reset). */
async function countFailure(p: Paths, item: number, command: string, reset: boolean): Promise<number> {
  try {
    const { openStore } = await import('./pool/store.js');
    const store = openStore(p.db);
    try {
      if (reset) {
        store.resetFailures(item, command);
        return 0;
      }
      const n = store.countFailure(item, command);
      if (n >= MANUAL_AFTER) store.resetFailures(item, command);
      return n;
    } finally {
      store.close();
    }
  } catch (e) {
    log.error(`failure counter unavailable: ${asModuleError(e).message}`);
    return 0;
  }
}
