/**
 * The load generator of `bench:ingest`, in a child process so that posting webhooks does not
 * take the server's CPU: posts signed WhatsApp webhooks open-loop at a rate and reports when
 * each was sent (absolute ms, comparable across processes) and how many were accepted.
 */
import { metaSignature } from '../src/channels/signature';
import { whatsappText } from '../src/channels/simulators/payloads';

/** A run the main thread asks for. */
export interface LoadRequest {
  readonly url: string;
  readonly secret: string;
  readonly phone: string;
  readonly contacts: number;
  readonly first: number;
  readonly rate: number;
  readonly seconds: number;
}

/** What a run reports back. */
export interface LoadReport {
  readonly accepted: number;
  readonly perSecond: number;
  /** [message id, absolute ms when its POST started]. */
  readonly sent: [string, number][];
}

const now = () => performance.timeOrigin + performance.now();

async function post(request: LoadRequest, sequence: number, sent: [string, number][]): Promise<boolean> {
  const id = `wamid.BENCH${sequence}`;
  const contact = `1999${String(sequence % request.contacts).padStart(7, '0')}`;
  const body = JSON.stringify(
    whatsappText(
      request.phone,
      { waId: contact, name: `Bench ${contact}` },
      { id, text: `message ${sequence}`, at: Date.now() },
    ),
  );
  sent.push([id, now()]);
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': metaSignature(request.secret, body),
      },
      body,
    });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false; // refused or reset: counted as not accepted
  }
}

async function run(request: LoadRequest): Promise<LoadReport> {
  const total = Math.round(request.rate * request.seconds);
  const sent: [string, number][] = [];
  const started = performance.now();
  const inFlight: Promise<boolean>[] = [];
  for (let n = 0; n < total; n++) {
    const wait = started + (n * 1000) / request.rate - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(post(request, request.first + n, sent));
  }
  const accepted = (await Promise.all(inFlight)).filter(Boolean).length;
  return { accepted, perSecond: accepted / ((performance.now() - started) / 1000), sent };
}

process.on('message', (request: LoadRequest) => {
  run(request).then(
    (report) => process.send?.(report),
    (error: unknown) => process.send?.({ error: String(error) }),
  );
});
