// src/xml.ts against fast-xml-parser, the parser it replaced (kept as the tests' oracle): the same
// tree for random well-formed documents, and a refusal for every malformed one the oracle's
// validator refuses (ours may be stricter — a bare "&" — never more lenient).
import { expect } from 'chai';
import { prng } from './support/prng.js';
import { oracleAccepts, oracleTree } from './support/xml-oracle.js';
import { childText, MAX_XML_DEPTH, parseXml, XmlError, type XmlElement } from '../src/xml.js';

const plain = (el: XmlElement): unknown => ({ name: el.name, attrs: { ...el.attrs }, text: el.text, children: el.children.map(plain) });

/** A random well-formed document of the kinds the module reads (COREmanager lists and forms). */
function randomDocument(rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const names = ['doc', 'elem', 'id', 'licname', 'ip', 'p_elems', 'error', 'msg', 'x-y', 'a.b', 'ns:tag', 'имя', '_u'];
  const words = ['Item #12', '10.0.0.1', '', ' ', 'a &amp; b', '&lt;tag&gt;', '&quot;q&quot;', "it&apos;s", 'Кириллица', '2026-01-10', '\n  ', '\r\n', 'a\rb', 'x > y', 'tab\there'];
  const text = () => pick(words);
  const attrs = (): string => {
    const n = Math.floor(rnd() * 3);
    const used = new Set<string>();
    let s = '';
    for (let i = 0; i < n; i++) {
      const k = pick(['type', 'object', 'lang', 'name', 'key', 'elid']);
      if (used.has(k)) continue;
      used.add(k);
      const v = pick(['en', 'ru', 'a &amp; b', 'x&lt;y', "it's", '', '3541']);
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
      else if (r < 0.88) body += `<![CDATA[${pick(['<b>', 'a & b', ']] >', ''])}]]>`;
      else if (r < 0.95) body += '<!-- a comment -- with <tags> -->'.replace('-- with', 'with');
      else body += '<?pi some data?>';
    }
    return `<${name}${attrs()}${pick(['>', ' >'])}${body}</${name}${pick(['>', ' >'])}`;
  };
  return `${pick(['', '<?xml version="1.0" encoding="UTF-8"?>\n', '\ufeff<?xml version="1.0"?>'])}${pick(['', '<!-- head -->\n'])}${element(0)}${pick(['', '\n', '\n<!-- tail -->\n'])}`;
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
  });

  it('refuses malformed and empty documents, naming the fault and its line', () => {
    expect(() => parseXml('<doc><a></doc>')).to.throw(XmlError, /malformed XML: <\/doc> closes <a> \(line 1\)/);
    expect(() => parseXml('  ')).to.throw(XmlError, /empty/);
    const cases: [string, RegExp][] = [
      ['<doc>\n<a>\n</doc>', /closes <a> \(line 3\)/],
      ['<doc>', /<doc> is not closed/],
      ['<doc></doc><doc/>', /after the root element/],
      ['text<doc/>', /no root element/],
      ['<doc a="1" a="2"/>', /attribute a twice/],
      ['<doc a=1/>', /attribute of <doc> expected/],
      ['<doc a="x<y"/>', /attribute of <doc> expected/],
      ['<doc a="1"b="2"/>', /"b" in the tag <doc>/],
      ['<doc>a & b</doc>', /"&" that starts no entity reference/],
      ['<doc>&nbsp;</doc>', /"&" that starts no entity reference/],
      ['<doc>&#0;</doc>', /character reference &#0; to a character XML does not allow/],
      ['<doc><!-- open</doc>', /unterminated comment/],
      ['<doc><![CDATA[x</doc>', /unterminated CDATA/],
      ['<doc><!x></doc>', /neither a comment nor CDATA/],
      ['<1doc/>', /element name expected/],
      ['<doc></ doc>', /element name after "<\/" expected/],
      ['<doc></doc x>', /">" expected to end <\/doc>/],
      ['<html><body>502 Bad Gateway</body>', /<html> is not closed/],
    ];
    for (const [text, reason] of cases) expect(() => parseXml(text), text).to.throw(XmlError, reason);
  });

  it('gives the same tree as fast-xml-parser for 2 000 random well-formed documents', () => {
    const rnd = prng(20261130);
    for (let i = 0; i < 2000; i++) {
      const text = randomDocument(rnd);
      expect(oracleAccepts(text), text).to.equal(true);
      expect(plain(parseXml(text)), text).to.deep.equal(plain(oracleTree(text)));
    }
  });

  it('refuses every damaged document that fast-xml-parser refuses (2 000 random cuts and insertions)', () => {
    const rnd = prng(7);
    let refusedByBoth = 0;
    for (let i = 0; i < 2000; i++) {
      const good = randomDocument(rnd);
      const at = Math.floor(rnd() * good.length);
      const bad = rnd() < 0.5 ? good.slice(0, at) + good.slice(at + 1 + Math.floor(rnd() * 3)) : good.slice(0, at) + ['<', '>', '&', '"', '</x>', '<y>'][Math.floor(rnd() * 6)] + good.slice(at);
      if (oracleAccepts(bad)) continue;
      expect(() => parseXml(bad), JSON.stringify(bad)).to.throw(XmlError);
      refusedByBoth++;
    }
    // The damage must mostly break the documents, or this test would check little.
    expect(refusedByBoth).to.be.greaterThan(1000);
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
    expect(() => parseXml('<a>'.repeat(5_000_000))).to.throw(XmlError, /nested deeper than 256 \(line 1\)/);
  });

  it('reads line ends as XML does (\\r\\n and \\r are \\n), in text and in attributes', () => {
    const doc = parseXml('<?xml version="1.0"?>\r\n<doc a="x\r\ny">\r\n<msg>AAA\r\nBBB\rCCC</msg></doc>\r\n');
    expect([doc.attrs.a, childText(doc, 'msg')]).to.deep.equal(['x\ny', 'AAA\nBBB\nCCC']);
    expect(parseXml('<doc>\r\n<a/>\r\n<!-- c -->\r</doc>').children.map((c) => c.name)).to.deep.equal(['a']);
  });

  it('an attribute named __proto__ is an attribute (own, counted for duplicates), never a prototype', () => {
    const el = parseXml('<doc __proto__="x" constructor="y"/>');
    expect(Object.keys(el.attrs)).to.deep.equal(['__proto__', 'constructor']);
    expect(el.attrs['__proto__']).to.equal('x');
    expect(Object.getPrototypeOf(el.attrs)).to.equal(Object.prototype);
    expect(() => parseXml('<doc __proto__="x" __proto__="y"/>')).to.throw(XmlError, /attribute __proto__ twice/);
  });

  it('an error message quotes names of at most 64 characters', () => {
    const long = 'n'.repeat(100_000);
    for (const text of [`<${long}!`, `<doc></${long}>`, `<${long}>`]) {
      let message = '';
      try {
        parseXml(text);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, text.slice(0, 20)).to.match(/^malformed XML: /);
      expect(message.length, message).to.be.below(200);
    }
  });
});
