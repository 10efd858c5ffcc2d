import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Addresses a push must never reach: this machine, private and shared networks, link-local,
 * documentation, benchmarking, multicast and reserved ranges (IANA special-purpose registries).
 * A push endpoint is an address chosen by a client; without this, a name resolving to one of
 * these would make the server call inside its own network (SSRF).
 */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The IPv4 address an IPv6 one carries (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`), if any. */
function embeddedIpv4(address: string): string | null {
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([\da-f]{1,4}):([\da-f]{1,4}))$/i.exec(
    address,
  );
  if (!match) return null;
  if (match[1]) return match[1];
  const high = parseInt(match[2]!, 16);
  const low = parseInt(match[3]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Whether an IP address is on the public internet (loopback too when `allowLoopback`, for tests). */
export function isPublicAddress(address: string, allowLoopback = false): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const v4 = family === 6 ? embeddedIpv4(address) : address;
  const [ip, type] = v4 !== null ? [v4, 'ipv4' as const] : [address, 'ipv6' as const];
  if (allowLoopback && LOOPBACK.check(ip, type)) return true;
  return !NOT_PUBLIC.check(ip, type);
}

type Resolve = (
  hostname: string,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolve: Resolve = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/**
 * A `lookup` for sockets that resolves a name and refuses it when ANY of its addresses is not
 * public, so the connection goes only to an address that was checked: checking the name first and
 * connecting later would let a second answer (DNS rebinding) point elsewhere.
 */
export function publicOnlyLookup(
  options: { allowLoopback?: boolean; resolve?: Resolve } = {},
): LookupFunction {
  const resolve = options.resolve ?? systemResolve;
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const family =
        lookupOptions.family === 'IPv4' ? 4 : lookupOptions.family === 'IPv6' ? 6 : lookupOptions.family;
      const usable = addresses.filter((each) => !family || each.family === family);
      const refused = usable.find((each) => !isPublicAddress(each.address, options.allowLoopback));
      if (usable.length === 0 || refused) {
        const reason = refused ? `resolves to ${refused.address}, not a public address` : 'has no address';
        const failure: NodeJS.ErrnoException = new Error(`push endpoint host ${hostname} ${reason}`);
        failure.code = refused ? 'EPUSHADDRESS' : 'ENOTFOUND';
        return callback(failure, '', 0);
      }
      if (lookupOptions.all)
        return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

/** The HTTPS agent pushes go out through: only to public addresses (see `publicOnlyLookup`). */
export function pushAgent(
  options: { allowLoopback?: boolean; ca?: string | Buffer; resolve?: Resolve } = {},
): Agent {
  return new Agent({
    lookup: publicOnlyLookup(options),
    ...(options.ca !== undefined && { ca: options.ca }),
  });
}
