import { useId, useState } from 'react';

/** A read-only value with a copy button: what the admin pastes into the platform. */
export function CopyField({
  label,
  value,
  multiline = false,
}: {
  label: string;
  value: string;
  multiline?: boolean;
}) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  const copy = () =>
    void navigator.clipboard?.writeText(value).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <span className="copy-row">
        {multiline ? (
          <textarea id={id} readOnly rows={3} value={value} onFocus={(event) => event.target.select()} />
        ) : (
          <input id={id} readOnly value={value} onFocus={(event) => event.target.select()} />
        )}
        <button type="button" className="ghost" onClick={copy} aria-label={`Copy: ${label}`}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </span>
    </div>
  );
}

/** What a setup step ended in: a status line, or an alert for a refusal. */
export type SetupOutcome = { readonly kind: 'done' | 'error'; readonly text: string } | null;

/** Shows a setup step's outcome (nothing when there is none). */
export function OutcomeLine({ outcome }: { outcome: SetupOutcome }) {
  if (!outcome) return null;
  return (
    <p
      role={outcome.kind === 'error' ? 'alert' : 'status'}
      className={outcome.kind === 'error' ? 'error' : 'channel-done'}
    >
      {outcome.text}
    </p>
  );
}

/** A refusal as an outcome line. */
export function ErrorLine({ error }: { error: string | null }) {
  return <OutcomeLine outcome={error === null ? null : { kind: 'error', text: error }} />;
}
