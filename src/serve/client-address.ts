import net from 'node:net';

/**
 * Which proxies in front of the server are trusted to report the client's address in X-Forwarded-For:
 * none (`false`: the socket's peer is the client), a number of proxy hops, or the proxies' addresses and CIDRs.
 */
export type TrustProxy = false | { hops: number } | { trusted: string[] };

/**
 * Read a trust-proxy setting: `true` is one proxy, a whole number N is N proxies, a list (or comma-separated text)
 * of addresses and CIDRs names the trusted proxies. Throws on an address or CIDR that does not parse.
 */
export function parseTrustProxy(value: boolean | number | string | readonly string[] | undefined): TrustProxy {
  if (value === undefined || value === false) return false;
  if (value === true) return { hops: 1 };
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value.trim()))) {
    const hops = Number(value);
    if (!Number.isInteger(hops) || hops < 0) throw new Error(`trust-proxy hops must be a whole number >= 0 (got ${value})`);
    return hops === 0 ? false : { hops };
  }
  const list = (typeof value === 'string' ? value.split(',') : [...value]).map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) return false;
  trustedBlockList(list); // validates
  return { trusted: list };
}

function trustedBlockList(list: readonly string[]): net.BlockList {
  const bl = new net.BlockList();
  for (const entry of list) {
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const type = net.isIPv6(addr) ? 'ipv6' : net.isIPv4(addr) ? 'ipv4' : null;
    if (!type) throw new Error(`trust-proxy: "${entry}" is not an IP address or CIDR`);
    if (bits === undefined) bl.addAddress(addr, type);
    else {
      const prefix = Number(bits);
      if (!/^\d+$/.test(bits) || prefix > (type === 'ipv4' ? 32 : 128)) throw new Error(`trust-proxy: bad prefix length in "${entry}"`);
      bl.addSubnet(addr, prefix, type);
    }
  }
  return bl;
}

/** An address as written in a header or by the socket, without port, brackets or the IPv4-mapped IPv6 prefix. */
export function normalizeAddress(raw: string): string {
  let a = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (/^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(a)) a = a.slice(7);
  return a;
}

/** Decides a request's client address under one trust-proxy setting. */
export function clientAddressResolver(trust: TrustProxy): (remote: string | undefined, forwardedFor: string | string[] | undefined) => string {
  const blockList = trust && 'trusted' in trust ? trustedBlockList(trust.trusted) : null;
  const isTrusted = (addr: string) =>
    blockList !== null && (net.isIPv4(addr) ? blockList.check(addr, 'ipv4') : net.isIPv6(addr) ? blockList.check(addr, 'ipv6') : false);
  return (remote, forwardedFor) => {
    const peer = remote ? normalizeAddress(remote) : 'unknown';
    if (!trust || forwardedFor === undefined) return peer;
    // Nearest hop first: the socket's peer, then X-Forwarded-For from its right end (what each proxy appended).
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
    const hops = [peer, ...header.split(',').map(normalizeAddress).filter(Boolean).reverse()];
    if ('hops' in trust) return hops[Math.min(trust.hops, hops.length - 1)];
    // Skip trusted proxies; the first untrusted hop is the client. Entries left of it are the client's own words.
    for (const hop of hops) if (!isTrusted(hop)) return hop;
    return hops[hops.length - 1];
  };
}
