// The administrator's commands (SPEC 3): `pmisplicense periods|pool|reconcile|maintain|diagnose|
// sandbox|demo …`. An admin command never acts on a mistake: the whole command line is checked
// against the table below — command, action, every option and its value, then the environment and
// `--module` against the host — before any handler is loaded. A mistake is one line on stderr and
// exit 2; a handler that ran and failed is one line on stderr and exit 1; done is exit 0.
// (The panel pages' handler, `pmisplicense panel`, is routed in cli.ts: it has no options.)
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Paths } from './config.js';
import { asModuleError, type ModuleError } from './errors.js';
import { LICENSE_PERIODS, SERVICE_PERIODS } from './pool/periods.js';

const ME = 'pmisplicense';

/** What a value must look like; each kind has one parser and one message. */
type Kind = 'id' | 'text' | 'flag' | 'port' | 'amount' | 'integer' | 'instant' | 'service-period' | 'license-period';

interface OptionSpec {
  name: string;
  kind: Kind;
  /** Placeholder in the usage line (`--module N`); none for a flag. */
  value?: string;
  required?: boolean;
  /** Used when the option is not given. */
  fallback?: string | number | boolean;
  describe: string;
}

type Value = string | number | boolean;

/** The checked values of one command line. */
class Given {
  constructor(private readonly values: ReadonlyMap<string, Value>) {}
  number(name: string): number | undefined {
    const v = this.values.get(name);
    return typeof v === 'number' ? v : undefined;
  }
  string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  flag(name: string): boolean {
    return this.values.get(name) === true;
  }
}

interface CommandSpec {
  /** `['periods', 'add']` or `['maintain']`. */
  path: readonly string[];
  /** Other words for the action (`periods delete`: the panel's word for remove). */
  aliases?: readonly string[];
  /** One line for the list of commands. */
  brief: string;
  summary: string;
  options: readonly OptionSpec[];
  examples: ReadonlyArray<readonly [string, string]>;
  /** A mistake across options (usage error), or null. */
  check?: (g: Given) => string | null;
  /** Opens the module log first (the commands that act on the state or the upstream), when this
   *  user may write it: otherwise every log line would land on stderr beside the one message. */
  logs: boolean;
  run: (p: Paths, g: Given) => Promise<number | null>;
}

const moduleOpt = (required: boolean, what: string): OptionSpec => ({ name: 'module', kind: 'id', value: 'N', required, describe: `${what} (a processing module id, Integration → Processing modules)` });
const jsonOpt: OptionSpec = { name: 'json', kind: 'flag', describe: 'print JSON instead of a table' };

