import type { Platform } from '../platforms/policy';
import type { EpochMs } from '../shared/ids';

/** The platforms an admin connects from Settings. */
export const CONNECTABLE_PLATFORMS = ['whatsapp', 'messenger', 'instagram', 'telegram', 'webchat'] as const;

/** One credential a platform needs, as the admin types it. */
export interface CredentialField {
  readonly key: string;
  readonly label: string;
  /** What a well-formed value looks like; the platform still has the last word. */
  readonly pattern: RegExp;
  readonly hint: string;
}

const META_SECRET: CredentialField = {
  key: 'appSecret',
  label: 'App secret',
  pattern: /^[A-Za-z0-9]{16,128}$/,
  hint: "the Meta app's secret (App settings › Basic): 16 or more letters and digits; it signs every webhook",
};
const ACCESS_TOKEN = (label: string): CredentialField => ({
  key: 'accessToken',
  label,
  pattern: /^\S{8,1024}$/,
  hint: 'the long-lived token the platform gave you, without spaces',
});

/** CS1: the credentials each platform needs, read the way its sender and signature check read them. */
export const CREDENTIAL_FIELDS: Readonly<Record<Platform, readonly CredentialField[]>> = {
  whatsapp: [
    {
      key: 'phoneNumberId',
      label: 'Phone number ID',
      pattern: /^\d{5,20}$/,
      hint: 'the digits WhatsApp Manager shows as "Phone number ID" (not the phone number)',
    },
    ACCESS_TOKEN('Access token'),
    META_SECRET,
  ],
  messenger: [
    { key: 'pageId', label: 'Page ID', pattern: /^\d{5,20}$/, hint: "the Facebook page's numeric id" },
    ACCESS_TOKEN('Page access token'),
    META_SECRET,
  ],
  instagram: [
    {
      key: 'accountId',
      label: 'Instagram account ID',
      pattern: /^\d{5,20}$/,
      hint: 'the numeric id of the Instagram professional account',
    },
    ACCESS_TOKEN('Access token'),
    META_SECRET,
  ],
  telegram: [
    {
      key: 'botToken',
      label: 'Bot token',
      pattern: /^\d{3,15}:[A-Za-z0-9_-]{10,100}$/,
      hint: 'the token @BotFather gave you: digits, a colon, then letters',
    },
  ],
  webchat: [],
};

/** A refusal of a channel setting: a stable code, the rule, and a sentence for the admin. */
export interface SetupProblem {
  readonly code:
    | 'CREDENTIALS_MISSING'
    | 'CREDENTIALS_MALFORMED'
    | 'CHANNEL_NAME_INVALID'
    | 'CHANNEL_NAME_TAKEN'
    | 'ORIGIN_INVALID'
    | 'WIDGET_INVALID';
  readonly rule: string;
  readonly message: string;
  /** The field at fault, for the form. */
  readonly field?: string;
}

/**
 * CS1: what is wrong with the credentials given for a platform: every field it needs, present and
 * well formed; fields it does not read are ignored. Empty when they will do.
 */
export function credentialProblems(
  platform: Platform,
  given: Readonly<Record<string, string | undefined>>,
): SetupProblem[] {
  const problems: SetupProblem[] = [];
  for (const field of CREDENTIAL_FIELDS[platform]) {
    const value = given[field.key]?.trim() ?? '';
    if (value === '') {
      problems.push({
        code: 'CREDENTIALS_MISSING',
        rule: 'CS1',
        field: field.key,
        message: `${field.label} is missing: ${field.hint}`,
      });
    } else if (!field.pattern.test(value)) {
      problems.push({
        code: 'CREDENTIALS_MALFORMED',
        rule: 'CS1',
        field: field.key,
        message: `${field.label} does not look right: ${field.hint}`,
      });
    }
  }
  return problems;
}

/** The longest channel name. */
export const CHANNEL_NAME_MAX = 80;

