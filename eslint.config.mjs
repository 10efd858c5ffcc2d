// @ts-check
import js from '@eslint/js';
import vitest from '@vitest/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Every rule's `no-restricted-syntax` entries start with these. */
const NAMED_EXPORTS = {
  selector: 'ExportAllDeclaration[exported=null]',
  message: 'Name what a module re-exports; no `export *`.',
};

/**
 * The domain's event types (`DOMAIN_EVENT_TYPES` in packages/domain/src/event-types.ts; this config
 * cannot import TypeScript). apps/web/src/lib/no-hand-built-events.spec.ts fails when they differ.
 */
export const DOMAIN_EVENT_TYPES = [
  'ConversationStarted',
  'CycleStarted',
  'CycleEnded',
  'InboundMessageReceived',
  'ReplyQueued',
  'ReplySending',
  'ReplySent',
  'ReplyFailed',
  'ReplyDelivered',
  'ReplyRead',
  'NoteAdded',
  'LabelAdded',
  'LabelRemoved',
  'ConversationAssigned',
  'ConversationUnassigned',
  'StatusChanged',
  'PriorityChanged',
  'ConversationRead',
  'InboxCreated',
  'MemberAdded',
  'MemberRemoved',
  'PresenceChanged',
  'CapacityChanged',
  'WeightChanged',
  'AssignmentPolicyChanged',
  'ConversationQueued',
  'AgentAssigned',
  'ConversationReleased',
  'ConversationDequeued',
  'WorkflowCreated',
  'WorkflowRevised',
  'CardEnteredWorkflow',
  'CardMoved',
  'CardReordered',
  'ContactErased',
  'ContactExported',
  'ContactNoteAdded',
  'ChannelConnected',
  'ChannelCredentialsReplaced',
  'WidgetConfigured',
  'WebhookSecretRotated',
];

const EVENT_TYPE_NAME = `/^(?:${DOMAIN_EVENT_TYPES.join('|')})$/`;
const TYPE_PROPERTY = "Property:matches([key.name='type'], [key.value='type'])";

/**
 * An object literal whose `type` is a domain event's type: an event built by hand. The PWA gets its
 * events from the domain's `decide` (decision 0019).
 */
export const NO_HAND_BUILT_EVENTS = {
  selector: [
    `${TYPE_PROPERTY} > Literal[value=${EVENT_TYPE_NAME}]`,
    `${TYPE_PROPERTY} > :matches(TSAsExpression, TSSatisfiesExpression, ConditionalExpression) > Literal[value=${EVENT_TYPE_NAME}]`,
    `${TYPE_PROPERTY} > TemplateLiteral > TemplateElement[value.cooked=${EVENT_TYPE_NAME}]`,
  ].join(', '),
  message:
    "Don't build a domain event by hand: run the domain's `decide` on a command (apps/web/src/lib/decide.ts, decision 0019).",
};

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.astro/**',
      'server/src/generated/**',
      'data/**',
      'test-results/**',
      'playwright-report/**',
      '.stryker-tmp/**',
      'reports/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', NAMED_EXPORTS],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The domain is pure: it never touches I/O, the clock, or another layer.
    files: ['packages/domain/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'crypto', 'http'], message: 'The domain does no I/O.' },
            { group: ['@prisma/*', 'pg', '@electric-sql/*'], message: 'The domain knows no database.' },
            {
              group: ['yjs', 'y-*', 'react', 'react-dom', 'dexie'],
              message: 'The domain knows no UI or CRDT.',
            },
            {
              group: ['@parley/server*', '**/server/**', '@parley/web*'],
              message: 'The domain imports no other layer.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Date', message: 'Time is an input: pass it in.' },
        { name: 'window', message: 'The domain runs in no browser.' },
        { name: 'process', message: 'The domain runs in no process.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Randomness and ids are inputs: pass them in.' },
      ],
    },
  },
  {
    // Other packages use each other only through their `exports`.
    files: ['server/**/*.ts', 'apps/**/*.{ts,tsx}', 'e2e/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/packages/*/src/**', '@parley/*/src/**'],
              message: 'Import a package by its name, not its files.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/web/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The PWA's events come from the domain's deciders; tests may play the server and build them.
    files: ['apps/web/**/*.{ts,tsx}'],
    ignores: ['**/*.spec.{ts,tsx}', '**/*.test.{ts,tsx}', 'apps/web/src/test/**'],
    rules: { 'no-restricted-syntax': ['error', NAMED_EXPORTS, NO_HAND_BUILT_EVENTS] },
  },
  {
    files: ['**/*.spec.ts', '**/*.test.ts', 'e2e/**/*.ts'],
    plugins: { vitest },
    rules: {
      'vitest/no-focused-tests': 'error',
      'vitest/no-identical-title': 'error',
    },
  },
);
