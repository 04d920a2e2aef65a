// Reading XML: the one place where untrusted XML (stdin, mgrctl, the licensing server) becomes a
// typed tree. The parsing is saxes' (https://github.com/lddubeau/saxes: a strict, non-validating
// XML 1.0 parser checked against the W3C conformance suite; jsdom's parser), which refuses what
// XML 1.0 refuses: characters XML forbids (raw control characters, U+FFFE/U+FFFF), names outside
// XML's name rules, "]]>" in text, undefined entities, unbalanced tags. On top of it this module
// refuses lone surrogates (saxes lets a lone high surrogate through), any DOCTYPE (so no entity
// declaration, no "billion laughs", no external entity), nesting deeper than MAX_XML_DEPTH and
// documents larger than MAX_XML.
//
// Values are kept as sent: text and CDATA are never trimmed (a password may end in a space);
// callers trim the fields where spaces are not meaning (ids, dates, statuses). Only a run of
// whitespace between two pieces of markup inside an element that has child elements is dropped:
// that is pretty printing, not content.
//
// An error names the position (line, column) and saxes' reason only, never a piece of the
// document: a reply that cannot be read may still carry a password or a license key.
import { SaxesParser } from 'saxes';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlElement[];
}

export class XmlError extends Error {}

const MAX_XML = 16 * 1024 * 1024;
/** Deeper than this is no document the module reads, and writing it back (panel) would recurse. */
export const MAX_XML_DEPTH = 256;

/** Attributes of an element that has none: shared, never written. */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze({}) as Record<string, string>;
const BLANK = /^[ \t\n\r]*$/;
/** A UTF-16 code unit that is half of no pair. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** String.prototype.isWellFormed (ES2024, in Node 20): native, one pass, no regex. */
type WellFormedCheck = string & { isWellFormed(): boolean };

/** Line and column (both from 1, the column in UTF-16 units) of index `at` of `text`. */
function positionOf(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: at - lineStart + 1 };
}

function malformed(reason: string, line: number, column: number): XmlError {
  return new XmlError(`malformed XML: ${reason} (line ${line}, column ${column})`);
}

/**
 * saxes' reason without what it quotes of the document: a few of its messages end with a name
 * from the document after a colon ("unclosed tag: x"), which may be a piece of a secret.
 */
function reasonOnly(message: string): string {
  return message.replace(/:[^]*$/, '').replace(/\.$/, '');
}

/** A document type declaration at the start, whatever its case (only `<!DOCTYPE` is XML). */
const DOCTYPE_ANY_CASE = /^\uFEFF?\s*(<\?xml[^>]*\?>\s*)?(<!--[^]*?-->\s*)*<!doctype/i;

interface Open {
  el: XmlElement;
  /** Every text and CDATA run, as sent. */
  all: string;
  /** The same without whitespace-only text runs: the text when the element has children. */
  kept: string;
}

/** Parses a document and returns its root element. Throws XmlError with a readable reason. */
export function parseXml(text: string): XmlElement {
  if (text.length > MAX_XML) throw new XmlError(`XML document too large (${text.length} characters, limit ${MAX_XML})`);
  if (!/[^ \t\r\n]/.test(text)) throw new XmlError('empty XML document');
  if (!(text as WellFormedCheck).isWellFormed()) {
    const at = LONE_SURROGATE.exec(text)?.index ?? 0;
    const { line, column } = positionOf(text, at);
    throw malformed('a lone surrogate, which is no character', line, column);
  }

  const parser = new SaxesParser({ defaultXMLVersion: '1.0', forceXMLVersion: true });
  const stack: Open[] = [];
  let root: XmlElement | null = null;
  // saxes' column is the count of characters read on the line: the column (from 1) of the last
  // one read, which is the offending one for a character it refuses.
  const fail = (reason: string): never => {
    throw malformed(reason, parser.line, parser.column);
  };

  parser.on('doctype', () => {
    throw new XmlError(`XML with a DOCTYPE or entity declarations is refused (line ${parser.line}, column ${parser.column})`);
  });
  // The text is already decoded (UTF-8, as BILLmanager and the licensing server send it): a
  // document that says it is in another encoding would be read as something it is not.
  parser.on('xmldecl', (decl) => {
    if (decl.encoding !== undefined && decl.encoding.toLowerCase() !== 'utf-8') fail('an encoding other than UTF-8 is declared');
  });
  parser.on('opentag', (tag) => {
    if (stack.length >= MAX_XML_DEPTH) fail(`elements nested deeper than ${MAX_XML_DEPTH}`);
    let attrs = NO_ATTRIBUTES;
    // saxes keeps attributes in an object without prototype; ours is an ordinary object in which
    // an attribute named __proto__ is an own property like any other (defined, not assigned).
    // Without namespaces (xmlns off) every attribute value is a string.
    const given = tag.attributes as Record<string, string>;
    for (const key in given) {
      if (attrs === NO_ATTRIBUTES) attrs = {};
      if (key === '__proto__') Object.defineProperty(attrs, key, { value: given[key], enumerable: true, writable: true, configurable: true });
      else attrs[key] = given[key]!;
    }
    const el: XmlElement = { name: tag.name, attrs, text: '', children: [] };
    if (stack.length > 0) stack[stack.length - 1]!.el.children.push(el);
    else root = el;
    stack.push({ el, all: '', kept: '' });
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (!top) return; // whitespace around the root (saxes refuses anything else there)
    top.all += t;
    if (!BLANK.test(t)) top.kept += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1]!;
    top.all += t;
    top.kept += t;
  });
  parser.on('closetag', () => {
    const top = stack.pop()!;
    top.el.text = top.el.children.length === 0 ? top.all : top.kept;
  });

  try {
    parser.write(text).close();
  } catch (e) {
    if (e instanceof XmlError) throw e;
    const m = /^(\d+):(\d+): ([^]*)$/.exec((e as Error).message);
    if (!m) throw new XmlError('malformed XML');
    // A DOCTYPE in another case (`<!doctype`) is no XML at all, and saxes says only "incorrect
    // syntax": name it, as the DOCTYPE it is meant to be (no entity is ever read either way).
    if (DOCTYPE_ANY_CASE.test(text)) throw new XmlError(`XML with a DOCTYPE or entity declarations is refused (line ${m[1]}, column ${m[2]})`);
    throw malformed(reasonOnly(m[3]!), Number(m[1]), Number(m[2]));
  }
  if (!root) throw new XmlError('malformed XML: no root element');
  return root;
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

/**
 * The first element named `name` at any depth below `el` (document order; iterative, so a deep
 * document costs no stack). Used for `<error>`: a reply that carries one anywhere is an error.
 */
export function descendant(el: XmlElement, name: string): XmlElement | undefined {
  const todo: XmlElement[] = [...el.children].reverse();
  while (todo.length > 0) {
    const e = todo.pop()!;
    if (e.name === name) return e;
    for (let i = e.children.length - 1; i >= 0; i--) todo.push(e.children[i]!);
  }
  return undefined;
}
