// `features` (SPEC 3): what this module can do. Static; cli.ts answers it without the protocol runner.
export function featuresDocument(): string {
  return (
    '<doc>' +
    '<itemtypes><itemtype name="soft"/></itemtypes>' +
    '<params><param name="url"/><param name="username"/><param name="password" crypted="yes"/></params>' +
    '<features>' +
    ['check_connection', 'open', 'suspend', 'resume', 'close', 'setparam', 'prolong', 'sync_item']
      .map((f) => `<feature name="${f}"/>`)
      .join('') +
    '</features>' +
    '</doc>\n'
  );
}

export async function run(): Promise<string> {
  return featuresDocument();
}