const COMMANDS: readonly CommandSpec[] = [
  {
    path: ['periods', 'add'],
    brief: 'add a rule',
    summary: 'Add a periods comparison rule: services of period --source buy licenses of period --target. Prints only the new rule id.',
    options: [
      moduleOpt(true, 'the module the rule belongs to'),
      { name: 'source', kind: 'service-period', value: 'P', required: true, describe: `the service period code: ${SERVICE_PERIODS.join(', ')} (months; 0 lifetime, -100 trial, -50 day)` },
      { name: 'target', kind: 'license-period', value: 'P', required: true, describe: 'the license period to buy: 1 (month), 12 (year) or 0 (lifetime)' },
      { name: 'itemtype', kind: 'text', value: 'T', describe: 'limit the rule to one product type (internal name, e.g. soft); needs --pricelist' },
      { name: 'pricelist', kind: 'id', value: 'ID', describe: 'limit the rule to one tariff plan of BILLmanager (its id); needs --itemtype' },
    ],
    examples: [
      ['periods add --module 1 --source 1 --target 12', 'services paid monthly get a yearly license'],
      ['periods add --module 1 --source 3 --target 0 --itemtype soft --pricelist 42', 'for tariff plan 42 only: quarterly services get a lifetime license'],
    ],
    check: (g) => {
      const itemtype = g.string('itemtype');
      if ((itemtype === undefined) !== (g.number('pricelist') === undefined)) return 'a rule limited to one tariff plan needs both --itemtype and --pricelist (a global rule has neither)';
      // The same rule as the panel's form (pool/periods.ts): a product type's internal name.
      if (itemtype !== undefined && !/^[A-Za-z0-9_.-]+$/.test(itemtype)) return `--itemtype must be a product type's internal name (letters, digits, _ . -), such as soft; got "${itemtype}"`;
      return null;
    },
    logs: true,
    run: async (p, g) => {
      const { periodsCommand } = await import('./commands/periods.js');
      const pricelist = g.number('pricelist');
      return periodsCommand(p, { action: 'add', module: g.number('module')!, source: String(g.number('source')), target: String(g.number('target')), itemtype: g.string('itemtype'), pricelist: pricelist === undefined ? undefined : String(pricelist), json: false });
    },
  },
  {
    path: ['periods', 'list'],
    brief: 'list the rules',
    summary: 'List the periods comparison rules of one processing module.',
    options: [moduleOpt(true, 'whose rules'), jsonOpt],
    examples: [
      ['periods list --module 1', 'a table: id, source and target period, scope'],
      ['periods list --module 1 --json', '[{"id","source","target","itemtype","pricelist"}] for scripts'],
    ],
    logs: false, // a reading command: nothing to log
    run: async (p, g) => {
      const { periodsCommand } = await import('./commands/periods.js');
      return periodsCommand(p, { action: 'list', module: g.number('module')!, json: g.flag('json') });
    },
  },
  {
    path: ['periods', 'remove'],
    aliases: ['delete'],
    brief: 'remove a rule (also: delete)',
    summary: 'Remove one periods comparison rule (the id comes from periods list).',
    options: [moduleOpt(true, 'the module the rule belongs to'), { name: 'id', kind: 'id', value: 'RULE_ID', required: true, describe: 'the rule to remove, as periods list shows it' }],
    examples: [
      ['periods remove --module 1 --id 3', 'remove rule 3 of module 1'],
      ['periods delete --module 1 --id 3', 'the same, in the panel\'s word'],
    ],
    logs: true,
    run: async (p, g) => {
      const { periodsCommand } = await import('./commands/periods.js');
      return periodsCommand(p, { action: 'remove', module: g.number('module')!, id: g.number('id'), json: false });
    },
  },
  {
    path: ['pool', 'list'],
    brief: 'list the managed licenses',
    summary: 'List the licenses the module manages: bound to a service, free in the pool (and from when re-usable), or gone.',
    options: [moduleOpt(false, 'only this module (default: every module)'), jsonOpt],
    examples: [
      ['pool list', 'every license of every module, with a summary per tariff'],
      ['pool list --module 1 --json', '[{"license","pricelist","period","state","item","ip","expiredate","reusableFrom"}]'],
    ],
    logs: false, // a reading command: nothing to log
    run: async (p, g) => {
      const { poolList } = await import('./commands/pool.js');
      return poolList(p, { module: g.number('module') ?? null, json: g.flag('json') });
    },
  },
  {
    path: ['pool', 'adopt'],
    brief: 'take an unmanaged license into the pool',
    summary: 'Take into the pool a license of the account that the module does not manage: free.lic, or "Item #N" of a closed or unknown service. It is suspended, named free.lic and its auto-renewal turned off.',
    options: [
      moduleOpt(true, 'the pool to take it into'),
      { name: 'license', kind: 'id', value: 'ID', required: true, describe: 'the license id at the licensing server' },
      { name: 'force', kind: 'flag', describe: 'take any unmanaged license, also one named otherwise or serving a live service (says what it did)' },
    ],
    examples: [
      ['pool adopt --module 1 --license 123456', 'adopt license 123456 named free.lic'],
      ['pool adopt --module 1 --license 123456 --force', 'adopt it whatever its name says'],
    ],
    logs: true,
    run: async (p, g) => {
      const { poolAdopt } = await import('./commands/pool-adopt.js');
      return poolAdopt(p, { module: g.number('module')!, license: g.number('license')!, force: g.flag('force') });
    },
  },
  {
    path: ['reconcile'],
    brief: 'compare the licensing server, the state and BILLmanager; --apply fixes',
    summary: 'Compare the licensing server account, the module state and the BILLmanager services; one finding a line (leak, lost, unmanaged, autoprolong, drift, params, unbound, moved) and a summary. Without --module: every pmisplicense module of BILLmanager. Exit 1 while a fault remains.',
    options: [
      moduleOpt(false, 'only this module (default: every module)'),
      { name: 'json', kind: 'flag', describe: 'stdout is one JSON array of {"kind","license","item","paidDaysLeft","detail","fix"}; the summary goes to stderr' },
      { name: 'apply', kind: 'flag', describe: 'fix what can be fixed safely (releases leaks, marks lost licenses gone, turns auto-renewal off, clears stale service params, binds the one existing license of a live service that has none)' },
    ],
    examples: [
      ['reconcile --module 1', 'show what differs, change nothing'],
      ['reconcile --module 1 --apply', 'fix it, then run again: exit 0 when nothing is left'],
    ],
    logs: true,
    run: async (p, g) => {
      const { reconcile } = await import('./commands/reconcile.js');
      return reconcile(p, { module: g.number('module') ?? null, json: g.flag('json'), apply: g.flag('apply') });
    },
  },
  {
    path: ['maintain'],
    brief: 'daily upkeep run by cron: renewals, missing keys, expired pooled licenses',
    summary: 'Daily upkeep (cron runs it): renew bound licenses within 5 days of expiry, fill in missing keys, drop pooled licenses that expired. Each failure is one line on stderr; exit 1 if any.',
    options: [
      moduleOpt(false, 'only this module (default: every module)'),
      { name: 'dry-run', kind: 'flag', describe: 'only say what a run would renew (with prices), fill in and drop; no call that changes anything' },
    ],
    examples: [
      ['maintain', 'what cron runs every day'],
      ['maintain --module 1', 'only the licenses of module 1'],
      ['maintain --dry-run', 'what a run would do now, and what the renewals would cost'],
    ],
    logs: true,
    run: async (p, g) => {
      if (g.flag('dry-run')) {
        const { maintainDryRun } = await import('./commands/dry-run.js');
        return maintainDryRun(p, g.number('module') ?? null);
      }
      const { maintain } = await import('./commands/maintain.js');
      return maintain(p, g.number('module') ?? null);
    },
  },
  {
    path: ['diagnose'],
    brief: "where a service's panel and add-ons come from, its period rule and the license it would get",
    summary: "Show where a service's panel and add-ons come from (its tariff options), the period rule that applies, and the license it has or would get: the pooled one open would take, or why none and what a new one costs. Only reads.",
    options: [{ name: 'item', kind: 'id', value: 'N', required: true, describe: 'the service id in BILLmanager' }],
    examples: [['diagnose --item 101', 'explain service 101']],
    logs: true,
    run: async (p, g) => {
      const { diagnose } = await import('./commands/diagnose.js');
      return diagnose(p, { item: g.number('item')! });
    },
  },
  {
    path: ['tariffs'],
    brief: "the licensing server's tariff ids, names and prices",
    summary: "List the tariffs the licensing server sells to the module's account (pricelist.export): the ids to use as the panel enumeration's internal names, their names, and the price of a month, a year and a lifetime license. Only reads.",
    options: [moduleOpt(true, 'whose licensing server to ask'), { name: 'json', kind: 'flag', describe: 'print [{"id","name","prices":[{"period","cost","currency"}]}] (cost null = unknown)' }],
    examples: [
      ['tariffs --module 1', 'a table: id, name, 1 month, 1 year, lifetime'],
      ['tariffs --module 1 --json', 'the same for scripts'],
    ],
    logs: true,
    run: async (p, g) => {
      const { tariffsCommand } = await import('./commands/tariffs.js');
      return tariffsCommand(p, { module: g.number('module')!, json: g.flag('json') });
    },
  },
  {
    path: ['advise'],
    brief: 'which period rules would have cost least: the history replayed, with the optimum',
    summary: "Replay the module's own history (services opened, paid, closed; licenses bought) under each candidate rule set — none, every service period → 12, per tariff plan — with the pool as the module runs it and the licensing server's prices; show beside it what was spent and the offline optimum, then the cheapest rules and the periods commands that set them. Only reads.",
    options: [
      moduleOpt(true, 'whose history to replay'),
      { name: 'months', kind: 'id', value: 'M', fallback: 12, describe: 'how far back to replay, in months (1 to 120)' },
      { name: 'json', kind: 'flag', describe: 'print one JSON object: actual, candidates, optimum, recommended (money in cents)' },
    ],
    examples: [
      ['advise --module 1', 'the last 12 months: what was spent, each rule set, the optimum, the advice'],
      ['advise --module 1 --months 6 --json', 'the same for scripts'],
    ],
    check: (g) => (g.number('months')! > 120 ? `--months must be 1 to 120, not ${g.number('months')}` : null),
    logs: true,
    run: async (p, g) => {
      const { adviseCommand } = await import('./commands/advise.js');
      return adviseCommand(p, { module: g.number('module')!, months: g.number('months')!, json: g.flag('json') });
    },
  },
  {
    path: ['sandbox'],
    brief: 'run the sandbox licensing server on loopback',
    summary: 'Run the sandbox licensing server on loopback until stopped (Ctrl-C), for a test processing module. Its state lives in memory only.',
    options: [
      { name: 'port', kind: 'port', value: 'PORT', fallback: 0, describe: 'TCP port on 127.0.0.1, 0..65535 (0: any free port)' },
      { name: 'user', kind: 'text', value: 'NAME', fallback: 'reseller', describe: 'the account user name' },
      { name: 'password', kind: 'text', value: 'SECRET', describe: 'the account password; better PMISPLICENSE_SANDBOX_PASSWORD (keeps it out of the process list)' },
      { name: 'balance', kind: 'amount', value: 'AMOUNT', fallback: 1000, describe: 'the account balance, a number of 0 or more' },
      { name: 'key-delay-ms', kind: 'integer', value: 'MS', fallback: 0, describe: 'milliseconds from an order to its key (0: at the next read; negative: never)' },
      { name: 'now', kind: 'instant', value: 'DATE', describe: 'the day or instant the sandbox takes as "now" (ISO-8601, UTC unless an offset is given)' },
    ],
    examples: [['sandbox --port 8443 --balance 500', 'with PMISPLICENSE_SANDBOX_PASSWORD set: point a test module at the URL it prints']],
    logs: false,
    run: async (_p, g) => {
      const { sandboxCommand } = await import('./commands/sandbox.js');
      return sandboxCommand({ port: g.number('port')!, user: g.string('user')!, password: g.string('password'), balance: g.number('balance')!, 'key-delay-ms': g.number('key-delay-ms')!, now: g.string('now') });
    },
  },
  {
    path: ['playground'],
    brief: 'a sandbox licensing server and a simulated BILLmanager to try every command and page',
    summary: 'Start the sandbox licensing server and a simulated BILLmanager (one processing module against it, a few soft services), print the environment to export in another shell, and serve until stopped (Ctrl-C). Every admin command, protocol command and the panel handler then work against it. Nothing outside a temporary directory is touched; it is removed on exit.',
    options: [{ name: 'port', kind: 'port', value: 'PORT', fallback: 0, describe: "the licensing server's TCP port on 127.0.0.1, 0..65535 (0: any free port)" }],
    examples: [['playground', 'then, in another shell, the export line it prints and any command it suggests']],
    logs: false,
    run: async (_p, g) => {
      const { playground } = await import('./commands/playground.js');
      return playground({ port: g.number('port')! });
    },
  },
  {
    path: ['demo'],
    brief: "the seed's worked example on the sandbox, with what the pool saved",
    summary: "Play the seed's worked example on the sandbox licensing server and a simulated BILLmanager, and show what the pool saved.",
    options: [],
    examples: [['demo', 'takes a few seconds; changes nothing outside a temporary directory']],
    logs: false,
    run: async () => {
      const { demo } = await import('./commands/demo.js');
      return demo();
    },
  },
];

