// fast-xml-parser, the parser src/xml.ts replaced, as it was used there: validate, parse in order,
// build our tree. The tests compare src/xml.ts with it; the bench times both.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { XmlElement } from '../../src/xml.js';

const ordered = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type Raw = Record<string, unknown>;

function convert(name: string, body: unknown, attrs: unknown): XmlElement {
  const el: XmlElement = { name, attrs: {}, text: '', children: [] };
  if (attrs && typeof attrs === 'object') for (const [k, v] of Object.entries(attrs as Raw)) el.attrs[k] = String(v);
  if (Array.isArray(body)) {
    for (const node of body as Raw[]) {
      for (const [k, v] of Object.entries(node)) {
        if (k === ':@') continue;
        if (k === '#text') el.text += String(v);
        else el.children.push(convert(k, v, node[':@']));
      }
    }
  }
  el.text = el.text.trim();
  return el;
}

/** Whether fast-xml-parser's validator takes the document as well-formed. */
export function oracleAccepts(text: string): boolean {
  return XMLValidator.validate(text) === true;
}

/** The document's root as fast-xml-parser reads it; throws on a document its validator refuses. */
export function oracleTree(text: string): XmlElement {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`fast-xml-parser: ${valid.err.msg} (line ${valid.err.line})`);
  for (const node of ordered.parse(text) as Raw[]) {
    for (const [k, v] of Object.entries(node)) if (k !== ':@' && k !== '#text') return convert(k, v, node[':@']);
  }
  throw new Error('fast-xml-parser: no root element');
}
