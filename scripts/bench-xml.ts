// XML figures for `npm run bench`: the module's parser (src/xml.ts) against fast-xml-parser, which it
// replaced (validation, ordered parse and the same tree, as src/xml.ts did until then), on the two
// large documents reconcile reads: a page of 1 000 licenses from the licensing server and the
// host's list of 10 000 services. In-process medians; the ratio is what the change bought.
import { performance } from 'node:perf_hooks';
import { render } from '../src/sandbox/host.js';
import { parseXml } from '../src/xml.js';
import { oracleTree } from '../test/support/xml-oracle.js';
import { median } from './bench-scale.js';

const tag = (n: string, v: string | number) => `<${n}>${v}</${n}>`;

/** A page of `func=soft` as the sandbox (and COREmanager) writes it. */
export function licensePage(n: number): string {
  let s = `<?xml version="1.0" encoding="UTF-8"?>\n<doc>${tag('p_elems', n * 10)}${tag('p_num', 1)}${tag('p_cnt', n)}`;
  for (let i = 0; i < n; i++) {
    s += `<elem>${tag('id', 500_000 + i)}${tag('licname', `Item #${20_000 + i}`)}${tag('ip', `10.0.${i >> 8}.${i & 255}`)}${tag('pricelist', 'ISPmanager 6 Lite')}${tag('pricelist_id', 3541)}${tag('period', 1)}${tag('status', 2)}${tag('createdate', '2025-12-10')}${tag('expiredate', '2026-06-10')}${tag('real_ipchange', '2025-12-10')}${tag('real_keychange', '2025-12-10')}${tag('autoprolong', '')}${tag('remoteid', 20_000 + i)}</elem>`;
  }
  return `${s}</doc>\n`;
}

/** The host's `soft` list, written by the simulated host's own renderer. */
export function serviceList(n: number): string {
  const rows = Array.from({ length: n }, (_, i) => ({ id: 20_000 + i, ip: `10.0.${i >> 8}.${i & 255}`, panel: '3541', period: '1', expiredate: '2026-03-10', pricelist: '20', itemtype: 'soft', processingmodule: 1, status: 2 }));
  return render.serviceList(rows, { func: 'soft' });
}

function timeIt(f: () => unknown, runs: number): number {
  f();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

export interface XmlFigures {
  name: string;
  bytes: number;
  oursMs: number;
  fxpMs: number;
}

export function benchXml(runs: number): XmlFigures[] {
  return [
    ['page of 1 000 licenses', licensePage(1000)],
    ['list of 10 000 services', serviceList(10_000)],
  ].map(([name, text]) => {
    if (JSON.stringify(parseXml(text!)) !== JSON.stringify(oracleTree(text!))) throw new Error(`the parsers disagree on the ${name}`);
    return { name: name!, bytes: text!.length, oursMs: timeIt(() => parseXml(text!), runs), fxpMs: timeIt(() => oracleTree(text!), runs) };
  });
}
