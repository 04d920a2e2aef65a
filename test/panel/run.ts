// Drives the built handler exactly as COREmanager does: `pmisplicense panel` with the request in
// the environment (PARAM_<name> for every request parameter, AUTH_USER, AUTH_LEVEL) and the page
// document on stdin. Fixtures are recorded page documents; their <tparams> are the request's
// parameters, which COREmanager gives both ways, so the environment is built from them.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/fake-host.js';
import { EXE, type World } from '../support/world.js';
import { child, childText, childrenNamed, parseXml, type XmlElement } from '../../src/xml.js';

export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'panel');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function paramsOf(docText: string): Record<string, string> {
  const t = child(parseXml(docText), 'tparams');
  return Object.fromEntries((t?.children ?? []).map((c) => [`PARAM_${c.name}`, c.text]));
}

export interface PanelCall {
  /** A fixture under test/fixtures/panel: the stdin document and the PARAM_* environment. */
  fixture?: string;
  /** Stdin text instead of the fixture's; null keeps stdin open and never writes (a writer that never closes). */
  stdin?: string | null;
  /** PARAM_* added to (or overriding) the fixture's. */
  params?: Record<string, string>;
  /** AUTH_LEVEL; default 29 (administrator); null leaves it unset. */
  level?: string | null;
  /** Further environment COREmanager sets (HTTP_COOKIE, …). */
  env?: Record<string, string>;
}

export interface PanelAnswer {
  code: number;
  stdout: string;
  stderr: string;
  doc: XmlElement;
}

export function runPanelExe(w: World, c: PanelCall): Promise<PanelAnswer> {
  const text = c.fixture ? fixture(c.fixture) : '';
  const env: NodeJS.ProcessEnv = { ...w.env, AUTH_USER: 'admin', ...(c.fixture ? paramsOf(text) : {}), ...(c.env ?? {}) };
  for (const [k, v] of Object.entries(c.params ?? {})) env[`PARAM_${k}`] = v;
  const level = c.level === undefined ? '29' : c.level;
  if (level !== null) env.AUTH_LEVEL = level;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [EXE, 'panel'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', reject);
    p.stdin.on('error', () => {});
    p.on('close', (code) => {
      p.stdin.destroy();
      let doc: XmlElement;
      try {
        doc = parseXml(stdout);
      } catch (e) {
        reject(new Error(`the handler printed no well-formed XML (${(e as Error).message}): ${stdout}`));
        return;
      }
      resolve({ code: code ?? -1, stdout, stderr, doc });
    });
    const input = c.stdin === undefined ? text : c.stdin;
    if (input !== null) p.stdin.end(input);
  });
}

export function rows(doc: XmlElement): Array<Record<string, string>> {
  return childrenNamed(doc, 'elem').map((e) => Object.fromEntries(e.children.map((c) => [c.name, c.text])));
}

export function errorOf(doc: XmlElement): { type: string; object: string; msg: string } | null {
  const e = child(doc, 'error');
  return e ? { type: e.attrs.type ?? '', object: e.attrs.object ?? '', msg: childText(e, 'msg') } : null;
}

export function slistOf(doc: XmlElement, name: string): Array<[string, string]> {
  const s = childrenNamed(doc, 'slist').find((e) => e.attrs.name === name);
  return (s ? childrenNamed(s, 'val') : []).map((v) => [v.attrs.key ?? '', v.text]);
}

export function rulesViaCli(w: World, module = 1): Promise<unknown> {
  return w.exec(['periods', 'list', '--module', String(module), '--json']).then((r) => {
    if (r.code !== 0) throw new Error(`periods list failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as unknown;
  });
}
