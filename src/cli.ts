#!/usr/bin/env node
// Entry point. BILLmanager runs `pmisplicense --command <name> …` (the protocol, SPEC 2–3) and
// `pmisplicense panel` (the panel pages' handler, SPEC 8); an administrator runs
// `pmisplicense <sub-command> …` (periods, pool, reconcile, maintain, diagnose, sandbox, demo).
// This is the only place that knows about process exit codes (the launcher only reports a bundle it
// cannot load).
// (`features` never gets here: the CommonJS launcher in front of this bundle answers it, launcher.ts.)

const argv = process.argv.slice(2);
const isProtocol = argv.some((a, i) => argv[i - 1] === '--command' || a.startsWith('--command='));

let code: number | null;
if (isProtocol) {
  code = await (await import('./protocol.js')).runProtocol(argv);
} else if (argv[0] === 'panel') {
  // COREmanager's handler call: the request is in the environment and on stdin, never in options,
  // so it skips the admin command line (and its strictness) entirely.
  const { paths } = await import('./config.js');
  try {
    code = await (await import('./panel/handler.js')).runPanel(paths());
  } catch (e) {
    process.stderr.write(`pmisplicense panel: ${e instanceof Error ? e.message : String(e)}\n`);
    code = 1;
  }
} else {
  code = await (await import('./admin.js')).runAdmin(argv);
}

// Exit once stdout is flushed: a keep-alive socket or a timer must not hold BILLmanager waiting.
if (code !== null) process.stdout.write('', () => process.exit(code));