/**
 * CS2: a channel's name is 1 to 80 characters once trimmed, and no other channel of the tenant has
 * it, compared without case (`existing` are the tenant's other channels' names).
 */
export function channelNameProblem(name: string, existing: readonly string[]): SetupProblem | null {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > CHANNEL_NAME_MAX) {
    return {
      code: 'CHANNEL_NAME_INVALID',
      rule: 'CS2',
      field: 'name',
      message: `a channel's name has 1 to ${CHANNEL_NAME_MAX} characters`,
    };
  }
  const folded = trimmed.toLowerCase();
  if (existing.some((other) => other.trim().toLowerCase() === folded)) {
    return {
      code: 'CHANNEL_NAME_TAKEN',
      rule: 'CS2',
      field: 'name',
      message: `a channel named "${trimmed}" exists already: choose another name`,
    };
  }
  return null;
}

const ORIGIN =
  /^(https?):\/\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?\/?$/;

/**
 * CS3: a web page's origin as a browser sends it: `http` or `https`, a host, an optional port,
 * nothing else (no path, query, user or wildcard). Normalised to lower case without the scheme's
 * default port or a trailing slash; null when it is not an origin.
 */
export function normalizeOrigin(value: string): string | null {
  const match = ORIGIN.exec(value.trim().toLowerCase());
  if (!match) return null;
  const [, scheme, host, port] = match as unknown as [string, string, string, string | undefined];
  if (port !== undefined) {
    const number = Number(port);
    if (number < 1 || number > 65_535) return null;
    if ((scheme === 'http' && number === 80) || (scheme === 'https' && number === 443)) {
      return `${scheme}://${host}`;
    }
    return `${scheme}://${host}:${number}`;
  }
  return `${scheme}://${host}`;
}

/** How a web chat widget looks and what it asks first. */
export interface WidgetSettings {
  /** `#rrggbb`: the button and the visitor's bubbles. */
  readonly colour: string;
  /** The first line the visitor reads when the chat opens. */
  readonly greeting: string;
  /** The pre-chat form: which fields the visitor fills in before the first message. */
  readonly preChat: { readonly name: boolean; readonly email: boolean };
  /** The only pages' origins the widget works from; empty: any site. */
  readonly allowedOrigins: readonly string[];
}

export const DEFAULT_WIDGET_SETTINGS: WidgetSettings = {
  colour: '#2d5bff',
  greeting: 'Hi! How can we help?',
  preChat: { name: false, email: false },
  allowedOrigins: [],
};

export const GREETING_MAX = 280;
export const MAX_ALLOWED_ORIGINS = 20;

/**
 * CS4: a colour is `#rrggbb`, a greeting at most 280 characters, at most 20 allowed origins and
 * each an origin (CS3). Returns the settings normalised (origins lower case, de-duplicated), or
 * the problems.
 */
export function checkWidgetSettings(
  settings: WidgetSettings,
):
  | { readonly ok: true; readonly settings: WidgetSettings }
  | { readonly ok: false; readonly problems: SetupProblem[] } {
  const problems: SetupProblem[] = [];
  if (!/^#[0-9a-fA-F]{6}$/.test(settings.colour)) {
    problems.push({
      code: 'WIDGET_INVALID',
      rule: 'CS4',
      field: 'colour',
      message: `the colour is #rrggbb, like #2d5bff, not "${settings.colour}"`,
    });
  }
  const greeting = settings.greeting.trim();
  if (greeting.length > GREETING_MAX) {
    problems.push({
      code: 'WIDGET_INVALID',
      rule: 'CS4',
      field: 'greeting',
      message: `the greeting has at most ${GREETING_MAX} characters`,
    });
  }
  if (settings.allowedOrigins.length > MAX_ALLOWED_ORIGINS) {
    problems.push({
      code: 'WIDGET_INVALID',
      rule: 'CS4',
      field: 'allowedOrigins',
      message: `at most ${MAX_ALLOWED_ORIGINS} allowed origins`,
    });
  }
  const origins: string[] = [];
  for (const value of settings.allowedOrigins) {
    const origin = normalizeOrigin(value);
    if (origin === null) {
      problems.push({
        code: 'ORIGIN_INVALID',
        rule: 'CS3',
        field: 'allowedOrigins',
        message: `"${value}" is not an origin: write scheme, host and port only, like https://shop.example.com`,
      });
    } else if (!origins.includes(origin)) origins.push(origin);
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      colour: settings.colour.toLowerCase(),
      greeting,
      preChat: { name: settings.preChat.name, email: settings.preChat.email },
      allowedOrigins: origins,
    },
  };
}