const GROUPS = [...new Set(COMMANDS.filter((c) => c.path.length > 1).map((c) => c.path[0]!))];
const TOP = [...new Set(COMMANDS.map((c) => c.path[0]!))];
/** Words that are not in the table: `help [command]` and `version` answer like --help and --version. */
const WORDS = ['help', 'version'];

/** The action of a group by its name or an alias (`periods delete` = `periods remove`). */
function actionSpec(group: string, action: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.path[0] === group && (c.path[1] === action || (c.aliases ?? []).includes(action)));
}

/** Every word an action of the group answers to, for suggestions. */
function actionWords(group: string): string[] {
  return COMMANDS.filter((c) => c.path[0] === group).flatMap((c) => [c.path[1]!, ...(c.aliases ?? [])]);
}

/** A mistake on the command line: exit 2 and one line on stderr. */
class UsageError extends Error {}

function orList(items: readonly string[], word = 'or'): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${word} ${items.at(-1)}`;
}

/**
 * Damerau-Levenshtein distance (optimal string alignment: insertions, deletions, substitutions and
 * swaps of two neighbouring letters, each 1), for "did you mean": `lsit` is 1 from `list`, `adpot`
 * 1 from `adopt`. Names here are short.
 */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest name within 2 edits (and closer than the name is long, so that a stray short word
 *  gets no far-fetched suggestion), as ` (did you mean "name"?)`; '' when none is close. */
export function suggest(word: string, names: readonly string[]): string {
  const w = word.toLowerCase();
  const best = names.map((n) => ({ n, d: distance(w, n) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 && best.d < best.n.length ? ` (did you mean "${best.n}"?)` : '';
}

/** Printable and short, for quoting what the administrator typed. */
function shown(s: string): string {
  const t = s.replace(/[\x00-\x1f\x7f]/g, '?');
  return JSON.stringify(t.length > 40 ? `${t.slice(0, 40)}…` : t);
}

function parseValue(o: OptionSpec, raw: string): Value {
  const bad = (what: string) => new UsageError(`--${o.name} must be ${what}, not ${shown(raw)}`);
  const t = raw.trim();
  switch (o.kind) {
    case 'id': {
      if (!/^[1-9]\d{0,15}$/.test(t) || !Number.isSafeInteger(Number(t))) throw bad('a positive whole number');
      return Number(t);
    }
    case 'port': {
      if (!/^\d{1,5}$/.test(t) || Number(t) > 65535) throw bad('a port number from 0 to 65535');
      return Number(t);
    }
    case 'amount': {
      if (!/^\d+(\.\d+)?$/.test(t) || !Number.isFinite(Number(t))) throw bad('a number of 0 or more');
      return Number(t);
    }
    case 'integer': {
      if (!/^-?\d{1,9}$/.test(t)) throw bad('a whole number');
      return Number(t);
    }
    case 'service-period': {
      const n = /^-?\d+$/.test(t) ? Number(t) : NaN;
      if (!(SERVICE_PERIODS as readonly number[]).includes(n)) throw bad(`a BILLmanager period code (${orList(SERVICE_PERIODS.map(String))})`);
      return n;
    }
    case 'license-period': {
      const n = /^-?\d+$/.test(t) ? Number(t) : NaN;
      if (!(LICENSE_PERIODS as readonly number[]).includes(n)) throw bad('a license period the licensing server sells: 1 (month), 12 (year) or 0 (lifetime)');
      return n;
    }
    case 'instant': {
      return raw; // checked with the clock's own parser in check()
    }
    case 'text': {
      if (t === '') throw new UsageError(`--${o.name} must not be empty`);
      return t;
    }
    case 'flag': {
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new UsageError(`--${o.name} is a switch: give it alone (or as --${o.name}=true / =false), not ${shown(raw)}`);
    }
  }
}

interface Parsed {
  kind: 'run';
  spec: CommandSpec;
  given: Given;
}
type Request = Parsed | { kind: 'help'; text: string } | { kind: 'version' };

function helpHint(path: readonly string[]): string {
  return `run ${[ME, ...path].join(' ')} --help`;
}

/** Turns argv into a checked command, or throws UsageError naming the first mistake. */
export function parseAdminArgs(argv: readonly string[]): Request {
  const isHelp = (a: string) => a === '-h' || a === '--help';
  const first = argv[0];
  if (first === undefined) throw new UsageError(`name a command (${orList(TOP)}); run ${ME} --help`);
  if (isHelp(first)) return { kind: 'help', text: topHelp() };
  if (first === '--version' && argv.length === 1) return { kind: 'version' };
  // `help [command [action]]` and `version`: the words for --help and --version.
  if (first === 'help') return { kind: 'help', text: helpFor(argv.slice(1)) };
  if (first === 'version') {
    if (argv.length > 1) throw new UsageError(`version takes no arguments, not ${shown(argv[1]!)}; run ${ME} version`);
    return { kind: 'version' };
  }
  if (first.startsWith('-')) throw new UsageError(`${shown(first)} is not a command: name a command first (${orList(TOP)}); run ${ME} --help`);
  if (!TOP.includes(first)) throw new UsageError(`unknown command ${shown(first)}${suggest(first, [...TOP, ...WORDS])}; the commands are ${orList(TOP, 'and')}; run ${ME} --help`);

  let spec: CommandSpec;
  let rest: readonly string[];
  if (GROUPS.includes(first)) {
    const actions = COMMANDS.filter((c) => c.path[0] === first).map((c) => c.path[1]!);
    const action = argv[1];
    if (action === undefined) throw new UsageError(`${first} needs an action: ${orList(actions)}; run ${ME} ${first} --help`);
    if (isHelp(action)) return { kind: 'help', text: groupHelp(first) };
    const found = actionSpec(first, action);
    if (!found) throw new UsageError(`unknown action ${shown(action)} for ${first}${suggest(action, actionWords(first))}; the actions are ${orList(actions, 'and')}; run ${ME} ${first} --help`);
    spec = found;
    rest = argv.slice(2);
  } else {
    spec = COMMANDS.find((c) => c.path[0] === first)!;
    rest = argv.slice(1);
  }
  if (rest.some(isHelp)) return { kind: 'help', text: commandHelp(spec) };

  const name = spec.path.join(' ');
  const takes = spec.options.length === 0 ? 'it takes no options' : `it takes ${orList(spec.options.map((o) => `--${o.name}`), 'and')}`;
  const values = new Map<string, Value>();
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    if (!token.startsWith('-') || token === '-' || token === '--') throw new UsageError(`unexpected argument ${shown(token)} for ${name}; ${helpHint(spec.path)}`);
    const eq = token.indexOf('=');
    const key = token.startsWith('--') ? token.slice(2, eq > 0 ? eq : undefined) : token.slice(1);
    const o = token.startsWith('--') ? spec.options.find((x) => x.name === key) : undefined;
    if (!o) {
      throw new UsageError(`${name} has no option ${shown(token.slice(0, eq > 0 ? eq : undefined))}${suggest(key, spec.options.map((x) => x.name)).replace('"', '"--')}; ${takes}; ${helpHint(spec.path)}`);
    }
    if (values.has(o.name)) throw new UsageError(`--${o.name} is given twice; give it once`);
    let raw: string;
    if (eq > 0) raw = token.slice(eq + 1);
    else if (o.kind === 'flag') raw = 'true';
    else {
      const next = rest[i + 1];
      // A value may start with "-" (--source -100); another option of the command is not a value.
      if (next === undefined || (next.startsWith('--') && spec.options.some((x) => next.slice(2).split('=')[0] === x.name)) || isHelp(next)) {
        throw new UsageError(`--${o.name} needs a value: ${o.value ?? 'a value'}, ${o.describe}; ${helpHint(spec.path)}`);
      }
      raw = next;
      i++;
    }
    values.set(o.name, parseValue(o, raw));
  }
  for (const o of spec.options) {
    if (values.has(o.name)) continue;
    if (o.required) throw new UsageError(`${name} needs --${o.name} ${o.value ?? ''}`.trimEnd() + ` (${o.describe}); ${helpHint(spec.path)}`);
    if (o.fallback !== undefined) values.set(o.name, o.fallback);
  }
  const given = new Given(values);
  const across = spec.check?.(given);
  if (across) throw new UsageError(`${name}: ${across}; ${helpHint(spec.path)}`);
  return { kind: 'run', spec, given };
}

// ------------------------------------------------------------------------------------ help

/** `help`, `help periods`, `help periods add`, `help maintain`: the --help of what is named. */
function helpFor(words: readonly string[]): string {
  const [command, action, extra] = words;
  if (command === undefined) return topHelp();
  if (!TOP.includes(command)) throw new UsageError(`help: unknown command ${shown(command)}${suggest(command, TOP)}; the commands are ${orList(TOP, 'and')}; run ${ME} help`);
  const more = GROUPS.includes(command) ? extra : action;
  if (more !== undefined) throw new UsageError(`help takes a command${GROUPS.includes(command) ? ' and an action' : ''}, not also ${shown(more)}; run ${ME} help ${command}`);
  if (!GROUPS.includes(command)) return commandHelp(COMMANDS.find((c) => c.path[0] === command)!);
  if (action === undefined) return groupHelp(command);
  const spec = actionSpec(command, action);
  if (!spec) throw new UsageError(`help: unknown action ${shown(action)} for ${command}${suggest(action, actionWords(command))}; run ${ME} help ${command}`);
  return commandHelp(spec);
}

function usageLine(c: CommandSpec): string {
  const parts = c.options.map((o) => {
    const s = o.value ? `--${o.name} ${o.value}` : `--${o.name}`;
    return o.required ? s : `[${s}]`;
  });
  return [ME, ...c.path, ...parts].join(' ');
}

function wrapTable(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`).join('\n');
}

