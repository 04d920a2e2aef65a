import { expect } from 'chai';
import { canonicalIp, sameIp } from '../src/ip.js';

describe('canonical IPs (SPEC 5.9)', () => {
  it('writes IPv6 lower-case and compressed, IPv4 as a dotted quad', () => {
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).to.equal('2001:db8::1');
    expect(canonicalIp('2001:db8::1')).to.equal('2001:db8::1');
    expect(canonicalIp('2001:0db8:0000:0000:0001:0000:0000:0001')).to.equal('2001:db8::1:0:0:1');
    expect(canonicalIp(' 192.0.2.7 ')).to.equal('192.0.2.7');
    expect(canonicalIp('no ip')).to.equal(null);
  });
  it('compares addresses by their canonical form', () => {
    expect(sameIp('2001:db8:0::1', '2001:DB8::0:1')).to.equal(true);
    expect(sameIp('2001:db8::1', '2001:db8::2')).to.equal(false);
    expect(sameIp('192.0.2.7', '192.0.2.70')).to.equal(false);
  });
});
