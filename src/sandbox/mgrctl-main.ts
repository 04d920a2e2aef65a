#!/usr/bin/env node
// Entry of the simulated host's mgrctl (dist/sandbox-mgrctl): point PMISPLICENSE_MGRCTL at it and
// PMISPLICENSE_SANDBOX_HOST at a state file made by createSimulatedHost. All logic is in ./host.ts.
import { runSimulatedMgrctl } from './host.js';

runSimulatedMgrctl(process.argv.slice(2), process.env).then(
  (r) => {
    // A 'kill' fault: the client dies as a killed mgrctl does, with nothing written.
    if (r.signal) process.kill(process.pid, r.signal);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    // exitCode, not exit(): stdout is a pipe and must be flushed first.
    process.exitCode = r.code;
  },
  (e: unknown) => {
    process.stderr.write(`mgrctl (simulated host): ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
