// Reading XML: the one place where untrusted XML (stdin, mgrctl, the licensing server) becomes a
// typed tree. Documents with a DOCTYPE or entity declarations are refused before parsing, so no
// entity expansion ("billion laughs") or external entity can happen.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlElement[];
}

export class XmlError extends Error {}

const MAX_XML = 16 * 1024 * 1024;

const parser = new XMLParser({
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
  if (attrs && typeof attrs === 'object') {
    for (const [k, v] of Object.entries(attrs as Raw)) el.attrs[k] = String(v);
  }
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

/** Parses a document and returns its root element. Throws XmlError with a readable reason. */
export function parseXml(text: string): XmlElement {
  if (text.length > MAX_XML) throw new XmlError(`XML document too large (${text.length} bytes)`);
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlError('XML with a DOCTYPE or entity declarations is refused');
  if (!text.trim()) throw new XmlError('empty XML document');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new XmlError(`malformed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const nodes = parser.parse(text) as Raw[];
  for (const node of nodes) {
    for (const [k, v] of Object.entries(node)) {
      if (k !== ':@' && k !== '#text') return convert(k, v, node[':@']);
    }
  }
  throw new XmlError('XML document has no root element');
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function childText(el: XmlElement, name: string): string {
  return child(el, name)?.text ?? '';
}

export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}
