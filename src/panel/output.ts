// Writing the page document. Everything that reaches it is escaped and stripped of characters
// XML 1.0 forbids (SPEC 6): one odd license name never makes a page unreadable.
import { escapeXml } from '../xml-out.js';
import type { XmlElement } from '../xml.js';

/** Page text: escapeXml drops what XML 1.0 forbids and escapes the rest. */
export function xmlText(s: string): string {
  return escapeXml(s);
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

/** Children of the incoming document that the answer replaces (stale data of an earlier answer).
 *  The paging parameters (p_cnt, p_num, …) are not among them: they go back as they came. */
const REPLACED = new Set(['elem', 'error', 'ok', 'banner']);

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

/**
 * COREmanager's paging parameters printed back unchanged (SPEC 8 v3): a list returns all its rows
 * and COREmanager itself pages, sorts and filters them. Public plugins never page from p_num /
 * p_cnt: openprovider/op-billmanager5-domains (mgr5/addon/domainauthcode.php) prints every row it
 * has; biggora/ispmanager_proxy (addon/proxy.php) ignores COREmanager's p_num altogether — and
 * prints an empty <elem/> for an empty list, a blank row this handler never prints. Those already
 * in the document (as its children or in its <tparams>) stay where they are, untouched; one given
 * only in the environment is added once, so that each comes back exactly once.
 */
export function pagingBack(doc: XmlElement, paging: Readonly<Record<string, string>>): string {
  const tparams = doc.children.find((c) => c.name === 'tparams');
  const present = new Set([...doc.children, ...(tparams?.children ?? [])].map((c) => c.name));
  return Object.entries(paging)
    .filter(([k]) => !present.has(k))
    .map(([k, v]) => el(k, v))
    .join('');
}
