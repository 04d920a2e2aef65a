// src/xml.ts (saxes behind the module's tree API) against a second strict XML 1.0 parser, expat
// (python3's xml.parsers.expat, test/support/xml-oracle.ts), both ways: random well-formed documents
// give the same tree in both, and of random damaged documents, one that either accepts the other
// accepts too (with the same tree), and one that either refuses the other refuses.
import { expect } from 'chai';
import { prng } from './support/prng.js';
import { expatTree, expatVerdicts } from './support/xml-oracle.js';
import { childText, descendant, MAX_XML_DEPTH, parseXml, XmlError, type XmlElement } from '../src/xml.js';

const plain = (el: XmlElement): unknown => ({ name: el.name, attrs: { ...el.attrs }, text: el.text, children: el.children.map(plain) });

/** The message parseXml throws for `text` ('' when it parses). */
function refusal(text: string): string {
  try {
    parseXml(text);
    return '';
  } catch (e) {
    expect(e, JSON.stringify(text)).to.be.instanceOf(XmlError);
    return (e as Error).message;
  }
}

/** A random well-formed document of the kinds the module reads (COREmanager lists and forms). */
function randomDocument(rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const names = ['doc', 'elem', 'id', 'licname', 'ip', 'p_elems', 'error', 'msg', 'x-y', 'a.b', 'ns:tag', 'имя', '_u', 'DBPassword', 'value'];
  const words = ['Item #12', '10.0.0.1', '', ' ', ' pass word ', 'a &amp; b', '&lt;tag&gt;', '&quot;q&quot;', "it&apos;s", 'Кириллица', '2026-01-10', '\n  ', '\r\n', 'a\rb', 'x > y', 'tab\there', '&#233;&#x1F600;', '😀', '] ]>'];
  const text = () => pick(words);
  const attrs = (): string => {
    const n = Math.floor(rnd() * 3);
    const used = new Set<string>();
    let s = '';
    for (let i = 0; i < n; i++) {
      const k = pick(['type', 'object', 'lang', 'name', 'key', 'elid', '__proto__']);
      if (used.has(k)) continue;
      used.add(k);
      const v = pick(['en', 'ru', 'a &amp; b', 'x&lt;y', "it's", '', '3541', ' sp ', 'a\tb\r\nc', '&#10;']);
      s += `${pick([' ', '  ', '\n', '\r\n'])}${k}${pick(['=', ' = '])}${v.includes("'") ? `"${v}"` : pick([`"${v}"`, `'${v}'`])}`;
    }
    return s;
  };
  const element = (depth: number): string => {
    const name = depth === 0 ? 'doc' : pick(names);
    if (depth > 0 && rnd() < 0.15) return `<${name}${attrs()}${pick(['/>', ' />'])}`;
    let body = '';
    const parts = depth > 4 ? 1 : Math.floor(rnd() * 5);
    for (let i = 0; i < parts; i++) {
      const r = rnd();
      if (r < 0.45) body += element(depth + 1);
      else if (r < 0.8) body += text();
      else if (r < 0.88) body += `<![CDATA[${pick(['<b>', 'a & b', ']] >', '', ' ', ' key ', '\n'])}]]>`;
      else if (r < 0.95) body += '<!-- a comment with <tags> -->';
      else body += '<?pi some data?>';
    }
    return `<${name}${attrs()}${pick(['>', ' >'])}${body}</${name}${pick(['>', ' >'])}`;
  };
  return `${pick(['', '<?xml version="1.0" encoding="UTF-8"?>\n', '\ufeff<?xml version="1.0"?>'])}${pick(['', '<!-- head -->\n'])}${element(0)}${pick(['', '\n', '\n<!-- tail -->\n'])}`;
}

/** What the damage inserts: XML's own delimiters, and what the issue found let through. */
const INSERTIONS = ['<', '>', '&', '"', '</x>', '<y>', '\u0001', '\u0007', '\u0000', '\u001f', '\uD800', '\uDC00', '\uFFFF', '\uFFFE', ']]>', '&#1;', '&#xFFFE;', '&#xD800;', '&nbsp;', '<!DOCTYPE doc>', '<!ENTITY e "x">', '\n'];

