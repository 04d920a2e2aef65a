import { expect } from 'chai';
import { canonicalIp, isServerIp, sameIp } from '../src/ip.js';

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

describe('server IP validation', () => {
  it('accepts unicast IPv4 and IPv6', () => {
    for (const ip of ['203.0.113.5', '10.1.2.3', '2001:db8::1', '1.1.1.1']) expect(isServerIp(ip), ip).to.equal(true);
  });
  it('refuses loopback, unspecified, broadcast, multicast, malformed and padded addresses', () => {
    for (const ip of ['0.0.0.0', '127.0.0.1', '255.255.255.255', '224.0.0.1', '256.1.1.1', '1.2.3', '01.2.3.4', '::', '::1', 'ff02::1', ' 1.2.3.4', '1.2.3.4 5.6.7.8', 'fe80::1%eth0', 'example.com', ''])
      expect(isServerIp(ip), JSON.stringify(ip)).to.equal(false);
  });
});
