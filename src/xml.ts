// Reading XML: the one place where untrusted XML (stdin, mgrctl, the licensing server) becomes a
// typed tree. A small strict parser of the XML the module meets (elements, attributes, text,
// the five predefined entities and character references, CDATA, comments, processing
// instructions, line ends read as XML says): anything not well-formed is refused with the line of
// the fault, as is nesting deeper than MAX_XML_DEPTH, and a document with a DOCTYPE or entity
// declarations is refused before parsing, so no entity expansion ("billion laughs") or external
// entity can happen.
//
// Why not fast-xml-parser (the first choice): its validation, parse and the walk into this tree
// took about 50 ms per 1 000-license page and 250 ms for a 10 000-service list on a quiet machine,
// three times that under load (scripts/bench-xml.ts): most of reconcile's time at 10 000 licenses
// (issue 9's ≤ 2 s). This
// parser reads the same documents in a single pass, 5 to 11 times faster, and keeps the
// behaviour: test/xml.test.ts compares it with fast-xml-parser on random documents (which stays a
// dependency: install.sh checks the module's XML files with it before installing them).

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

// XML 1.0 names, with every non-ASCII character allowed (enough to tell a name from garbage).
const NAME = /[A-Za-z_:\u00C0-\uFFFF][-A-Za-z_:\u00C0-\uFFFF0-9.\u00B7]*/y;
const ATTRIBUTE = /([A-Za-z_:\u00C0-\uFFFF][-A-Za-z_:\u00C0-\uFFFF0-9.\u00B7]*)[ \t\r\n]*=[ \t\r\n]*(?:"([^"<]*)"|'([^'<]*)')/y;
const SPACE = /[ \t\r\n]*/y;
const REFERENCE = /&(?:(lt|gt|amp|quot|apos)|#([0-9]+)|#x([0-9A-Fa-f]+));|&/g;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** Attributes of an element that has none: shared, never written. */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** A name as an error message shows it: never longer than a line. */
function shown(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string, at = this.pos): never {
    let line = 1;
    for (let i = this.text.indexOf('\n'); i !== -1 && i < at; i = this.text.indexOf('\n', i + 1)) line++;
    throw new XmlError(`malformed XML: ${what} (line ${line})`);
  }

  skipSpace(): boolean {
    SPACE.lastIndex = this.pos;
    SPACE.test(this.text);
    const moved = SPACE.lastIndex !== this.pos;
    this.pos = SPACE.lastIndex;
    return moved;
  }

  name(what: string): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.text);
    if (!m) this.fail(`${what} expected`);
    this.pos = NAME.lastIndex;
    return m[0];
  }

  /** Moves past `end`, which must come; returns what was before it. */
  until(end: string, what: string): string {
    const at = this.text.indexOf(end, this.pos);
    if (at === -1) this.fail(`unterminated ${what}`);
    const s = this.text.slice(this.pos, at);
    this.pos = at + end.length;
    return s;
  }

  decode(raw: string, at: number): string {
    if (!raw.includes('&')) return raw;
    return raw.replace(REFERENCE, (ref: string, named: string | undefined, dec: string | undefined, hex: string | undefined, offset: number) => {
      if (named) return PREDEFINED[named]!;
      if (dec === undefined && hex === undefined) this.fail('"&" that starts no entity reference (write &amp;)', at + offset);
      const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
      const allowed = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
      if (!allowed) this.fail(`character reference ${ref} to a character XML does not allow`, at + offset);
      return String.fromCodePoint(cp);
    });
  }

  /** Comments and processing instructions (the XML declaration among them) between elements. */
  skipMisc(): void {
    for (;;) {
      this.skipSpace();
      if (this.text.startsWith('<!--', this.pos)) {
        this.pos += 4;
        this.until('-->', 'comment');
      } else if (this.text.startsWith('<?', this.pos)) {
        this.pos += 2;
        this.until('?>', 'processing instruction');
      } else return;
    }
  }

  /** A start tag from its '<'; `closed` when it ends with "/>". */
  startTag(): { el: XmlElement; closed: boolean } {
    this.pos++;
    const name = this.name('element name');
    let attrs = NO_ATTRIBUTES;
    for (;;) {
      const spaced = this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x3e /* > */) {
        this.pos++;
        return { el: { name, attrs, text: '', children: [] }, closed: false };
      }
      if (c === 0x2f /* / */ && this.text.charCodeAt(this.pos + 1) === 0x3e) {
        this.pos += 2;
        return { el: { name, attrs, text: '', children: [] }, closed: true };
      }
      if (!spaced) this.fail(`"${this.text.charAt(this.pos) || 'end of document'}" in the tag <${shown(name)}>`);
      ATTRIBUTE.lastIndex = this.pos;
      const m = ATTRIBUTE.exec(this.text);
      if (!m) this.fail(`attribute of <${shown(name)}> expected (name="value")`);
      if (attrs === NO_ATTRIBUTES) attrs = {};
      const key = m[1]!;
      if (Object.prototype.hasOwnProperty.call(attrs, key)) this.fail(`attribute ${shown(key)} twice in <${shown(name)}>`);
      const raw = m[2] ?? m[3]!;
      // Defined, not assigned: an attribute named __proto__ is an attribute like any other.
      Object.defineProperty(attrs, key, { value: this.decode(raw, this.pos), enumerable: true, writable: true, configurable: true });
      this.pos = ATTRIBUTE.lastIndex;
    }
  }

  document(): XmlElement {
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.skipMisc();
    if (this.text.charCodeAt(this.pos) !== 0x3c /* < */ || this.pos >= this.text.length) this.fail('no root element');
    const first = this.startTag();
    const root = first.el;
    if (!first.closed) this.content(root);
    this.skipMisc();
    if (this.pos < this.text.length) this.fail('content after the root element');
    return root;
  }

  /** The content of `root` up to and including its end tag (iterative: depth costs no stack). */
  content(root: XmlElement): void {
    const open: XmlElement[] = [root];
    const texts: string[][] = [[]];
    const text = this.text;
    while (open.length > 0) {
      const lt = text.indexOf('<', this.pos);
      if (lt === -1) this.fail(`<${shown(open[open.length - 1]!.name)}> is not closed`, text.length);
      if (lt > this.pos) texts[texts.length - 1]!.push(this.decode(text.slice(this.pos, lt), this.pos));
      this.pos = lt;
      const c = text.charCodeAt(lt + 1);
      if (c === 0x2f /* / */) {
        this.pos += 2;
        const name = this.name('element name after "</"');
        this.skipSpace();
        if (text.charCodeAt(this.pos) !== 0x3e) this.fail(`">" expected to end </${shown(name)}>`);
        this.pos++;
        const el = open.pop()!;
        if (name !== el.name) this.fail(`</${shown(name)}> closes <${shown(el.name)}>`, lt);
        const chunks = texts.pop()!;
        if (chunks.length > 0) el.text = (chunks.length === 1 ? chunks[0]! : chunks.join('')).trim();
      } else if (c === 0x21 /* ! */) {
        if (text.startsWith('<!--', lt)) {
          this.pos += 4;
          this.until('-->', 'comment');
        } else if (text.startsWith('<![CDATA[', lt)) {
          this.pos += 9;
          texts[texts.length - 1]!.push(this.until(']]>', 'CDATA section'));
        } else this.fail('"<!" that starts neither a comment nor CDATA');
      } else if (c === 0x3f /* ? */) {
        this.pos += 2;
        this.until('?>', 'processing instruction');
      } else {
        if (open.length >= MAX_XML_DEPTH) this.fail(`elements nested deeper than ${MAX_XML_DEPTH}`);
        const { el, closed } = this.startTag();
        open[open.length - 1]!.children.push(el);
        if (!closed) {
          open.push(el);
          texts.push([]);
        }
      }
    }
  }
}

/** Parses a document and returns its root element. Throws XmlError with a readable reason. */
export function parseXml(text: string): XmlElement {
  if (text.length > MAX_XML) throw new XmlError(`XML document too large (${text.length} bytes)`);
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlError('XML with a DOCTYPE or entity declarations is refused');
  if (!text.trim()) throw new XmlError('empty XML document');
  // Line ends as XML 1.0 §2.11 reads them: \r\n and a lone \r are \n.
  return new Reader(text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text).document();
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
