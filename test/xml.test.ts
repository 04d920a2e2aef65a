import { expect } from 'chai';
import { parseXml, childText, XmlError } from '../src/xml.js';

describe('xml', () => {
  it('parses elements, attributes and entities into a typed tree', () => {
    const doc = parseXml('<?xml version="1.0"?><doc><elem><id>1</id><x a="b">t &amp; u</x></elem></doc>');
    expect(doc.name).to.equal('doc');
    const elem = doc.children[0]!;
    expect(childText(elem, 'id')).to.equal('1');
    expect(elem.children[1]!.attrs).to.deep.equal({ a: 'b' });
    expect(childText(elem, 'x')).to.equal('t & u');
  });
  it('refuses DOCTYPE and entity declarations', () => {
    expect(() => parseXml('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><doc>&lol2;</doc>')).to.throw(XmlError, /DOCTYPE/);
  });
  it('refuses malformed and empty documents', () => {
    expect(() => parseXml('<doc><a></doc>')).to.throw(XmlError, /malformed/);
    expect(() => parseXml('  ')).to.throw(XmlError, /empty/);
  });
});
