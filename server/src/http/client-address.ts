import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * Which proxies in front of Parley may say who the client is (`PARLEY_TRUST_PROXY`): none (the
 * socket's peer is the client), the last `hops` proxies, or the proxies at these addresses.
 */
export type TrustProxy =
  | { readonly kind: 'none' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'addresses'; readonly addresses: ReadonlySet<string> };

export const TRUST_NO_PROXY: TrustProxy = { kind: 'none' };

/**
 * Reads `PARLEY_TRUST_PROXY`: unset, empty or 0 trusts nobody; a whole number is how many proxies
 * stand in front; a comma-separated list names the proxies' addresses. Throws a readable message.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = value?.trim() ?? '';
  if (text === '' || text === '0' || text.toLowerCase() === 'off') return TRUST_NO_PROXY;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 32) throw new Error(`PARLEY_TRUST_PROXY: ${hops} proxies is not a plausible chain`);
    return { kind: 'hops', hops };
  }
  const addresses = text.split(',').map((part) => normaliseAddress(part.trim()));
  const wrong = addresses.find((address) => isIP(address) === 0);
  if (wrong !== undefined) {
    throw new Error(
      `PARLEY_TRUST_PROXY must be a number of proxies or a comma-separated list of their IP addresses, got ${JSON.stringify(wrong)}`,
    );
  }
  return { kind: 'addresses', addresses: new Set(addresses) };
}

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy; then the
 * `X-Forwarded-For` entries are walked from the right, past trusted proxies only, so a client
 * cannot choose its address by sending the header itself.
 */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  const peer = normaliseAddress(req.socket.remoteAddress ?? 'unknown');
  if (trust.kind === 'none') return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((part) => normaliseAddress(part.trim()))
    .filter((part) => part !== '');
  const chain = [...forwarded, peer];
  if (trust.kind === 'hops') return chain[Math.max(0, chain.length - 1 - trust.hops)]!;
  let index = chain.length - 1;
  while (index > 0 && trust.addresses.has(chain[index]!)) index -= 1;
  return chain[index]!;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
