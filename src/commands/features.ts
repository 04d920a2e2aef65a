// `features` (SPEC 3): what this module can do. Static; the executable's CommonJS launcher
// (launcher.ts) answers it before any ES module loads (the protocol runner's `features` serves the
// ES-module entry run directly).

/** Whether the command line asks for `features` (`--command features` or `--command=features`). */
export function asksForFeatures(argv: readonly string[]): boolean {
  const command = argv.find((a, i) => argv[i - 1] === '--command' || a.startsWith('--command='));
  return command === 'features' || command === '--command=features';
}

/** What BILLmanager may ask of the module (SPEC 3); `gen_key` is its "new key" for software. */
export const FEATURES = ['check_connection', 'open', 'suspend', 'resume', 'close', 'setparam', 'prolong', 'sync_item', 'gen_key'] as const;

export function featuresDocument(): string {
  return (
    '<doc>' +
    '<itemtypes><itemtype name="soft"/></itemtypes>' +
    '<params><param name="url"/><param name="username"/><param name="password" crypted="yes"/></params>' +
    '<features>' +
    FEATURES.map((f) => `<feature name="${f}"/>`).join('') +
    '</features>' +
    '</doc>\n'
  );
}

export async function run(): Promise<string> {
  return featuresDocument();
}
