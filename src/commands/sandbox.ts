// `pmisplicense sandbox`: the sandbox licensing server (SPEC 8) for a test processing module.
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
  return runSandboxCommand({ port: a.port, user: a.user, password: a.password, balance: a.balance, keyDelayMs: a['key-delay-ms'], now: a.now });
}
