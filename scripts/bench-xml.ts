// XML figures for `npm run bench`: the module's parser (src/xml.ts) against fast-xml-parser, which it
// replaced (validation, ordered parse and the same tree, as src/xml.ts did until then), on the two
// large documents reconcile reads: a page of 1 000 licenses from the licensing server and the
// host's list of 10 000 services. In-process medians; the ratio is what the change bought.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { performance } from 'node:perf_hooks';
import { parseXml, type XmlElement } from '../src/xml.js';
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

/** The host's `soft` list as the simulated mgrctl writes it. */
export function serviceList(n: number): string {
  let s = '<?xml version="1.0" encoding="UTF-8"?>\n<doc func="soft">';
  for (let i = 0; i < n; i++) s += `<elem>${tag('id', 20_000 + i)}${tag('ip', `10.0.${i >> 8}.${i & 255}`)}${tag('status', 2)}${tag('processingmodule', 1)}${tag('pricelist', 20)}${tag('expiredate', '2026-03-10')}</elem>`;
  return `${s}<tparams><func>soft</func></tparams></doc>\n`;
}

const ordered = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false, trimValues: false, processEntities: true, htmlEntities: false, ignoreDeclaration: true, ignorePiTags: true });

/** What src/xml.ts did with fast-xml-parser: validate, parse in order, build the same tree. */
function viaFastXmlParser(text: string): XmlElement {
  if (XMLValidator.validate(text) !== true) throw new Error('invalid');
  const convert = (name: string, body: unknown, attrs: unknown): XmlElement => {
    const el: XmlElement = { name, attrs: {}, text: '', children: [] };
    if (attrs && typeof attrs === 'object') for (const [k, v] of Object.entries(attrs as Record<string, unknown>)) el.attrs[k] = String(v);
    if (Array.isArray(body)) {
      for (const node of body as Record<string, unknown>[]) {
        for (const [k, v] of Object.entries(node)) {
          if (k === ':@') continue;
          if (k === '#text') el.text += String(v);
          else el.children.push(convert(k, v, node[':@']));
        }
      }
    }
    el.text = el.text.trim();
    return el;
  };
  const node = (ordered.parse(text) as Record<string, unknown>[]).find((n) => Object.keys(n).some((k) => k !== ':@' && k !== '#text'))!;
  const name = Object.keys(node).find((k) => k !== ':@' && k !== '#text')!;
  return convert(name, node[name], node[':@']);
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
    if (JSON.stringify(parseXml(text!)) !== JSON.stringify(viaFastXmlParser(text!))) throw new Error(`the parsers disagree on the ${name}`);
    return { name: name!, bytes: text!.length, oursMs: timeIt(() => parseXml(text!), runs), fxpMs: timeIt(() => viaFastXmlParser(text!), runs) };
  });
}
