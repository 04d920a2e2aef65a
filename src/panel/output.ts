// Writing the page document. Everything that reaches it is escaped and stripped of characters
// XML 1.0 forbids (SPEC 6): one odd license name never makes a page unreadable.
import { escapeXml } from '../xml-out.js';
import type { XmlElement } from '../xml.js';

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]; with the
// u flag a lone surrogate is one code point outside these ranges, and is dropped too.
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlText(s: string): string {
  return escapeXml(s.replace(FORBIDDEN, ''));
}

export function el(name: string, text: string | number, attrs: Record<string, string> = {}): string {
  const a = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${xmlText(v)}"`)
    .join('');
  return `<${name}${a}>${xmlText(String(text))}</${name}>`;
}

/** One list row: one child per column. */
export function elem(cols: Record<string, string | number | null>): string {
  return `<elem>${Object.entries(cols)
    .map(([k, v]) => el(k, v ?? ''))
    .join('')}</elem>`;
}

/** A select's choices. */
export function slist(name: string, choices: ReadonlyArray<readonly [string, string]>): string {
  return `<slist name="${xmlText(name)}">${choices.map(([k, label]) => el('val', label, { key: k })).join('')}</slist>`;
}

export function serialize(e: XmlElement): string {
  const attrs = Object.entries(e.attrs)
    .map(([k, v]) => ` ${k}="${xmlText(v)}"`)
    .join('');
  const inner = xmlText(e.text) + e.children.map(serialize).join('');
  return inner ? `<${e.name}${attrs}>${inner}</${e.name}>` : `<${e.name}${attrs}/>`;
}

/** Children of the incoming document that the answer replaces (stale data of an earlier answer). */
const REPLACED = new Set(['elem', 'error', 'ok', 'p_elems', 'p_num', 'p_cnt', 'banner']);

/**
 * The incoming document printed back with `added` appended (SPEC 8: the handler prints the
 * document it was given, with its data added). Children named like an added field are dropped.
 */
export function answer(doc: XmlElement, added: string, replacedNames: readonly string[] = []): string {
  const drop = new Set([...REPLACED, ...replacedNames]);
  const kept = doc.children.filter((c) => !drop.has(c.name) && !(c.name === 'slist' && replacedNames.includes(c.attrs.name ?? '')));
  const attrs = Object.entries(doc.attrs)
    .map(([k, v]) => ` ${k}="${xmlText(v)}"`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<doc${attrs}>${kept.map(serialize).join('')}${added}</doc>\n`;
}

export interface Page {
  num: number;
  cnt: number;
  total: number;
}

/** Rows per page when COREmanager names none. */
export const DEFAULT_PAGE = 500;

/** COREmanager's list paging: p_cnt rows per page, page p_num (from 1); a page past the end shows the last. */
export function paginate<T>(rows: readonly T[], pCnt: string | undefined, pNum: string | undefined): { rows: T[]; page: Page } {
  const cntN = /^\d+$/.test(pCnt?.trim() ?? '') ? Number(pCnt!.trim()) : 0;
  const cnt = cntN > 0 ? Math.min(cntN, 100_000) : DEFAULT_PAGE;
  const last = Math.max(1, Math.ceil(rows.length / cnt));
  const numN = /^\d+$/.test(pNum?.trim() ?? '') ? Number(pNum!.trim()) : 1;
  const num = Math.min(Math.max(1, numN), last);
  return { rows: rows.slice((num - 1) * cnt, num * cnt), page: { num, cnt, total: rows.length } };
}

export function pageFields(p: Page): string {
  return el('p_elems', p.total) + el('p_num', p.num) + el('p_cnt', p.cnt);
}
