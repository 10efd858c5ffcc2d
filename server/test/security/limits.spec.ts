import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiHarness, serveHttp, type ApiHarness } from '../api.support';

/** What a streamed upload saw: the server's status, and how many bytes had gone out by then. */
interface UploadOutcome {
  readonly status: number;
  readonly sentBeforeAnswer: number;
}

/**
 * POSTs `total` bytes in 64 KB chunks (with a Content-Length, or chunked), waiting for the socket
 * to drain between chunks, and stops sending as soon as the server answers.
 */
function uploadUntilAnswered(url: string, total: number, declareLength: boolean): Promise<UploadOutcome> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(declareLength ? { 'content-length': String(total) } : { 'transfer-encoding': 'chunked' }),
      },
    });
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, sentBeforeAnswer: sent });
      req.destroy();
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    req.on('socket', () => pump());
  });
}

const MB = 1024 * 1024;

describe('[S6] limits on /trpc requests', () => {
  let h: ApiHarness;
  let http: Awaited<ReturnType<typeof serveHttp>>;
  beforeAll(async () => {
    h = await openApiHarness('pglite');
    http = await serveHttp(h);
  });
  afterAll(async () => {
    await http.stop();
    await h.dispose();
  });

  it('[S6] a 256 MB sign-in body with a Content-Length is refused with 413 before the client has sent it', async () => {
    const outcome = await uploadUntilAnswered(`${http.url}/auth.signIn`, 256 * MB, true);
    expect(outcome.status).toBe(413);
    expect(outcome.sentBeforeAnswer).toBeLessThan(64 * MB);
  });

  it('[S6] a chunked body without a Content-Length is refused with 413 once it passes the limit', async () => {
    const outcome = await uploadUntilAnswered(`${http.url}/auth.signIn`, 256 * MB, false);
    expect(outcome.status).toBe(413);
    expect(outcome.sentBeforeAnswer).toBeLessThan(64 * MB);
  });

  it('[S6] the server still answers after refusing large bodies', async () => {
    const response = await fetch(`${http.url}/health`);
    expect(response.status).toBe(200);
  });

  it('[S6] a batch of more than 50 calls is refused with 413; 50 are answered', async () => {
    const batch = (n: number) => `${http.url}/${Array.from({ length: n }, () => 'health').join(',')}?batch=1`;
    const refused = await fetch(batch(51));
    expect(refused.status).toBe(413);
    const body = (await refused.json()) as { error: { data: { code: string } } };
    expect(body.error.data.code).toBe('PAYLOAD_TOO_LARGE');
    const answered = await fetch(batch(50));
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as unknown[]).length).toBe(50);
  });
});
