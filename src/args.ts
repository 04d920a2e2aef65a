// The protocol command line (SPEC 2): `--command open --item 5 --runningoperation 7 --lang en`.
// Hand-written rather than yargs: BILLmanager starts the module once per operation, and the
// protocol path must not pay for yargs' start-up. Values come as separate tokens or `--x=v`;
// unknown options are ignored because BILLmanager adds options across versions.
import { CommandError } from './errors.js';

export interface ProtocolArgs {
  command: string;
  item: number | null;
  runningOperation: number | null;
  lang: 'en' | 'ru';
  module: number | null;
}

/** All options as strings; a flag without a value maps to ''. */
export function parseOptions(argv: readonly string[]): Map<string, string> {
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (!tok.startsWith('--')) continue;
    const eq = tok.indexOf('=');
    if (eq > 2) {
      opts.set(tok.slice(2, eq), tok.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        opts.set(tok.slice(2), next);
        i++;
      } else {
        opts.set(tok.slice(2), '');
      }
    }
  }
  return opts;
}

/** A positive integer id, or a clear error naming the option. */
export function parseId(name: string, raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const s = raw.trim();
  if (!/^[1-9]\d{0,15}$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new CommandError(name, `--${name} must be a positive whole number, got "${raw}"`);
  }
  return Number(s);
}

/** Every field that can be read, and the first problem found. A bad --item must not hide a good
 *  --runningoperation: the failure is still recorded there (protocol.ts). */
export function parseProtocolArgs(argv: readonly string[]): { args: ProtocolArgs; problem: CommandError | null } {
  const o = parseOptions(argv);
  let problem: CommandError | null = null;
  const id = (name: string): number | null => {
    try {
      return parseId(name, o.get(name));
    } catch (e) {
      problem ??= e as CommandError;
      return null;
    }
  };
  const args: ProtocolArgs = {
    command: o.get('command') ?? '',
    runningOperation: id('runningoperation'),
    item: id('item'),
    lang: o.get('lang') === 'ru' ? 'ru' : 'en',
    module: id('module'),
  };
  return { args, problem };
}
