// XML figures for `npm run bench`: the module's reader (src/xml.ts: saxes, a strict XML 1.0 parser,
// building the module's tree) on the two large documents reconcile reads: a page of 1 000 licenses
// from the licensing server and the host's list of 10 000 services. In-process medians. The bare
// saxes parse (events only, no tree) is timed beside it, to show what the tree itself costs.
import { performance } from 'node:perf_hooks';
import { SaxesParser } from 'saxes';
import { render } from '../src/sandbox/host.js';
import { parseXml } from '../src/xml.js';
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

/** saxes alone: every event, nothing built. */
function bareSaxes(text: string): void {
  const p = new SaxesParser({ defaultXMLVersion: '1.0', forceXMLVersion: true });
  p.on('opentag', () => {});
  p.on('text', () => {});
  p.on('closetag', () => {});
  p.write(text).close();
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
  /** parseXml: saxes and the module's tree. */
  oursMs: number;
  /** saxes' events alone. */
  saxesMs: number;
}

export function benchXml(runs: number): XmlFigures[] {
  return [
    ['page of 1 000 licenses', licensePage(1000)],
    ['list of 10 000 services', serviceList(10_000)],
  ].map(([name, text]) => {
    if (parseXml(text!).children.length < 1000) throw new Error(`the ${name} did not parse whole`);
    return { name: name!, bytes: text!.length, oursMs: timeIt(() => parseXml(text!), runs), saxesMs: timeIt(() => bareSaxes(text!), runs) };
  });
}

// `node --import=tsx scripts/bench-xml.ts`: these figures alone.
if (process.argv[1] && /bench-xml\.ts$/.test(process.argv[1])) {
  for (const x of benchXml(9)) console.log(`${x.name} (${(x.bytes / 1024).toFixed(0)} KiB): parseXml ${x.oursMs.toFixed(1)} ms, saxes events alone ${x.saxesMs.toFixed(1)} ms`);
}
