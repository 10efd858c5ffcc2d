import {
  characterCount,
  checkWindow,
  policyFor,
  utf8ByteLength,
  type MediaKind,
  type Platform,
  type PlatformPolicy,
  type ReplyContent,
} from '@parley/domain';
import { useEffect, useId, useRef, useState, type Ref } from 'react';
import { keepFile, readPickedFile, type LocalFile } from '../lib/attachments';
import type { Refusal } from '../lib/db/schema';
import { explainRefusal } from '../lib/decide';
import { useLiveQuery } from '../lib/hooks';
import { newId } from '../lib/ids';
import type { AgentInfo, CannedResponse, Session, TemplateInfo } from '../lib/session';
import '../styles/media.css';
import '../styles/composer.css';
import { AttachedFile, AttachmentPicker } from './AttachmentPicker';
import { CannedMenu, useCannedMenu } from './CannedMenu';
import { LineIcon } from './LineIcon';
import { TemplatePicker } from './TemplatePreview';
import { CollisionWarning, useCollisionGuard } from './Presence';

/** The agents a note mentions: `@id` or `@FirstName` of a known agent, each once. */
export function mentionsIn(text: string, agents: readonly AgentInfo[]): string[] {
  const found = new Set<string>();
  for (const [, handle] of text.matchAll(/@([\p{L}\p{N}_.-]+)/gu)) {
    const wanted = handle!.toLowerCase();
    const agent = agents.find(
      (candidate) =>
        candidate.id.toLowerCase() === wanted || candidate.name.split(/\s+/)[0]?.toLowerCase() === wanted,
    );
    if (agent) found.add(agent.id);
  }
  return [...found];
}

const EMOJI = ['😀', '🙂', '😉', '🙏', '👍', '👋', '🎉', '❤️', '✅', '📦', '⏳', '😢'];

/** What the composer is asked to put in its box (an "edit" of a queued reply) or to open. */
export interface ComposerRequest {
  readonly text?: string;
  readonly templates?: boolean;
  readonly nonce: number;
}

/**
 * The reply box. The domain's rules run here before anything is queued: a closed window asks for
 * an approved template, and the counter shows the platform's length limit.
 */
