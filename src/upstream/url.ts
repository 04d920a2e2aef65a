// The licensing server URL rule (SPEC 3, check_connection): the password travels in every request
// body, so plain http is allowed only where nobody can listen in: a loopback address (sandbox, a
// local proxy). Checked without any request being made.
import { isIPv4 } from 'node:net';
import { BadInputError } from '../errors.js';

/** The URL as safe to show: credentials (refused anyway) and the query (it may carry them) are never echoed back. */
function shown(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@').replace(/[?#][\s\S]*$/, '?…');
}

function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost') return true;
  // WHATWG URL already normalised IPv4 forms (0x7f.1, 2130706433 …) to dotted quads.
  if (isIPv4(h)) return h.startsWith('127.');
  if (h.startsWith('[') && h.endsWith(']')) {
    const v6 = h.slice(1, -1);
    // ::1, and IPv4-mapped 127.0.0.0/8 (the URL parser writes ::ffff:127.0.0.1 as ::ffff:7f00:1).
    return v6 === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(v6);
  }
  return false;
}

/**
 * Validates the processing module's URL: `https://` always, `http://` only to a loopback address
 * (127.0.0.0/8, ::1, localhost); no credentials in the URL. Throws BadInputError('url', …).
 */
export function checkUpstreamUrl(url: string): URL {
  const raw = (url ?? '').trim();
  const value = shown(raw);
  if (!raw) throw new BadInputError('url', '', 'The licensing server URL is empty. Set it in the processing module settings, e.g. https://api.ispsystem.com/manager/billmgr.');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new BadInputError('url', value, `The licensing server URL "${value}" is not a valid URL. Use a full address such as https://api.ispsystem.com/manager/billmgr.`);
  }
  if (u.username || u.password) {
    throw new BadInputError('url', shown(u.href), 'The licensing server URL must not contain a user name or password: enter them in the user name and password fields of the processing module.');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new BadInputError('url', value, `The licensing server URL "${value}" uses the unsupported scheme "${u.protocol.replace(/:$/, '')}"; use https://.`);
  }
  if (!u.hostname) {
    throw new BadInputError('url', value, `The licensing server URL "${value}" has no host name.`);
  }
  if (u.protocol === 'https:') return u;
  if (isLoopback(u.hostname)) return u;
  throw new BadInputError('url', shown(u.href), `The licensing server URL "${shown(u.href)}" uses plain http to a host that is not this machine; the password would cross the network unencrypted. Use https:// (http:// is allowed only to 127.0.0.1, ::1 or localhost).`);
}
