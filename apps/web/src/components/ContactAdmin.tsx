import { useId, useRef, useState } from 'react';
import type { ConversationRow } from '../lib/db/schema';
import type { Session } from '../lib/session';
import '../styles/dialog.css';
import '../styles/contact-admin.css';

/** Where an admin downloads a contact's data (server/src/http/contact-export.ts, decision 0030). */
export const CONTACT_EXPORT_URL = '/api/contacts/export';

/** The download's name from the server's Content-Disposition, or a plain one. */
export function downloadName(disposition: string | null): string {
  const match = /filename="([^"]+)"/.exec(disposition ?? '');
  return match?.[1] ?? 'parley-contact-export.zip';
}

/** Words for an export the server refused, by its status. */
export function exportRefusal(status: number): string {
  if (status === 401) return 'Your session has ended. Sign in again to export.';
  if (status === 403) return 'Only an admin of this workspace may export a contact’s data.';
  if (status === 404) return 'The server holds no data of this contact.';
  if (status === 413) return 'This contact’s files are too large for one export. Use the command line.';
  return 'The export failed. Try again in a moment.';
}

type Outcome = { readonly kind: 'done' | 'error'; readonly text: string };

/**
 * The contact panel's part for admins (#18): "Export data" downloads everything Parley holds about
 * the contact as a ZIP; "Erase contact…" asks for a reason in a modal dialog that says it cannot be
 * undone, then calls `contacts.erase`. Both need the server, so both wait for a connection. Agents
 * never see this part (the panel renders it for admins only; the server refuses them too).
 */
export function ContactAdmin({
  session,
  row,
  online,
}: {
  session: Session;
  row: ConversationRow;
  online: boolean;
}) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const eraseButton = useRef<HTMLButtonElement>(null);
  const [exporting, setExporting] = useState(false);
  const [erasing, setErasing] = useState(false);
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  async function exportData() {
    setExporting(true);
    setOutcome(null);
    try {
      const response = await fetch(CONTACT_EXPORT_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ conversationId: row.conversationId }),
        credentials: 'same-origin',
      });
      if (!response.ok) {
        setOutcome({ kind: 'error', text: exportRefusal(response.status) });
        return;
      }
      // The server streams the ZIP; the browser gathers it into a Blob (large ones spill to disk).
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = downloadName(response.headers.get('content-disposition'));
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setOutcome({ kind: 'done', text: `Exported as ${link.download}. The export is recorded.` });
    } catch {
      setOutcome({ kind: 'error', text: 'The export could not reach the server. Try again when online.' });
    } finally {
      setExporting(false);
    }
  }

  function openErase() {
    setReason('');
    setReasonError(null);
    setOutcome(null);
    dialog.current?.showModal();
  }

  function closeErase() {
    dialog.current?.close();
  }

  async function erase() {
    if (!reason.trim()) {
      setReasonError('Say why this contact is erased (for example, their request and its date).');
      return;
    }
    setErasing(true);
    try {
      const result = await session.client.contacts.erase.mutate({
        conversationId: row.conversationId,
        reason: reason.trim(),
      });
      closeErase();
      const count = result.conversations.length;
      setOutcome({
        kind: 'done',
        text: `Contact erased: ${count === 1 ? '1 conversation now reads' : `${count} conversations now read`} “[erased]” on the server. The erasure and its reason are recorded.`,
      });
    } catch (error) {
      setReasonError(
        error instanceof Error && error.message ? error.message : 'The contact could not be erased.',
      );
    } finally {
      setErasing(false);
    }
  }

  return (
    <section className="contact-admin" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Personal data</h3>
      <div className="row">
        <button
          type="button"
          className="ghost"
          disabled={!online || exporting}
          aria-describedby={online ? undefined : `${id}-offline`}
          onClick={() => void exportData()}
        >
          {exporting ? 'Exporting…' : 'Export data'}
        </button>
        <button
          ref={eraseButton}
          type="button"
          className="danger"
          disabled={!online}
          aria-describedby={online ? undefined : `${id}-offline`}
          aria-haspopup="dialog"
          onClick={openErase}
        >
          Erase contact…
        </button>
      </div>
      {online ? null : (
        <p id={`${id}-offline`} className="muted">
          Exporting and erasing need a connection.
        </p>
      )}
      {outcome ? (
        <p
          className={outcome.kind === 'error' ? 'error' : 'notice'}
          role={outcome.kind === 'error' ? 'alert' : 'status'}
        >
          {outcome.text}
        </p>
      ) : null}
      <dialog
        ref={dialog}
        className="confirm-dialog erase-dialog"
        aria-labelledby={`${id}-erase-title`}
        aria-describedby={`${id}-erase-what`}
        onClose={() => eraseButton.current?.focus()}
      >
        <form
          method="dialog"
          onSubmit={(event) => {
            event.preventDefault();
            void erase();
          }}
        >
          <h3 id={`${id}-erase-title`}>Erase {row.contact.name}?</h3>
          <p id={`${id}-erase-what`}>
            Their name, number or handle, messages, files and notes become “[erased]” in every conversation of
            this contact, for everyone. <strong>This cannot be undone.</strong> The conversations, their times
            and the fact of the erasure stay for the audit trail.
          </p>
          <label htmlFor={`${id}-reason`}>Reason (kept with the erasure)</label>
          <textarea
            id={`${id}-reason`}
            value={reason}
            rows={3}
            maxLength={500}
            aria-required="true"
            aria-invalid={reasonError ? true : undefined}
            aria-describedby={reasonError ? `${id}-reason-error` : undefined}
            onChange={(event) => {
              setReason(event.target.value);
              if (event.target.value.trim()) setReasonError(null);
            }}
          />
          {reasonError ? (
            <p id={`${id}-reason-error`} className="error" role="alert">
              {reasonError}
            </p>
          ) : null}
          <div className="row">
            <button type="button" className="ghost" disabled={erasing} onClick={closeErase}>
              Cancel
            </button>
            <button type="submit" className="danger" disabled={erasing}>
              {erasing ? 'Erasing…' : 'Erase contact'}
            </button>
          </div>
        </form>
      </dialog>
    </section>
  );
}