export function Composer({
  session,
  conversationId,
  platform,
  lastCustomerMessageAt,
  now,
  request,
  textareaRef,
  online,
}: {
  session: Session;
  conversationId: string;
  platform: Platform;
  lastCustomerMessageAt: number | null;
  now: number;
  request: ComposerRequest | null;
  textareaRef: Ref<HTMLTextAreaElement>;
  online: boolean;
}) {
  const { db } = session;
  const policy = policyFor(platform);
  const [text, setText] = useState('');
  const guard = useCollisionGuard(conversationId, text);
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [panel, setPanel] = useState<'none' | 'templates' | 'emoji'>('none');
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [file, setFile] = useState<(LocalFile & { kind: MediaKind; url: string }) | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const templates = useLiveQuery(
    async () => ((await db.meta.get('templates'))?.value as TemplateInfo[] | undefined) ?? [],
    [db],
  );
  const agents = useLiveQuery(
    async () => ((await db.meta.get('agents'))?.value as AgentInfo[] | undefined) ?? [],
    [db],
  );
  const canned = useLiveQuery(
    async () => ((await db.meta.get('canned'))?.value as CannedResponse[] | undefined) ?? [],
    [db],
  );
  const counterId = useId();
  const menu = useCannedMenu(text, setText, canned ?? [], `${counterId}-text`);
  const loadedFor = useRef<string | null>(null);

  // The draft survives reloads and going offline.
  useEffect(() => {
    loadedFor.current = null;
    setRefusal(null);
    setNotice(null);
    setPanel('none');
    setFile(null);
    setFileError(null);
    void db.drafts.get(conversationId).then((draft) => {
      setText(draft?.text ?? '');
      loadedFor.current = conversationId;
    });
  }, [db, conversationId]);
  useEffect(() => {
    if (loadedFor.current !== conversationId) return;
    const timer = setTimeout(() => {
      void (text
        ? db.drafts.put({ conversationId, text, updatedAt: Date.now() })
        : db.drafts.delete(conversationId));
    }, 300);
    return () => clearTimeout(timer);
  }, [db, conversationId, text]);
  useEffect(() => {
    if (!request) return;
    if (request.text !== undefined) setText(request.text);
    if (request.templates) setPanel('templates');
  }, [request]);

  const windowCheck = checkWindow(policy, {
    content: { type: 'text', text: '.' },
    tag: null,
    lastCustomerMessageAt,
    now,
  });
  const windowClosed = !windowCheck.ok;
  const length = policy.text.unit === 'characters' ? characterCount(text) : utf8ByteLength(text);
  const over = length > policy.text.max;
  const unit = policy.text.unit === 'characters' ? 'characters' : 'bytes';

  async function send(content: ReplyContent) {
    setNotice(null);
    const result = await session.reply({ conversationId, platform, lastCustomerMessageAt }, content);
    if (!result.ok) {
      setRefusal(result);
      if (result.code === 'WINDOW_CLOSED' && policy.templates.supported) setPanel('templates');
      return false;
    }
    setRefusal(null);
    setPanel('none');
    return true;
  }

  async function submit(anyway = false) {
    if (mode === 'note') {
      if (!text.trim()) return;
      // Queued like a reply: offline too, decided by the domain first, shown at once as pending.
      const result = await session.command(
        { conversationId, platform, lastCustomerMessageAt },
        { type: 'AddNote', noteId: newId(), text, mentions: mentionsIn(text, agents ?? []) },
      );
      if (!result.ok) {
        setRefusal(result);
        return;
      }
      setRefusal(null);
      setText('');
      setNotice(online ? 'Note added.' : 'Note saved; it is shared with your team when you are back online.');
      return;
    }
    // Another agent typed in this conversation while this reply was written: ask first.
    if (!anyway && !guard.maySend()) return;
    if (file) {
      // The file waits on this device until the outbox uploads it, just before the reply.
      await keepFile(db, file);
      const media = { kind: file.kind, url: file.url, mime: file.mime, size: file.size };
      if (await send({ type: 'media', media, caption: text.trim() ? text : null })) {
        setText('');
        setFile(null);
      }
      return;
    }
    if (await send({ type: 'text', text })) setText('');
  }

  async function attach(picked: File) {
    setFileError(null);
    const read = await readPickedFile(picked, policy);
    if (!read.ok) {
      setFileError(read.message);
      return;
    }
    setFile({ ...read.file, kind: read.media.kind, url: read.media.url });
  }

  return (
    <section className="composer" aria-label="Reply">
      {windowClosed && mode === 'reply' ? (
        <div className="notice window-closed" role="status">
          <p>
            <strong>{windowCheck.message}.</strong>{' '}
            {policy.templates.supported
              ? 'Send an approved template to reopen the conversation.'
              : windowCheck.hint}
          </p>
          {policy.templates.supported && panel !== 'templates' ? (
            <button type="button" onClick={() => setPanel('templates')}>
              Choose a template
            </button>
          ) : null}
        </div>
      ) : null}
      {refusal ? (
        <p className="error" role="alert">
          {refusalSentence(refusal)}
        </p>
      ) : null}
      {notice ? (
        <p className="muted" role="status">
          {notice}
        </p>
      ) : null}
      {panel === 'templates' ? (
        <TemplatePicker
          templates={templates ?? []}
          onCancel={() => setPanel('none')}
          onSend={(content) => void send(content)}
        />
      ) : null}
      {panel === 'emoji' ? (
        <div className="emoji-grid" role="group" aria-label="Emoji">
          {EMOJI.map((emoji) => (
            <button
              key={emoji}
              type="button"
              className="ghost"
              aria-label={`Insert ${emoji}`}
              onClick={() => setText((t) => t + emoji)}
            >
              {emoji}
            </button>
          ))}
        </div>
      ) : null}
      <div className="composer-tools">
        <div className="mode-choice">
          <div role="group" aria-label="Message kind" className="segmented">
            <button type="button" aria-pressed={mode === 'reply'} onClick={() => setMode('reply')}>
              Reply
            </button>
            <button
              type="button"
              aria-pressed={mode === 'note'}
              aria-label="Private note"
              onClick={() => setMode('note')}
            >
              <span className="wide-only">Private note</span>
              <span className="phone-only">Note</span>
            </button>
          </div>
          {policy.templates.supported ? (
            <button
              type="button"
              className="ghost"
              aria-expanded={panel === 'templates'}
              onClick={() => setPanel(panel === 'templates' ? 'none' : 'templates')}
            >
              Templates
            </button>
          ) : null}
        </div>
        <button
          type="button"
          className="ghost tool"
          aria-label="Emoji"
          aria-expanded={panel === 'emoji'}
          onClick={() => setPanel(panel === 'emoji' ? 'none' : 'emoji')}
        >
          <LineIcon name="emoji" className="tool-icon" />
          <span className="tool-text">Emoji</span>
        </button>
        <button
          type="button"
          className="ghost tool"
          aria-label="Canned /"
          aria-keyshortcuts="/"
          // The same as typing `/`: the list opens at the caret, filtered as the shortcut is typed.
          onClick={() => menu.start()}
        >
          <LineIcon name="canned" className="tool-icon" />
          <span className="tool-text">Canned /</span>
        </button>
        {mode === 'reply' && policy.media.kinds ? (
          <AttachmentPicker
            accept={acceptOf(policy)}
            disabled={windowClosed}
            onPick={(picked) => void attach(picked)}
          />
        ) : null}
      </div>
      {fileError ? (
        <p className="error" role="alert">
          {fileError}
        </p>
      ) : null}
      {file && mode === 'reply' ? <AttachedFile file={file} onRemove={() => setFile(null)} /> : null}
      {menu.open ? (
        <CannedMenu id={`${counterId}-canned`} items={menu.items} active={menu.active} onPick={menu.pick} />
      ) : null}
      <CollisionWarning guard={guard} onSend={() => void submit(true)} />
      <form
        className="composer-form"
        // With the window closed only a template goes: the box would only push Send off screen.
        hidden={mode === 'reply' && windowClosed && policy.templates.supported}
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <label htmlFor={`${counterId}-text`} className="visually-hidden">
          {mode === 'note' ? 'Private note' : 'Reply'}
        </label>
        <textarea
          id={`${counterId}-text`}
          ref={textareaRef}
          value={text}
          rows={3}
          placeholder={
            mode === 'note'
              ? 'A note only your team sees'
              : windowClosed
                ? 'The window is closed: choose a template'
                : 'Write a reply (Ctrl+Enter sends)'
          }
          aria-describedby={counterId}
          aria-invalid={over || undefined}
          aria-activedescendant={menu.activeId(`${counterId}-canned`)}
          disabled={mode === 'reply' && windowClosed}
          onChange={(event) => {
            setText(event.target.value);
            if (mode === 'reply') guard.typed();
            // A refusal about what was typed goes as soon as the text changes.
            setRefusal(null);
            setNotice(null);
            menu.typed(event.target.value, event.target.selectionStart);
          }}
          onKeyDown={(event) => {
            if (menu.key(event)) return;
            if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
              event.preventDefault();
              void submit();
            }
          }}
        />
        <div className="composer-send">
          <span id={counterId} className={over ? 'counter over' : 'counter'}>
            {length} / {policy.text.max} {unit}
            <span className="visually-hidden"> ({policy.name} limit)</span>
          </span>
          <button
            type="submit"
            disabled={
              (!text.trim() && !(file && mode === 'reply')) || over || (mode === 'reply' && windowClosed)
            }
          >
            {mode === 'note' ? 'Add note' : 'Send'}
          </button>
        </div>
      </form>
    </section>
  );
}

/** The MIME types a platform takes as files, for the file picker (its media rule decides). */
function acceptOf(policy: PlatformPolicy): string {
  return [...new Set(Object.values(policy.media.kinds).flatMap((limit) => limit?.mimeTypes ?? []))].join(',');
}

/** A refusal as the agent reads it: the domain's sentence, then the next step. */
function refusalSentence(refusal: Refusal): string {
  const { message, nextStep } = explainRefusal(refusal);
  return nextStep ? `${message}. ${nextStep}.` : `${message}.`;
}
