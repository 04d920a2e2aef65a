import { expect } from 'chai';
import { isServerIp } from '../src/ip.js';

describe('server IP validation', () => {
  it('accepts unicast IPv4 and IPv6', () => {
    for (const ip of ['203.0.113.5', '10.1.2.3', '2001:db8::1', '1.1.1.1']) expect(isServerIp(ip), ip).to.equal(true);
  });
  it('refuses loopback, unspecified, broadcast, multicast, malformed and padded addresses', () => {
    for (const ip of ['0.0.0.0', '127.0.0.1', '255.255.255.255', '224.0.0.1', '256.1.1.1', '1.2.3', '01.2.3.4', '::', '::1', 'ff02::1', ' 1.2.3.4', '1.2.3.4 5.6.7.8', 'fe80::1%eth0', 'example.com', ''])
      expect(isServerIp(ip), JSON.stringify(ip)).to.equal(false);
  });
});
