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

/** The one written form of an address (SPEC 5.9): IPv4 as a dotted quad, IPv6 lower-case and
 *  compressed (WHATWG URL's serialisation, RFC 5952's rules). Null for anything that is not an IP. */
export function canonicalIp(raw: string): string | null {
  const ip = raw.trim();
  const v = isIP(ip);
  if (v === 4) return ip; // isIP takes only the dotted quad (no leading zeros): already its one form
  if (v === 6) {
    if (ip.includes('%')) return ip.toLowerCase(); // a zone id: no server address; kept comparable
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  }
  return null;
}

/** Two addresses are the same when their canonical forms are; text that is no IP compares as written. */
export function sameIp(a: string, b: string): boolean {
  const ca = canonicalIp(a);
  const cb = canonicalIp(b);
  return ca !== null && cb !== null ? ca === cb : a.trim() === b.trim();
}
