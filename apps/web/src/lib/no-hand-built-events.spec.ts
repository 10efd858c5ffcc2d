// @vitest-environment node
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DOMAIN_EVENT_TYPES } from '@parley/domain';
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

/**
 * Decision 0019: the PWA never constructs a domain event itself; it runs the domain's `decide`.
 * The lint rule `no-restricted-syntax` (eslint.config.mjs, `NO_HAND_BUILT_EVENTS`) enforces it
 * over apps/web's sources; these tests prove the rule is on for them and fires on every event type.
 */

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const SOURCE = 'apps/web/src/lib/outbox/flusher.ts';

/** The `no-restricted-syntax` entries ESLint applies to `file`, from the repository's config. */
async function restrictedSyntaxFor(file: string): Promise<Linter.RuleEntry> {
  const config = (await new ESLint({ cwd: root }).calculateConfigForFile(file)) as Linter.Config;
  const entry = config.rules?.['no-restricted-syntax'];
  if (!entry) throw new Error(`no-restricted-syntax is off for ${file}`);
  return entry;
}

/** What the rule says about `code`, as it applies to `file` (parsed without type information). */
async function lint(code: string, file = SOURCE): Promise<string[]> {
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify(
    code,
    {
      files: ['**/*.{ts,tsx}'],
      languageOptions: { parser: tseslint.parser },
      rules: { 'no-restricted-syntax': await restrictedSyntaxFor(file) },
    },
    { filename: file.endsWith('.tsx') ? 'sample.tsx' : 'sample.ts' },
  );
  return messages.map((message) => (message.fatal ? `cannot parse: ${message.message}` : message.message));
}

const HAND_BUILT = /Don't build a domain event by hand/;

describe('no hand-built events in the PWA', () => {
  it('[14.2] lints every event type the domain declares, and no other', async () => {
    // The config is JavaScript without types: imported by URL, its list read as strings.
    const config = (await import(new URL('eslint.config.mjs', pathToFileURL(root)).href)) as {
      readonly DOMAIN_EVENT_TYPES: readonly string[];
    };
    expect([...config.DOMAIN_EVENT_TYPES].sort()).toEqual([...DOMAIN_EVENT_TYPES].sort());
  });

  it('[14.2] flags an object literal typed as any domain event in PWA sources', async () => {
    for (const type of DOMAIN_EVENT_TYPES) {
      const messages = await lint(`export const event = { type: '${type}', data: { at: 1 } };`);
      expect(messages, type).toEqual([expect.stringMatching(HAND_BUILT)]);
    }
  });

  it('[14.2] flags the provisional reply the outbox used to build, in its disguises', async () => {
    const samples = [
      // What apps/web/src/lib/outbox/flusher.ts did before decision 0019.
      `const row = { id: 'provisional-1', type: 'ReplyQueued', data: { clientMessageId: 'm1' } };`,
      `const event = { type: 'ReplyQueued' as const, data: {} };`,
      `const event = { 'type': 'NoteAdded', data: {} };`,
      'const event = { type: `LabelAdded`, data: {} };',
      `const event = { type: done ? 'StatusChanged' : 'PriorityChanged', data: {} };`,
    ];
    for (const sample of samples) {
      expect(await lint(sample), sample).toContainEqual(expect.stringMatching(HAND_BUILT));
    }
  });

  it('[14.2] leaves commands, content and comparisons alone', async () => {
    const samples = [
      `const command = { type: 'QueueReply', data: { clientMessageId: 'm1' } };`,
      `const content = { type: 'text', text: 'hello' };`,
      `const isReply = event.type === 'ReplyQueued';`,
      `switch (event.type) { case 'ReplyQueued': break; }`,
    ];
    for (const sample of samples) expect(await lint(sample), sample).toEqual([]);
  });

  it('[14.2] lets tests play the server and build events', async () => {
    const messages = await lint(
      `export const event = { type: 'ReplyQueued', data: {} };`,
      'apps/web/src/lib/outbox/outbox.spec.ts',
    );
    expect(messages).toEqual([]);
  });

  it('[14.2] no PWA source builds an event itself', async () => {
    const sources = readdirSync(join(root, 'apps/web/src'), { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.tsx?$/.test(file) && !/\.(spec|test)\.tsx?$/.test(file))
      .filter((file) => !file.startsWith(`test${sep}`))
      .map((file) => join('apps/web/src', file));
    expect(sources).toContain(SOURCE);
    const found: string[] = [];
    for (const file of sources) {
      const messages = await lint(readFileSync(join(root, file), 'utf8'), file);
      found.push(...messages.map((message) => `${file}: ${message}`));
    }
    expect(found).toEqual([]);
  });
});
