// The license IP is the customer's server address: it must be a unicast address that a server
// can have. Loopback, unspecified, multicast and broadcast addresses are bad input.
import { isIP } from 'node:net';

export function isServerIp(raw: string): boolean {
  const ip = raw.trim();
  if (ip !== raw || ip === '') return false;
  const v = isIP(ip);
  if (v === 4) {
    const [a, , , d] = ip.split('.').map(Number) as [number, number, number, number];
    if (ip.split('.').some((p) => p.length > 1 && p.startsWith('0'))) return false;
    if (a === 0 || a === 127 || a >= 224) return false;
    return !(ip === '255.255.255.255' || d === undefined);
  }
  if (v === 6) {
    const lower = ip.toLowerCase();
    if (lower === '::' || lower === '::1' || lower.startsWith('ff')) return false;
    if (lower.includes('%')) return false;
    return true;
  }
  return false;
}