function commandHelp(c: CommandSpec): string {
  const opts: Array<[string, string]> = c.options.map((o) => [
    o.value ? `--${o.name} ${o.value}` : `--${o.name}`,
    `${o.describe}${o.required ? ' (required)' : ''}${o.fallback !== undefined && o.kind !== 'flag' ? ` (default ${o.fallback})` : ''}`,
  ]);
  opts.push(['-h, --help', 'this help']);
  return [
    `Usage: ${usageLine(c)}`,
    '',
    c.summary,
    '',
    'Options:',
    wrapTable(opts),
    '',
    c.examples.length === 1 ? 'Example:' : 'Examples:',
    ...c.examples.map(([cmd, what]) => `  ${ME} ${cmd}\n      ${what}`),
    '',
    'Exit status: 0 done, 1 it ran and something failed, 2 a mistake on the command line (nothing was done).',
  ].join('\n');
}

function groupHelp(group: string): string {
  const members = COMMANDS.filter((c) => c.path[0] === group);
  return [
    `Usage: ${ME} ${group} <${members.map((c) => c.path[1]).join('|')}> [options]`,
    '',
    'Actions:',
    wrapTable(members.map((c) => [[c.path[1]!, ...(c.aliases ?? [])].join(', '), c.brief])),
    '',
    ...members.map((c) => `  ${usageLine(c)}`),
    '',
    'Examples:',
    ...members.map((c) => `  ${ME} ${c.examples[0]![0]}`),
    '',
    `Run ${ME} ${group} <action> --help for the options of one action.`,
  ].join('\n');
}

