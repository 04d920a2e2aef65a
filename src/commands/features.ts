// `features` (SPEC 3): what this module can do. Static, and the fastest path of all.
export async function run(): Promise<string> {
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
