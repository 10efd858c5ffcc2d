import type { EpochMs } from '../shared/ids';
import { characterCount, utf8ByteLength } from '../shared/text';

export type Platform = 'whatsapp' | 'instagram' | 'messenger' | 'telegram' | 'webchat';
export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';
/** Meta's message tag that lets a human agent answer after the standard window. */
export type MessageTag = 'HUMAN_AGENT';

/** A file a message carries, stored elsewhere and referenced by URL; `size` is in bytes. */
export type MediaRef = { kind: MediaKind; url: string; mime: string; size: number };

/** What both sides can send: text, or a file with an optional caption. */
export type MessageContent =
  { type: 'text'; text: string } | { type: 'media'; media: MediaRef; caption: string | null };

/** A place the customer shared (degrees; rule CV13 bounds them). */
export type LocationContent = {
  type: 'location';
  latitude: number;
  longitude: number;
  name: string | null;
  address: string | null;
};

/** The customer's reaction to a message (`messageId`, the platform's id); `emoji` null removes it. */
export type ReactionContent = { type: 'reaction'; emoji: string | null; messageId: string };

/**
 * A message type Parley cannot show: kept with the platform's own type, shown as "unsupported message".
 * `raw` is the platform's value as JSON when a known type came with a field of the wrong JSON type
 * (rule TX2), so the agent sees what was sent.
 */
export type UnsupportedContent = { type: 'unsupported'; sourceType: string; raw?: string };

/** What a customer can send us (rule CV13): every kind is stored, none is dropped. */
export type InboundContent = MessageContent | LocationContent | ReactionContent | UnsupportedContent;

/** What an agent can send back: text, media, or a pre-approved template with its parameters. */
export type ReplyContent =
  MessageContent | { type: 'template'; name: string; language: string; params: string[] };

/** One entry of the template catalogue the caller passes in (the domain never loads it). */
export type MessageTemplate = {
  readonly name: string;
  readonly language: string;
  readonly approved: boolean;
  readonly paramCount: number;
};

export type MediaLimit = { readonly mimeTypes: readonly string[]; readonly maxBytes: number };

/** A platform's rules as data; each part names the RULES.md id its refusals carry. */
export interface PlatformPolicy {
  readonly platform: Platform;
  readonly name: string;
  /** The customer service window after the customer's last message, or null when we may write any time. */
  readonly window: { readonly ms: number; readonly rule: string } | null;
  /** How long a reply tagged HUMAN_AGENT may still be sent, or null when the platform has no such tag. */
  readonly humanAgentWindow: { readonly ms: number; readonly rule: string } | null;
  readonly text: { readonly max: number; readonly unit: 'characters' | 'utf8-bytes'; readonly rule: string };
  readonly templates: { readonly supported: boolean; readonly rule: string };
  readonly media: { readonly kinds: Readonly<Partial<Record<MediaKind, MediaLimit>>>; readonly rule: string };
  readonly reactions: boolean;
  readonly readReceipts: boolean;
  readonly typingIndicators: boolean;
}

/** What a UI may offer on a platform. */
export interface Capabilities {
  readonly templates: boolean;
  readonly reactions: boolean;
  readonly readReceipts: boolean;
  readonly typingIndicators: boolean;
  readonly mediaKinds: readonly MediaKind[];
}

export const ReplyRefusalCode = {
  TEXT_EMPTY: 'TEXT_EMPTY',
  TEXT_TOO_LONG: 'TEXT_TOO_LONG',
  WINDOW_CLOSED: 'WINDOW_CLOSED',
  HUMAN_AGENT_WINDOW_CLOSED: 'HUMAN_AGENT_WINDOW_CLOSED',
  TEMPLATE_NOT_SUPPORTED: 'TEMPLATE_NOT_SUPPORTED',
  TEMPLATE_NOT_FOUND: 'TEMPLATE_NOT_FOUND',
  TEMPLATE_NOT_APPROVED: 'TEMPLATE_NOT_APPROVED',
  TEMPLATE_PARAMS_MISSING: 'TEMPLATE_PARAMS_MISSING',
  TEMPLATE_PARAMS_MISMATCH: 'TEMPLATE_PARAMS_MISMATCH',
  MEDIA_TYPE_NOT_SUPPORTED: 'MEDIA_TYPE_NOT_SUPPORTED',
  MEDIA_TOO_LARGE: 'MEDIA_TOO_LARGE',
} as const;
export type ReplyRefusalCode = (typeof ReplyRefusalCode)[keyof typeof ReplyRefusalCode];

/** Why a platform would reject a reply, and what the agent can do instead. */
export type ReplyRefusal = {
  readonly ok: false;
  readonly code: ReplyRefusalCode;
  readonly rule: string;
  readonly message: string;
  readonly hint: string;
};
export type ReplyCheck = { readonly ok: true } | ReplyRefusal;