function topHelp(): string {
  const rows: Array<[string, string]> = TOP.map((t) => {
    const members = COMMANDS.filter((c) => c.path[0] === t);
    return [GROUPS.includes(t) ? `${t} ${members.map((c) => c.path[1]).join('|')}` : t, members[0]!.path.length > 1 ? groupSummary(t) : members[0]!.brief];
  });
  rows.push(['panel', "BILLmanager's panel pages handler (run by BILLmanager, not by hand)"]);
  return [
    `Usage: ${ME} <command> [options]`,
    '',
    `BILLmanager runs this module as \`${ME} --command <name> --item N …\`; the commands below are for the administrator.`,
    '',
    'Commands:',
    wrapTable(rows),
    '',
    'Examples:',
    `  ${ME} periods add --module 1 --source 1 --target 12`,
    `  ${ME} pool list --module 1`,
    `  ${ME} reconcile --module 1`,
    '',
    `Run ${ME} <command> --help (or ${ME} help <command>) for a command's options and examples; ${ME} --version (or ${ME} version) for the version.`,
    'Exit status: 0 done, 1 it ran and something failed, 2 a mistake on the command line (nothing was done).',
  ].join('\n');
}

function groupSummary(group: string): string {
  return group === 'periods' ? 'periods comparison rules: which license period a service period buys' : group === 'pool' ? 'the licenses the module manages; adopt an unmanaged one' : group;
}

