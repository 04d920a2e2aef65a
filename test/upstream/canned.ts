// A tiny licensing-server stand-in on loopback for the client's unit tests: it answers each func
// with a recorded reply (test/fixtures/upstream) or misbehaves on request, and records what it got.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { closeLog, openLog } from '../../src/log.js';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/upstream/', import.meta.url));

export function fixture(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}

export interface Canned {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (the client's timeout must fire). */
  hang?: boolean;
  /** Close the socket without a reply ('socket hang up'). */
  drop?: boolean;
  /** Send a TCP RST. */
  reset?: boolean;
  /** Send headers and part of the body, then drop. */
  truncate?: boolean;
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  form: URLSearchParams;
}

export interface CannedServer {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export type Handler = (func: string, form: URLSearchParams) => Canned;

export async function startCanned(handler: Handler, path = '/billmgr'): Promise<CannedServer> {
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const form = new URLSearchParams(body);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, form });
      const c = handler(form.get('func') ?? '', form);
      if (c.hang) return;
      if (c.reset) {
        req.socket.resetAndDestroy();
        return;
      }
      if (c.drop) {
        req.socket.destroy();
        return;
      }
      const text = c.body ?? '';
      if (c.truncate) {
        res.writeHead(c.status ?? 200, { 'Content-Type': 'text/xml', 'Content-Length': String(Buffer.byteLength(text) + 100) });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      res.writeHead(c.status ?? 200, { 'Content-Type': 'text/xml; charset=UTF-8', ...c.headers });
      res.end(text);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Routes by func to fixture files; unknown funcs get an upstream error. */
export function byFunc(map: Record<string, string | Canned>): Handler {
  return (func) => {
    const v = map[func];
    if (v === undefined) return { body: `<doc><error type="missed" object="func"><msg>unknown func ${func}</msg></error></doc>` };
    return typeof v === 'string' ? { body: fixture(v) } : v;
  };
}

/**
 * Points the log at `file` and also captures stderr, where src/log.ts writes once an earlier open
 * failed (it does not retry after a failure, and another suite may have removed its log's
 * directory). text() is everything the log received, wherever it went.
 */
export function captureLog(file: string): { text(): string; stop(): void } {
  closeLog(); // another suite may have left the log open on its own file
  openLog(file);
  let captured = '';
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    void rest;
    return true;
  }) as typeof process.stderr.write;
  return {
    text: () => (existsSync(file) ? readFileSync(file, 'utf8') : '') + captured,
    stop: () => {
      process.stderr.write = original;
      closeLog();
      // The file's directory is about to go: an open attempt on it would fail and switch src/log.ts
      // to stderr for good, so later suites' openLog() would never reach their files. '' never
      // opens anything (lines go to stderr until the next openLog); log.ts has no "no log" call.
      openLog('');
    },
  };
}