/** Everything `validateReply` looks at: the reply, when the customer last wrote, the clock and the catalogue. */
export type ReplyContext = {
  readonly content: ReplyContent;
  readonly tag: MessageTag | null;
  readonly lastCustomerMessageAt: EpochMs | null;
  readonly now: EpochMs;
  readonly templates: readonly MessageTemplate[];
};

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;
/** Platforms' "MB", read as decimal megabytes: the stricter reading, so we refuse before they do. */
export const MB = 1_000_000;
export const KB = 1_000;

export const DOCUMENT_MIME_TYPES = [
  'text/plain',
  'application/pdf',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
] as const;

const OK: ReplyCheck = { ok: true };

/** Checks a reply against a platform's rules: template support first, then the window, then the content. */
export function validateReply(policy: PlatformPolicy, context: ReplyContext): ReplyCheck {
  return (
    refuseUnsupportedTemplate(policy, context.content) ??
    refuseOutsideWindow(policy, context) ??
    refuseContent(policy, context) ??
    OK
  );
}

/** Only the window part of `validateReply`: for a reply queued earlier, whose content was already checked. */
export function checkWindow(policy: PlatformPolicy, context: Omit<ReplyContext, 'templates'>): ReplyCheck {
  return refuseOutsideWindow(policy, context) ?? OK;
}

/** Only the media part of `validateReply`: a file's kind, type and size against the platform's limits. */
export function checkMedia(policy: PlatformPolicy, media: MediaRef): ReplyCheck {
  return refuseMedia(policy, media) ?? OK;
}

/** When the standard window closes, for a countdown; null when the platform has no window or the customer never wrote. */
export function windowDeadline(
  policy: PlatformPolicy,
  lastCustomerMessageAt: EpochMs | null,
): EpochMs | null {
  return policy.window && lastCustomerMessageAt !== null ? lastCustomerMessageAt + policy.window.ms : null;
}

/** When even a HUMAN_AGENT reply is no longer allowed; null when the platform has no such tag or the customer never wrote. */
export function humanAgentDeadline(
  policy: PlatformPolicy,
  lastCustomerMessageAt: EpochMs | null,
): EpochMs | null {
  return policy.humanAgentWindow && lastCustomerMessageAt !== null
    ? lastCustomerMessageAt + policy.humanAgentWindow.ms
    : null;
}

/** The features a UI may offer on the policy's platform. */
export function capabilitiesOf(policy: PlatformPolicy): Capabilities {
  return {
    templates: policy.templates.supported,
    reactions: policy.reactions,
    readReceipts: policy.readReceipts,
    typingIndicators: policy.typingIndicators,
    mediaKinds: (Object.keys(policy.media.kinds) as MediaKind[]).filter((kind) => policy.media.kinds[kind]),
  };
}

/** The tag as it should be stored and sent: dropped on platforms where it means nothing. */
export function effectiveTag(policy: PlatformPolicy, tag: MessageTag | null): MessageTag | null {
  return policy.humanAgentWindow ? tag : null;
}

function refusal(code: ReplyRefusalCode, rule: string, message: string, hint: string): ReplyRefusal {
  return { ok: false, code, rule, message, hint };
}

function refuseUnsupportedTemplate(policy: PlatformPolicy, content: ReplyContent): ReplyRefusal | null {
  if (content.type !== 'template' || policy.templates.supported) return null;
  return refusal(
    'TEMPLATE_NOT_SUPPORTED',
    policy.templates.rule,
    `${policy.name} has no message templates`,
    'send a text or media reply instead',
  );
}

function refuseOutsideWindow(
  policy: PlatformPolicy,
  context: Omit<ReplyContext, 'templates'>,
): ReplyRefusal | null {
  const { window, humanAgentWindow } = policy;
  const last = context.lastCustomerMessageAt;
  if (!window || context.content.type === 'template') return null;
  // The time since the customer wrote, null if never: compared as `age !== null && age < limit`, so
  // a never-written conversation stays closed without relying on `null + ms` arithmetic.
  const age = last === null ? null : context.now - last;
  if (age !== null && age < window.ms) return null;
  const since = age === null ? 'the customer has not written yet' : `the customer last wrote ${ago(age)} ago`;
  if (humanAgentWindow && age !== null && age < humanAgentWindow.ms) {
    if (context.tag === 'HUMAN_AGENT') return null;
    return refusal(
      'WINDOW_CLOSED',
      window.rule,
      `${policy.name}'s ${ago(window.ms)} window is closed: ${since}`,
      `tag the reply HUMAN_AGENT: a human agent may answer up to ${ago(humanAgentWindow.ms)} after the customer's last message`,
    );
  }
  if (humanAgentWindow) {
    return refusal(
      'HUMAN_AGENT_WINDOW_CLOSED',
      humanAgentWindow.rule,
      `${policy.name} allows no reply, even from a human agent, more than ${ago(humanAgentWindow.ms)} after the customer's last message: ${since}`,
      'wait for the customer to write again',
    );
  }
  return refusal(
    'WINDOW_CLOSED',
    window.rule,
    `${policy.name}'s ${ago(window.ms)} window is closed: ${since}`,
    policy.templates.supported ? 'send an approved template' : 'wait for the customer to write again',
  );
}

