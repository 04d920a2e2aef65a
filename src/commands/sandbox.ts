// `pmisplicense sandbox`: the sandbox licensing server (SPEC 9) for a test processing module. It
// prints its URL and that its state lives in memory only; a port it cannot take is a clear error.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { paths } from '../config.js';
import { openLog } from '../log.js';
import { runSandboxCommand } from '../sandbox/licensing-server.js';

export interface SandboxArgs {
  port: number;
  user: string;
  password?: string;
  balance: number;
  'key-delay-ms': number;
  now?: string;
}

export async function sandboxCommand(a: SandboxArgs): Promise<number | null> {
  // The module log where there is one (a BILLmanager host, or PMISPLICENSE_LOG): a sandbox run on
  // a developer's machine without MGR_ROOT should not complain that /usr/local/mgr5 is missing.
  const logFile = paths().log;
  if (process.env.PMISPLICENSE_LOG || existsSync(dirname(logFile))) openLog(logFile);
  return runSandboxCommand({ port: a.port, user: a.user, password: a.password, balance: a.balance, keyDelayMs: a['key-delay-ms'], now: a.now });
}