// ------------------------------------------------------------------------------------ version

// Set by scripts/build.mjs from package.json (the installed copy has no checkout beside it).
declare const PMISPLICENSE_VERSION: string | undefined;

function version(): string {
  if (typeof PMISPLICENSE_VERSION === 'string') return PMISPLICENSE_VERSION;
  // Run from the sources (tsx): the checkout's package.json.
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

// ------------------------------------------------------------------------------------ run

/** Whether this process may append to the file (or create it). */
function mayAppend(file: string): boolean {
  try {
    accessSync(existsSync(file) ? file : dirname(file), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** One line, whatever the message holds. */
function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Returns the exit code, or null for a command that keeps running (the sandbox). */
export async function runAdmin(argv: readonly string[]): Promise<number | null> {
  let request: Request;
  try {
    request = parseAdminArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${ME}: ${oneLine(e.message)}.\n`);
    return 2;
  }
  if (request.kind === 'help') {
    process.stdout.write(`${request.text}\n`);
    return 0;
  }
  if (request.kind === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }

  const { spec, given } = request;
  const name = spec.path.join(' ');
  const { checkEnvironment, paths } = await import('./config.js');
  const { log, mask, openLog } = await import('./log.js');
  const fail = (code: 1 | 2, message: string): number => {
    process.stderr.write(`${ME} ${name}: ${mask(oneLine(message))}\n`);
    return code;
  };

  // The environment (SPEC 2) and the values only the clock's parser can judge: a usage error.
  try {
    checkEnvironment();
    const at = given.string('now');
    if (at !== undefined) {
      const { parseInstant } = await import('./dates.js');
      if (!parseInstant(at)) return fail(2, `--now must be an ISO-8601 day or instant such as 2026-01-10 or 2026-01-10T12:00:00Z, not ${shown(at)}.`);
    }
  } catch (e) {
    return fail(2, asModuleError(e).message);
  }

  const p = paths();
  if (spec.logs && mayAppend(p.log)) {
    openLog(p.log);
    if (process.env.PMISPLICENSE_NOW) log.warn(`PMISPLICENSE_NOW is set: "now" is ${process.env.PMISPLICENSE_NOW}`);
  }

  // --module must name a processing module the host knows (SPEC 3): the one host call allowed
  // before the command acts.
  const module = given.number('module');
  if (module !== undefined) {
    const { Host, ModuleNotFoundError, isOwnModuleKind, MODULE_KIND } = await import('./host/host.js');
    try {
      const settings = await new Host(p.mgrctl).readModule(module);
      // Another kind of module (SPEC 3): refused as the panel refuses it; its credentials go nowhere.
      if (!isOwnModuleKind(settings.kind)) {
        return fail(2, `processing module ${module} is a "${settings.kind}" module, not ${MODULE_KIND}; give the id of a ${MODULE_KIND} module from Integration → Processing modules.`);
      }
    } catch (e) {
      if (e instanceof ModuleNotFoundError) {
        return fail(2, `BILLmanager has no processing module ${module} (processing.edit elid=${module} found none); give the id of a module from Integration → Processing modules.`);
      }
      return fail(1, `could not check --module ${module} with BILLmanager: ${asModuleError(e).message}`);
    }
  }

  try {
    if (spec.logs) log.info(`admin: ${name}`);
    return await spec.run(p, given);
  } catch (e) {
    const err: ModuleError = asModuleError(e);
    if (spec.logs) {
      log.error(`admin: ${name} failed: ${err.message}`);
      if (err.type === 'internal' && e instanceof Error && e.stack) log.error(e.stack);
    }
    return fail(1, err.message);
  }
}