function refuseContent(policy: PlatformPolicy, context: ReplyContext): ReplyRefusal | null {
  const { content } = context;
  switch (content.type) {
    case 'text':
      return refuseText(policy, content.text);
    case 'media':
      return (
        refuseMedia(policy, content.media) ?? (content.caption ? refuseText(policy, content.caption) : null)
      );
    case 'template':
      return refuseTemplate(policy, content, context.templates);
  }
}

type TextUnit = PlatformPolicy['text']['unit'];
/** How each text unit is counted and named: one entry per unit, so none falls into another's branch. */
const TEXT_UNITS: Record<TextUnit, { count: (text: string) => number; name: string }> = {
  characters: { count: characterCount, name: 'characters' },
  'utf8-bytes': { count: utf8ByteLength, name: 'bytes of UTF-8' },
};

function refuseText(policy: PlatformPolicy, text: string): ReplyRefusal | null {
  if (text.trim() === '') return refusal('TEXT_EMPTY', 'PL1', 'the reply is empty', 'write something first');
  const { max, unit, rule } = policy.text;
  const { count, name: units } = TEXT_UNITS[unit];
  const length = count(text);
  if (length <= max) return null;
  return refusal(
    'TEXT_TOO_LONG',
    rule,
    `the text is ${length} ${units}; ${policy.name} allows ${max}`,
    `shorten it to ${max} ${units} or split it into several messages`,
  );
}

function refuseMedia(policy: PlatformPolicy, media: MediaRef): ReplyRefusal | null {
  const { rule, kinds } = policy.media;
  const limit = kinds[media.kind];
  const mime = baseMime(media.mime);
  if (!limit) {
    return refusal(
      'MEDIA_TYPE_NOT_SUPPORTED',
      rule,
      `${policy.name} does not accept ${media.kind} messages`,
      `send one of: ${capabilitiesOf(policy).mediaKinds.join(', ')}`,
    );
  }
  if (!limit.mimeTypes.includes(mime)) {
    return refusal(
      'MEDIA_TYPE_NOT_SUPPORTED',
      rule,
      `${policy.name} does not accept ${mime} as ${media.kind}`,
      `convert it to one of ${limit.mimeTypes.join(', ')}`,
    );
  }
  if (media.size > limit.maxBytes) {
    return refusal(
      'MEDIA_TOO_LARGE',
      rule,
      `the ${media.kind} is ${media.size} bytes; ${policy.name} accepts up to ${limit.maxBytes}`,
      `compress it below ${limit.maxBytes} bytes or share a link`,
    );
  }
  return null;
}

function refuseTemplate(
  policy: PlatformPolicy,
  content: Extract<ReplyContent, { type: 'template' }>,
  catalogue: readonly MessageTemplate[],
): ReplyRefusal | null {
  const { rule } = policy.templates;
  const label = `template ${content.name} (${content.language})`;
  const template = catalogue.find((t) => t.name === content.name && t.language === content.language);
  if (!template) {
    return refusal('TEMPLATE_NOT_FOUND', rule, `${label} is not in the catalogue`, 'pick another template');
  }
  if (!template.approved) {
    return refusal('TEMPLATE_NOT_APPROVED', rule, `${label} is not approved`, 'pick an approved template');
  }
  const filled = content.params.filter((param) => param.trim() !== '').length;
  if (content.params.length < template.paramCount || filled < content.params.length) {
    return refusal(
      'TEMPLATE_PARAMS_MISSING',
      rule,
      `${label} needs ${template.paramCount} parameters, ${filled} filled`,
      'fill in every parameter',
    );
  }
  if (content.params.length > template.paramCount) {
    return refusal(
      'TEMPLATE_PARAMS_MISMATCH',
      rule,
      `${label} takes ${template.paramCount} parameters, got ${content.params.length}`,
      'remove the extra parameters',
    );
  }
  return null;
}

/** `audio/OGG; codecs=opus` -> `audio/ogg`. */
function baseMime(mime: string): string {
  const end = mime.indexOf(';');
  return (end === -1 ? mime : mime.slice(0, end)).trim().toLowerCase();
}

function ago(ms: number): string {
  if (ms >= 2 * DAY_MS) return `${Math.floor(ms / DAY_MS)} days`;
  return ms >= HOUR_MS ? `${Math.floor(ms / HOUR_MS)} h` : `${Math.floor(ms / 60_000)} min`;
}
