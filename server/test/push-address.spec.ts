import { execFileSync } from 'node:child_process';
import type { LookupAddress } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublicAddress, pushAgent } from '../src/notifications/public-address';

// A push endpoint is an address a client chose (#15 item 8, decision 0026): the server must reach
// only the public internet with it, whatever its host name resolves to.

describe('which addresses a push may reach', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.8',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254', // cloud metadata services
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.8',
    '64:ff9b::a00:8',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '8.8.8.8',
    '142.250.185.74',
    '172.32.0.1',
    '192.169.0.1',
    '2607:f8b0:4004:c07::71',
    '::ffff:8.8.8.8',
  ])('admits the public address %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('admits loopback only when asked (a stand-in push service in tests), and still no private network', () => {
    expect(isPublicAddress('127.0.0.1', true)).toBe(true);
    expect(isPublicAddress('::1', true)).toBe(true);
    expect(isPublicAddress('10.0.0.8', true)).toBe(false);
  });
});

describe('the push agent connects only to the addresses it checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-push-address-'));
  let server: Server;
  let port = 0;
  let cert = '';
  const hits: string[] = [];

  beforeAll(async () => {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=push.example', '-addext', 'subjectAltName=DNS:push.example',
    ], { stdio: 'ignore' }); // prettier-ignore
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(201).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A resolver that answers `push.example` with these addresses, as a hostile DNS zone could. */
  const answering =
    (...addresses: LookupAddress[]) =>
    (_host: string, callback: (error: NodeJS.ErrnoException | null, all: LookupAddress[]) => void) =>
      callback(null, addresses);

  function post(agent: ReturnType<typeof pushAgent>, path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request({ host: 'push.example', port, path, method: 'POST', agent }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });
  }

  it('refuses a name that resolves to this machine, before any byte is sent', async () => {
    const agent = pushAgent({ ca: cert, resolve: answering({ address: '127.0.0.1', family: 4 }) });
    await expect(post(agent, '/refused')).rejects.toMatchObject({ code: 'EPUSHADDRESS' });
    expect(hits).not.toContain('/refused');
  });

  it('refuses a name with one private address among public ones (no lucky pick)', async () => {
    const agent = pushAgent({
      ca: cert,
      allowLoopback: true,
      resolve: answering({ address: '127.0.0.1', family: 4 }, { address: '10.1.2.3', family: 4 }),
    });
    await expect(post(agent, '/mixed')).rejects.toMatchObject({ code: 'EPUSHADDRESS' });
    expect(hits).not.toContain('/mixed');
  });

  it('connects when every address is admitted (loopback admitted for the stand-in)', async () => {
    const agent = pushAgent({
      ca: cert,
      allowLoopback: true,
      resolve: answering({ address: '127.0.0.1', family: 4 }),
    });
    expect(await post(agent, '/admitted')).toBe(201);
    expect(hits).toContain('/admitted');
  });
});
