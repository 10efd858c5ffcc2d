// `npm run screenshots`: every screen of Parley at desktop (1280x800) and phone (390x844, touch)
// sizes, light and dark, in one folder, with axe-core run on each. Starts its own server on a
// temporary DATA_DIR (embedded database, platform simulators on), seeds a few conversations, and
// exits non-zero when axe finds a violation on any screen.
//
//   PARLEY_SCREENSHOTS_DIR  where the PNGs go (default: screenshots/, emptied of PNGs first)
//   PARLEY_WEB_DIST         the built PWA to serve (as the server reads it)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type BrowserContextOptions, type Page } from '@playwright/test';
import { CHROMIUM_LAUNCH } from '../e2e/support/chromium';
import { ApiSession, demoWhatsAppSecret, whatsAppCustomerWrites } from '../e2e/support/webhooks';

const ANA = { tenantId: 'demo', email: 'ana@demo.parley.test', password: 'parley-demo-agent' };
const ADA = { tenantId: 'demo', email: 'ada@demo.parley.test', password: 'parley-demo-admin' };
/** Seeded so the list shows right-to-left text and a name and preview longer than any row. */
const ARABIC = {
  name: 'ليلى حسن',
  waId: '971500000001',
  text: 'مرحبا، طلبي رقم 1042 لم يصل بعد. هل يمكنكم المساعدة؟',
};
const LONG = {
  name: 'Bartholomew Featherstonehaugh-Worthington',
  waId: '441632960001',
  text: 'Hello, I ordered the blue raincoat in size M three weeks ago and the tracking page still says the parcel is being prepared; could you check what happened?',
};

interface Variant {
  readonly name: string;
  readonly options: BrowserContextOptions;
}
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const VARIANTS: readonly Variant[] = [
  { name: 'desktop', options: { ...DESKTOP, colorScheme: 'light' } },
  { name: 'desktop-dark', options: { ...DESKTOP, colorScheme: 'dark' } },
  { name: 'phone', options: { ...PHONE, colorScheme: 'light' } },
  { name: 'phone-dark', options: { ...PHONE, colorScheme: 'dark' } },
];

/** Every screen, in the order a reviewer reads them (the contact drawer exists on narrow screens only). */
const SCREENS = [
  'sign-in',
  'inbox',
  'conversation',
  'contact-drawer',
  'board',
  'card-panel',
  'settings-agent',
  'settings-admin',
  'dead-letters',
  'fault-panel',
  'reply-during-outage',
  'fault-panel-retrying',
] as const;

