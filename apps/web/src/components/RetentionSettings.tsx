import { useEffect, useId, useRef, useState } from 'react';
import { errorData } from '../lib/api/client';
import {
  isShortening,
  parseRetentionDays,
  RETENTION_MAX_DAYS,
  RETENTION_MIN_DAYS,
  retentionSentence,
} from '../lib/retention/setting';
import type { Session } from '../lib/session';
import '../styles/dialog.css';
import '../styles/retention.css';

type Mode = 'forever' | 'days';
type Outcome = { readonly kind: 'done' | 'error'; readonly text: string };

/** Words for a change the server refused or never received. */
function refusal(error: unknown): string {
  const status = errorData(error)?.httpStatus;
  if (status === undefined)
    return 'The retention was not changed: the server could not be reached. Try again.';
  if (status === 401) return 'Your session has ended. Sign in again to change the retention.';
  if (status === 403) return 'Only an admin of this workspace may change the retention.';
  if (status === 400) return 'The server refused this value: enter a whole number of days from 1 to 3650.';
  return `The retention was not changed: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * Settings › Data retention (decision 0031), for admins: how long message content stays
 * readable, and a change to it through `admin.settings.setRetention`. A limit that makes more
 * content unreadable (any limit after "for ever", or a shorter one) is confirmed first in a modal
 * dialog, since the next hourly sweep makes that content unreadable for good.
 */
export function RetentionSettings({ session, online }: { session: Session; online: boolean }) {
  const { client } = session;
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const saveButton = useRef<HTMLButtonElement>(null);
  const [current, setCurrent] = useState<number | null | undefined>(undefined);
  const [mode, setMode] = useState<Mode>('forever');
  const [daysText, setDaysText] = useState('90');
  const [inputError, setInputError] = useState<string | null>(null);
  const [pending, setPending] = useState<number | null>(null);
  const [saving, setSaving] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  function show(days: number | null) {
    setCurrent(days);
    setMode(days === null ? 'forever' : 'days');
    if (days !== null) setDaysText(String(days));
  }

  useEffect(() => {
    if (!online) return;
    void client.admin.settings.get.query().then(
      (settings) => show(settings.retentionDays),
      (error: unknown) => setOutcome({ kind: 'error', text: refusal(error) }),
    );
  }, [client, online]);

  function submit() {
    setOutcome(null);
    let next: number | null = null;
    if (mode === 'days') {
      const parsed = parseRetentionDays(daysText);
      if (!parsed.ok) {
        setInputError(parsed.error);
        return;
      }
      next = parsed.days;
    }
    setInputError(null);
    if (current !== undefined && isShortening(current, next)) {
      setPending(next);
      dialog.current?.showModal();
      return;
    }
    void save(next);
  }

  async function save(days: number | null) {
    setSaving(true);
    try {
      const result = await client.admin.settings.setRetention.mutate({ days });
      show(result.retentionDays);
      setOutcome({
        kind: 'done',
        text: result.changed
          ? `Saved. ${retentionSentence(result.retentionDays)} The change is recorded.`
          : `Nothing to change: ${retentionSentence(result.retentionDays).replace(/^./, (c) => c.toLowerCase())}`,
      });
    } catch (error) {
      setOutcome({ kind: 'error', text: refusal(error) });
    } finally {
      setSaving(false);
      dialog.current?.close();
    }
  }

  const disabled = !online || saving || current === undefined;
  return (
    <section className="retention-settings" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Data retention</h3>
      <p id={`${id}-current`} className="retention-current">
        {current === undefined
          ? online
            ? 'Loading the current retention…'
            : 'The current retention is shown once the connection is back.'
          : retentionSentence(current)}
      </p>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <fieldset disabled={disabled}>
          <legend>Keep message content</legend>
          <label className="check">
            <input
              type="radio"
              name={`${id}-mode`}
              value="forever"
              checked={mode === 'forever'}
              onChange={() => {
                setMode('forever');
                setInputError(null);
              }}
            />
            Keep for ever
          </label>
          <label className="check">
            <input
              type="radio"
              name={`${id}-mode`}
              value="days"
              checked={mode === 'days'}
              onChange={() => setMode('days')}
            />
            For a number of days
          </label>
          <div className="retention-days">
            <label htmlFor={`${id}-days`}>
              Days ({RETENTION_MIN_DAYS}–{RETENTION_MAX_DAYS})
            </label>
            <input
              id={`${id}-days`}
              type="number"
              inputMode="numeric"
              min={RETENTION_MIN_DAYS}
              max={RETENTION_MAX_DAYS}
              step={1}
              value={daysText}
              disabled={mode !== 'days'}
              aria-invalid={inputError ? true : undefined}
              aria-describedby={inputError ? `${id}-days-error` : `${id}-days-hint`}
              onChange={(event) => {
                setDaysText(event.target.value);
                setInputError(null);
              }}
            />
          </div>
          <p id={`${id}-days-hint`} className="muted">
            Content becomes unreadable by whole weeks: a limit of 90 days keeps it 90 to 97 days.
          </p>
          {inputError ? (
            <p id={`${id}-days-error`} className="error" role="alert">
              {inputError}
            </p>
          ) : null}
        </fieldset>
        <div className="row">
          <button ref={saveButton} type="submit" disabled={disabled} aria-describedby={`${id}-current`}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
      <div role={outcome?.kind === 'error' ? 'alert' : 'status'} className="retention-outcome">
        {outcome ? <p className={outcome.kind === 'error' ? 'error' : 'notice'}>{outcome.text}</p> : null}
      </div>
      <dialog
        ref={dialog}
        className="confirm-dialog retention-dialog"
        aria-labelledby={`${id}-confirm-title`}
        aria-describedby={`${id}-confirm-what`}
        onClose={() => {
          setPending(null);
          saveButton.current?.focus();
        }}
      >
        <form
          method="dialog"
          onSubmit={(event) => {
            event.preventDefault();
            void save(pending);
          }}
        >
          <h3 id={`${id}-confirm-title`}>
            Shorten retention to {pending === 1 ? '1 day' : `${pending ?? ''} days`}?
          </h3>
          <p id={`${id}-confirm-what`}>
            At the next hourly sweep, message text, replies and notes older than{' '}
            {pending === 1 ? '1 day' : `${pending ?? ''} days`} (counted by whole weeks) become unreadable for
            good, for everyone, and on agents&rsquo; devices when they next connect.{' '}
            <strong>This cannot be undone</strong>: a longer limit later does not bring them back. Contact
            names, conversations and report counts stay.
          </p>
          <div className="row">
            <button type="button" className="ghost" disabled={saving} onClick={() => dialog.current?.close()}>
              Cancel
            </button>
            <button type="submit" className="danger" disabled={saving}>
              {saving ? 'Saving…' : 'Shorten retention'}
            </button>
          </div>
        </form>
      </dialog>
    </section>
  );
}
