#!/usr/bin/env node
// Entry point. BILLmanager runs `pmisplicense --command <name> …` (the protocol, SPEC 2–3); an
// administrator runs `pmisplicense <sub-command> …` (periods, pool, maintain, sandbox, demo).
// This is the only place that knows about process exit codes.
import { runProtocol } from './protocol.js';

const argv = process.argv.slice(2);
const isProtocol = argv.some((a) => a === '--command' || a.startsWith('--command='));

const code = isProtocol ? await runProtocol(argv) : await (await import('./admin.js')).runAdmin(argv);

// Exit once stdout is flushed: a keep-alive socket or a timer must not hold BILLmanager waiting.
if (code !== null) process.stdout.write('', () => process.exit(code));