interface Finding {
  readonly file: string;
  readonly violations: readonly string[];
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startServer(port: number, dataDir: string): Promise<ChildProcess> {
  const child = spawn('node', ['--import', 'tsx', 'server/src/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // No random customers: the screens show the demo's conversations and the seeded ones.
      PARLEY_CUSTOMER_SIMULATOR_MS: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const up = await fetch(`http://127.0.0.1:${port}/trpc/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) return child;
    await new Promise((wait) => setTimeout(wait, 300));
  }
  child.kill('SIGTERM');
  throw new Error('the server did not answer within 90 s');
}

async function signIn(page: Page, account: typeof ANA): Promise<void> {
  await page.getByLabel('Workspace').fill(account.tenantId);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: /Maria Lopez/ }).waitFor();
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign out and erase' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

/** Walks every screen in one browser context, writing `<screen>--<variant>.png` and running axe. */
async function walk(page: Page, variant: string, out: string, findings: Finding[], admin: ApiSession) {
  const shot = async (screen: (typeof SCREENS)[number]) => {
    await page.waitForTimeout(400); // fonts, the virtual list's measuring, transitions
    const file = `${String(SCREENS.indexOf(screen) + 1).padStart(2, '0')}-${screen}--${variant}.png`;
    await page.screenshot({ path: join(out, file) });
    const results = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    const violations = results.violations.map(
      (v) =>
        `${v.id} (${v.impact ?? 'n/a'}): ${v.help} — ${v.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
    findings.push({ file, violations });
    console.log(`${violations.length === 0 ? 'ok  ' : 'FAIL'} ${file}`);
    for (const violation of violations) console.log(`       ${violation}`);
  };
  const phone = variant.startsWith('phone');

  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await shot('sign-in');

  await signIn(page, ANA);
  await page.getByRole('link', { name: new RegExp(ARABIC.name) }).waitFor();
  await shot('inbox');

  await page.getByRole('link', { name: new RegExp(ARABIC.name) }).click();
  await page.getByRole('heading', { level: 2, name: ARABIC.name }).waitFor();
  await shot('conversation');

  const toggle = page.getByRole('button', { name: 'Contact details' });
  if (await toggle.isVisible()) {
    await toggle.click();
    await page.getByRole('complementary', { name: 'Contact' }).waitFor();
    await shot('contact-drawer');
    await page.keyboard.press('Escape');
  }
  if (phone) await page.getByRole('button', { name: 'Back to inbox' }).click();

  await page.getByRole('link', { name: 'Boards' }).click();
  await page.getByRole('link', { name: 'Support' }).click();
  await page.getByRole('heading', { level: 2, name: 'Support' }).waitFor();
  await page.locator('[data-card-id]').first().waitFor();
  await shot('board');
  await page.locator('[data-card-id]').first().click();
  await page.locator('.board-panel').waitFor();
  await shot('card-panel');
  await page.keyboard.press('Escape'); // on a phone the sheet lies over the navigation

  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Your profile' }).waitFor();
  await shot('settings-agent');

  await signOut(page);
  await signIn(page, ADA);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Inboxes' }).waitFor();
  await shot('settings-admin');
  await page.locator('#dead-letters-heading').scrollIntoViewIfNeeded();
  await shot('dead-letters');
  await page.locator('#fault-heading').scrollIntoViewIfNeeded();
  await shot('fault-panel');

  // A WhatsApp outage: the reply stays "Sending", the agent is told why, the admin sees the retries.
  await admin.mutate('admin.channels.setFaults', { simulator: 'whatsapp', faults: { outage: true } });
  await page.getByRole('link', { name: 'Inbox' }).click();
  await page.getByRole('link', { name: /Maria Lopez/ }).click();
  await page.getByRole('textbox', { name: 'Reply' }).fill(`Checking on it now (${variant})`);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.getByText(/not answering/).waitFor({ timeout: 20_000 });
  await shot('reply-during-outage');
  if (phone) await page.getByRole('button', { name: 'Back to inbox' }).click();
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.locator('table.outbox-state').scrollIntoViewIfNeeded();
  await page
    .locator('table.outbox-state')
    .getByText(/retrying in/)
    .first()
    .waitFor();
  await shot('fault-panel-retrying');
  await admin.mutate('admin.channels.clearFaults', {});
  await signOut(page);
}

async function main(): Promise<void> {
  const out = resolve(process.env.PARLEY_SCREENSHOTS_DIR ?? 'screenshots');
  mkdirSync(out, { recursive: true });
  for (const file of readdirSync(out)) if (file.endsWith('.png')) rmSync(join(out, file));
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-screenshots-'));
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  console.log(`Starting Parley on ${baseURL} (DATA_DIR ${dataDir})`);
  const server = await startServer(port, dataDir);
  const findings: Finding[] = [];
  try {
    const admin = new ApiSession(baseURL);
    await admin.signIn(ADA);
    const secret = await demoWhatsAppSecret(admin);
    await whatsAppCustomerWrites(baseURL, secret, LONG);
    await whatsAppCustomerWrites(baseURL, secret, ARABIC);
    for (const channelId of ['telegram', 'messenger', 'instagram']) {
      await admin.mutate('admin.channels.customerMessage', { channelId }).catch(() => undefined);
    }
    const browser = await chromium.launch(CHROMIUM_LAUNCH);
    try {
      for (const variant of VARIANTS) {
        const context = await browser.newContext({ ...variant.options, baseURL, reducedMotion: 'reduce' });
        await walk(await context.newPage(), variant.name, out, findings, admin);
        await context.close();
      }
    } finally {
      await browser.close();
    }
  } finally {
    server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
  const failing = findings.filter((finding) => finding.violations.length > 0);
  console.log(`\n${findings.length} screenshots in ${out}`);
  if (failing.length > 0) {
    console.log(
      `axe found violations on ${failing.length} of them: ${failing.map((f) => f.file).join(', ')}`,
    );
    process.exitCode = 1;
  } else {
    console.log('axe: no violations on any screen');
  }
}

await main();