/**
 * CS5: whether the widget takes a post from a page of `origin`: any when no origins are set;
 * otherwise the listed ones and the widget server's own pages (its preview). A request without an
 * `Origin` header is no browser's cross-site post, which is all an origin list can stop.
 */
export function isOriginAllowed(
  origin: string | undefined,
  allowed: readonly string[],
  serverOrigin: string | null,
): boolean {
  if (allowed.length === 0 || origin === undefined) return true;
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false;
  if (serverOrigin !== null && normalized === normalizeOrigin(serverOrigin)) return true;
  return allowed.includes(normalized);
}

/** What an admin changed on a channel: recorded on the channel's stream with the admin as actor. */
export type ChannelSetupEvent =
  | {
      readonly type: 'ChannelConnected';
      readonly data: {
        readonly channelId: string;
        readonly platform: Platform;
        readonly name: string;
        readonly inboxId: string;
        readonly appId: string;
        readonly target: 'simulator' | 'platform';
        /** The credentials saved, by field name: never their values (CS6). */
        readonly credentials: readonly string[];
        readonly by: string;
        readonly at: EpochMs;
      };
    }
  | {
      readonly type: 'ChannelCredentialsReplaced';
      readonly data: {
        readonly channelId: string;
        readonly credentials: readonly string[];
        readonly by: string;
        readonly at: EpochMs;
      };
    }
  | {
      readonly type: 'WidgetConfigured';
      readonly data: {
        readonly channelId: string;
        readonly settings: WidgetSettings;
        readonly by: string;
        readonly at: EpochMs;
      };
    }
  | {
      readonly type: 'WebhookSecretRotated';
      readonly data: {
        readonly channelId: string | null;
        readonly appId: string;
        readonly graceHours: number;
        readonly by: string;
        readonly at: EpochMs;
      };
    };

/** A connection an admin asks for, credentials included (they never reach an event). */
export interface ConnectChannel {
  readonly channelId: string;
  readonly appId: string;
  readonly platform: Platform;
  readonly name: string;
  readonly inboxId: string;
  readonly target: 'simulator' | 'platform';
  readonly credentials: Readonly<Record<string, string | undefined>>;
  readonly by: string;
  readonly at: EpochMs;
}

/**
 * CS6: decides a connection against the tenant's other channels' names: the problems (CS1, CS2),
 * or the `ChannelConnected` naming the credential fields saved and none of their values.
 */
export function decideConnectChannel(
  command: ConnectChannel,
  existingNames: readonly string[],
):
  | { readonly ok: true; readonly event: ChannelSetupEvent }
  | { readonly ok: false; readonly problems: SetupProblem[] } {
  const problems = [
    ...[channelNameProblem(command.name, existingNames)].filter((p): p is SetupProblem => p !== null),
    ...credentialProblems(command.platform, command.credentials),
  ];
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    event: {
      type: 'ChannelConnected',
      data: {
        channelId: command.channelId,
        platform: command.platform,
        name: command.name.trim(),
        inboxId: command.inboxId,
        appId: command.appId,
        target: command.target,
        credentials: CREDENTIAL_FIELDS[command.platform].map((field) => field.key),
        by: command.by,
        at: command.at,
      },
    },
  };
}