function damaged(rnd: () => number, good: string): string {
  const at = Math.floor(rnd() * good.length);
  if (rnd() < 0.4) return good.slice(0, at) + good.slice(at + 1 + Math.floor(rnd() * 3));
  return good.slice(0, at) + INSERTIONS[Math.floor(rnd() * INSERTIONS.length)] + good.slice(at);
}

describe('xml', () => {
  it('parses elements, attributes and entities into a typed tree', () => {
    const doc = parseXml('<?xml version="1.0"?><doc><elem><id>1</id><x a="b">t &amp; u</x></elem></doc>');
    expect(doc.name).to.equal('doc');
    const elem = doc.children[0]!;
    expect(childText(elem, 'id')).to.equal('1');
    expect(elem.children[1]!.attrs).to.deep.equal({ a: 'b' });
    expect(childText(elem, 'x')).to.equal('t & u');
  });

  it('decodes character references (which the old parser left as written)', () => {
    expect(parseXml('<doc a="&#65;">Caf&#233; &#x41;&#x1F600;</doc>').text).to.equal('Café A😀');
    expect(parseXml('<doc a="&#65;"/>').attrs).to.deep.equal({ a: 'A' });
  });

  it('refuses DOCTYPE and entity declarations', () => {
    expect(() => parseXml('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><doc>&lol2;</doc>')).to.throw(XmlError, /DOCTYPE/);
    expect(() => parseXml('<!DOCTYPE doc><doc/>')).to.throw(XmlError, /DOCTYPE/);
    // In another case it is no XML at all; the message still names what it is meant to be.
    expect(() => parseXml('<!doctype doc [<!ENTITY a "b">]><doc/>')).to.throw(XmlError, /DOCTYPE/);
    expect(() => parseXml('<?xml version="1.0"?>\n<!DocType doc><doc/>')).to.throw(XmlError, /DOCTYPE/);
    expect(() => parseXml('<doc>&lol;</doc>')).to.throw(XmlError, /undefined entity/);
  });

  it('refuses malformed and empty documents, naming the reason, line and column', () => {
    expect(refusal('<doc><a></doc>')).to.equal('malformed XML: unexpected close tag (line 1, column 14)');
    expect(refusal('  ')).to.match(/empty/);
    const cases: [string, RegExp][] = [
      ['<doc>\n<a>\n</doc>', /unexpected close tag \(line 3, column 6\)/],
      ['<doc>', /unclosed tag \(line 1/],
      ['<doc></doc><doc/>', /only one root/],
      ['text<doc/>', /text data outside of root node/],
      ['<doc a="1" a="2"/>', /duplicate attribute \(line 1/],
      ['<doc a=1/>', /unquoted attribute value/],
      ['<doc a="x<y"/>', /disallowed character/],
      ['<doc a="1"b="2"/>', /no whitespace between attributes/],
      // saxes reads `& b</doc>` as an entity reference that never ends: its reason is the open tag.
      ['<doc>a & b</doc>', /unclosed tag \(line 1, column 16\)/],
      ['<doc>&nbsp;</doc>', /undefined entity/],
      ['<doc>&#0;</doc>', /malformed character entity/],
      ['<doc><!-- open</doc>', /unclosed tag/],
      ['<doc><![CDATA[x</doc>', /unclosed tag/],
      ['<doc><!x></doc>', /incorrect syntax/],
      ['<1doc/>', /disallowed character in tag name/],
      ['<doc></doc x>', /disallowed character in closing tag/],
      ['<doc></ doc>', /disallowed character in closing tag/],
      ['<html><body>502 Bad Gateway</body>', /unclosed tag/],
      ['<doc/>\nPHP Warning: something', /text data outside of root node \(line 2/],
    ];
    for (const [text, reason] of cases) expect(refusal(text), text).to.match(reason).and.match(/^malformed XML: .* \(line \d+, column \d+\)$/);
  });

  it('refuses what XML 1.0 forbids and the old parser let through: control characters, lone surrogates, U+FFFF in names, "]]>" in text', () => {
    const cases: [string, RegExp][] = [
      ['<doc>a\u0001b</doc>', /disallowed character \(line 1, column 7\)/],
      ['<doc>\u0007</doc>', /disallowed character/],
      ['<doc a="\u0001"/>', /disallowed character/],
      ['<doc><![CDATA[\u0002]]></doc>', /disallowed character/],
      ['<doc><!-- \u0003 --></doc>', /disallowed character/],
      ['<doc>\n\uFFFE</doc>', /disallowed character \(line 2, column 1\)/],
      ['<doc>\uD800x</doc>', /lone surrogate, which is no character \(line 1, column 6\)/],
      ['<doc>x\uDC00</doc>', /lone surrogate, which is no character \(line 1, column 7\)/],
      ['<doc>\uD800</doc>', /lone surrogate/],
      ['<a\uFFFF/>', /disallowed character/],
      ['<doc><a\uFFFFb>x</a\uFFFFb></doc>', /disallowed character/],
      ['<doc a\uFFFF="1"/>', /disallowed character/],
      ['<doc>a]]>b</doc>', /"\]\]>" is disallowed in char data/],
      ['<doc>&#1;</doc>', /malformed character entity/],
      ['<doc>&#xFFFF;</doc>', /malformed character entity/],
      ['<doc>&#xD800;</doc>', /malformed character entity/],
    ];
    for (const [text, reason] of cases) expect(refusal(text), JSON.stringify(text)).to.match(reason);
    // The second parser agrees on each.
    for (const [i, v] of expatVerdicts(cases.map(([t]) => t)).entries()) expect(v.ok, JSON.stringify(cases[i]![0])).to.equal(false);
  });

  it('keeps text and CDATA as sent (no trimming inside a value); whitespace between elements is not content', () => {
    const doc = parseXml('<doc>\n  <elem>\n    <name>DBPassword</name>\n    <value> secret with spaces </value>\n  </elem>\n  <k><![CDATA[ key \n]]></k>\n  <sp> </sp>\n  <mixed>\n  a <b/> c\n</mixed>\n</doc>\n');
    expect(doc.text).to.equal('');
    const elem = doc.children[0]!;
    expect([elem.text, childText(elem, 'name'), childText(elem, 'value')]).to.deep.equal(['', 'DBPassword', ' secret with spaces ']);
    expect(childText(doc, 'k')).to.equal(' key \n');
    expect(childText(doc, 'sp')).to.equal(' ');
    expect(childText(doc, 'mixed')).to.equal('\n  a  c\n');
    // CDATA that is only whitespace is content even between elements.
    expect(parseXml('<doc><a/><![CDATA[ ]]><b/></doc>').text).to.equal(' ');
    expect(plain(parseXml('<doc>\n  <a> x </a>\n</doc>'))).to.deep.equal(plain(expatTree('<doc>\n  <a> x </a>\n</doc>')));
  });

  it('finds an element at any depth (descendant), in document order', () => {
    const doc = parseXml('<doc><a><b><error n="1"/></b></a><error n="2"/></doc>');
    expect(descendant(doc, 'error')?.attrs.n).to.equal('1');
    expect(descendant(doc, 'nope')).to.equal(undefined);
    expect(descendant(parseXml('<doc/>'), 'doc')).to.equal(undefined);
  });

  it('gives the same tree as expat for 2 000 random well-formed documents', () => {
    const rnd = prng(20261130);
    const docs = Array.from({ length: 2000 }, () => randomDocument(rnd));
    const verdicts = expatVerdicts(docs);
    docs.forEach((text, i) => {
      const v = verdicts[i]!;
      expect(v.ok, `${JSON.stringify(text)}: ${v.ok ? '' : v.reason}`).to.equal(true);
      if (v.ok) expect(plain(parseXml(text)), JSON.stringify(text)).to.deep.equal(plain(v.tree));
    });
  });

  it('agrees with expat on 3 000 random damaged documents both ways: one accepts iff the other does, with the same tree', () => {
    const rnd = prng(7);
    const docs = Array.from({ length: 3000 }, () => damaged(rnd, randomDocument(rnd)));
    const verdicts = expatVerdicts(docs);
    let refusedByBoth = 0;
    let acceptedByBoth = 0;
    docs.forEach((text, i) => {
      const v = verdicts[i]!;
      const ours = refusal(text);
      expect(ours === '', `${JSON.stringify(text)}: ours ${ours || 'accepts'}, expat ${v.ok ? 'accepts' : v.reason}`).to.equal(v.ok);
      if (v.ok) {
        expect(plain(parseXml(text)), JSON.stringify(text)).to.deep.equal(plain(v.tree));
        acceptedByBoth++;
      } else refusedByBoth++;
    });
    // The damage must mostly break the documents, and not always, or this test would check little.
    expect(refusedByBoth).to.be.greaterThan(1500);
    expect(acceptedByBoth).to.be.greaterThan(100);
  });

  it('reads a 10 000-row list whole; nesting up to MAX_XML_DEPTH, refused beyond, quickly', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => `<elem><id>${i}</id><ip>10.0.0.${i % 256}</ip></elem>`).join('');
    const doc = parseXml(`<doc>${rows}<p_elems>10000</p_elems></doc>`);
    expect(doc.children).to.have.length(10_001);
    expect(childText(doc.children[9_999]!, 'id')).to.equal('9999');
    const nested = (n: number, inner = 'x') => `${'<a>'.repeat(n)}${inner}${'</a>'.repeat(n)}`;
    let el = parseXml(nested(MAX_XML_DEPTH));
    let depth = 1;
    while (el.children.length) (el = el.children[0]!), depth++;
    expect([depth, el.text]).to.deep.equal([MAX_XML_DEPTH, 'x']);
    expect(() => parseXml(nested(MAX_XML_DEPTH, '<b/>'))).to.throw(XmlError, /nested deeper than 256/);
    // 16 MB of open tags: refused at the limit, not after building millions of elements.
    expect(() => parseXml('<a>'.repeat(5_000_000))).to.throw(XmlError, /nested deeper than 256 \(line 1, column \d+\)/);
    // And the size cap (16 MiB of characters) before any parsing.
    expect(() => parseXml(`<doc>${' '.repeat(16 * 1024 * 1024)}</doc>`)).to.throw(XmlError, /too large/);
  });

  it('reads line ends as XML does (\\r\\n and \\r are \\n in text; attribute whitespace is a space)', () => {
    const doc = parseXml('<?xml version="1.0"?>\r\n<doc a="x\r\ny\tz">\r\n<msg>AAA\r\nBBB\rCCC</msg></doc>\r\n');
    expect([doc.attrs.a, childText(doc, 'msg')]).to.deep.equal(['x y z', 'AAA\nBBB\nCCC']);
    expect(parseXml('<doc>\r\n<a/>\r\n<!-- c -->\r</doc>').children.map((c) => c.name)).to.deep.equal(['a']);
  });

  it('an attribute named __proto__ is an attribute (own, counted for duplicates), never a prototype', () => {
    const el = parseXml('<doc __proto__="x" constructor="y"/>');
    expect(Object.keys(el.attrs)).to.deep.equal(['__proto__', 'constructor']);
    expect(el.attrs['__proto__']).to.equal('x');
    expect(Object.getPrototypeOf(el.attrs)).to.equal(Object.prototype);
    expect(() => parseXml('<doc __proto__="x" __proto__="y"/>')).to.throw(XmlError, /duplicate attribute/);
  });

  it('an error message quotes nothing of the document: reason and position only', () => {
    const long = 'n'.repeat(100_000);
    const secret = 'Pa55-secret';
    for (const text of [`<${long}!`, `<doc></${long}>`, `<${long}>`, `<doc><${secret}>`, `<doc></${secret}>`, `<doc ${secret}="1" ${secret}="2"/>`, `<doc><DBPassword>${secret}</DBPassword></doc>\nwarning: ${secret}`, `<doc>${secret} & more</doc>`]) {
      let message = '';
      try {
        parseXml(text);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, text.slice(0, 20)).to.match(/^malformed XML: [^:]* \(line \d+, column \d+\)$/);
      expect(message.length, message).to.be.below(120);
      expect(message).not.to.include('nnnn').and.not.to.include('secret');
    }
  });
});
