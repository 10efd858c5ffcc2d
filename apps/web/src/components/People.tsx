import { useEffect, useId, useRef, useState } from 'react';
import {
  auditSentence,
  AVAILABILITY_LABELS,
  invitationLink,
  peopleRefusal,
  ROLE_HINTS,
  ROLE_LABELS,
  type Availability,
  type RoleName,
} from '../lib/people';
import type { Session } from '../lib/session';
import { Avatar } from './Avatar';
import '../styles/dialog.css';
import '../styles/people.css';

type Client = Session['client'];
type Person = Awaited<ReturnType<Client['admin']['people']['list']['query']>>[number];
type Invitation = Awaited<ReturnType<Client['admin']['people']['invitations']['query']>>[number];
type AuditEntry = Awaited<ReturnType<Client['admin']['people']['audit']['query']>>[number];
type Outcome = { readonly kind: 'done' | 'error'; readonly text: string };

const ROLES = Object.keys(ROLE_LABELS) as RoleName[];
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * Settings › People (decision 0035), for admins: invite by email with a one-time link to copy,
 * change roles, deactivate and reactivate, withdraw invitations, and the record of who changed what.
 */
export function People({ session, online }: { session: Session; online: boolean }) {
  const { client, account } = session;
  const id = useId();
  const [people, setPeople] = useState<readonly Person[] | null>(null);
  const [invitations, setInvitations] = useState<readonly Invitation[]>([]);
  const [audit, setAudit] = useState<readonly AuditEntry[]>([]);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const [deactivating, setDeactivating] = useState<Person | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  async function load() {
    try {
      const [p, i, a] = await Promise.all([
        client.admin.people.list.query(),
        client.admin.people.invitations.query(),
        client.admin.people.audit.query({ limit: 20 }),
      ]);
      setPeople(p);
      setInvitations(i);
      setAudit(a);
    } catch (error) {
      setOutcome({ kind: 'error', text: peopleRefusal(error, 'Loading people') });
    }
  }
  useEffect(() => {
    if (online) void load();
  }, [client, online]);

  /** Runs a change, reloads, and says what happened (or why not: nothing changed then). */
  async function change(action: string, run: () => Promise<unknown>, done: string) {
    setBusy(true);
    setOutcome(null);
    try {
      await run();
      setOutcome({ kind: 'done', text: done });
    } catch (error) {
      setOutcome({ kind: 'error', text: peopleRefusal(error, action) });
    } finally {
      setBusy(false);
      await load();
    }
  }

  function confirmDeactivation(person: Person) {
    setDeactivating(person);
    dialog.current?.showModal();
  }

  const pending = invitations.filter((invitation) => invitation.status === 'pending');
  const disabled = !online || busy;
  return (
    <section className="people" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>People</h3>
      <InviteForm client={client} disabled={disabled} onInvited={load} />
      {outcome ? (
        <p
          role={outcome.kind === 'error' ? 'alert' : 'status'}
          className={outcome.kind === 'error' ? 'error' : 'people-done'}
        >
          {outcome.text}
        </p>
      ) : null}
      {people === null ? (
        <p className="muted">
          {online ? 'Loading people…' : 'People are shown once the connection is back.'}
        </p>
      ) : null}
      <ul className="people-list" aria-label="People of this workspace">
        {(people ?? []).map((person) => (
          <li key={person.id} className={person.active ? undefined : 'deactivated'}>
            <Avatar name={person.name} id={person.id} size={36} />
            <div className="person">
              <strong dir="auto">
                {person.name}
                {person.id === account.agent.id ? ' (you)' : ''}
              </strong>
              <span className="muted">{person.email}</span>
              <span className="person-state">
                {person.active ? (
                  <span className={`availability ${person.presence}`}>
                    {AVAILABILITY_LABELS[person.presence]}
                  </span>
                ) : (
                  <span className="availability deactivated">
                    Deactivated{person.deactivatedAt ? ` ${dateTime.format(person.deactivatedAt)}` : ''}
                  </span>
                )}
              </span>
            </div>
            <div className="person-actions">
              <label>
                <span className="visually-hidden">Role of {person.name}</span>
                <select
                  value={person.role}
                  disabled={disabled || !person.active}
                  onChange={(event) => {
                    const role = event.target.value as RoleName;
                    void change(
                      'Changing the role',
                      () => client.admin.people.setRole.mutate({ agentId: person.id, role }),
                      `${person.name} is now ${ROLE_LABELS[role].toLowerCase()}: ${ROLE_HINTS[role]}.`,
                    );
                  }}
                >
                  {ROLES.map((role) => (
                    <option key={role} value={role}>
                      {ROLE_LABELS[role]}
                    </option>
                  ))}
                </select>
              </label>
              {person.active ? (
                <button
                  type="button"
                  className="ghost"
                  disabled={disabled}
                  onClick={() => confirmDeactivation(person)}
                >
                  Deactivate<span className="visually-hidden"> {person.name}</span>
                </button>
              ) : (
                <button
                  type="button"
                  className="ghost"
                  disabled={disabled}
                  onClick={() =>
                    void change(
                      'Reactivating',
                      () => client.admin.people.reactivate.mutate({ agentId: person.id }),
                      `${person.name} can sign in again.`,
                    )
                  }
                >
                  Reactivate<span className="visually-hidden"> {person.name}</span>
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {pending.length > 0 ? (
        <>
          <h4>Invitations waiting</h4>
          <ul className="people-list invitations" aria-label="Invitations waiting">
            {pending.map((invitation) => (
              <li key={invitation.id}>
                <div className="person">
                  <strong>{invitation.email}</strong>
                  <span className="muted">
                    {ROLE_LABELS[invitation.role]} · link expires {dateTime.format(invitation.expiresAt)}
                  </span>
                </div>
                <div className="person-actions">
                  <button
                    type="button"
                    className="ghost"
                    disabled={disabled}
                    onClick={() =>
                      void change(
                        'Withdrawing the invitation',
                        () => client.admin.people.revokeInvitation.mutate({ invitationId: invitation.id }),
                        `The invitation of ${invitation.email} was withdrawn: its link no longer works.`,
                      )
                    }
                  >
                    Withdraw<span className="visually-hidden"> the invitation of {invitation.email}</span>
                  </button>
                </div>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <h4>Recent changes</h4>
      {audit.length === 0 ? <p className="muted">No changes to people yet.</p> : null}
      <ol className="people-audit" aria-label="Recent changes to people">
        {audit.map((entry) => (
          <li key={entry.id}>
            <span dir="auto">{auditSentence(entry)}</span>{' '}
            <time className="muted" dateTime={new Date(entry.at).toISOString()}>
              {dateTime.format(entry.at)}
            </time>
          </li>
        ))}
      </ol>
      <dialog
        ref={dialog}
        className="confirm-dialog"
        aria-labelledby={`${id}-confirm`}
        onClose={() => setDeactivating(null)}
      >
        <form method="dialog">
          <h3 id={`${id}-confirm`}>Deactivate {deactivating?.name}?</h3>
          <p>
            They are signed out everywhere at once, cannot sign in, and are given no more conversations. Their
            name stays on everything they did. You can reactivate them later.
          </p>
          <div className="row">
            <button type="submit" value="cancel" autoFocus>
              Cancel
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                const person = deactivating;
                dialog.current?.close();
                if (!person) return;
                void change(
                  'Deactivating',
                  () => client.admin.people.deactivate.mutate({ agentId: person.id }),
                  `${person.name} is deactivated and signed out everywhere.`,
                );
              }}
            >
              Deactivate
            </button>
          </div>
        </form>
      </dialog>
    </section>
  );
}

/** The invitation form, and the link to copy once the invitation exists. */
function InviteForm({
  client,
  disabled,
  onInvited,
}: {
  client: Client;
  disabled: boolean;
  onInvited: () => Promise<void>;
}) {
  const id = useId();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<RoleName>('agent');
  const [link, setLink] = useState<{ url: string; email: string; expiresAt: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [sending, setSending] = useState(false);

  async function submit() {
    setError(null);
    setCopied(false);
    setSending(true);
    try {
      const { key, invitation } = await client.admin.people.invite.mutate({ email, role });
      setLink({
        url: invitationLink(window.location.origin, key),
        email: invitation.email,
        expiresAt: invitation.expiresAt,
      });
      setEmail('');
      await onInvited();
    } catch (caught) {
      setLink(null);
      setError(peopleRefusal(caught, 'Inviting'));
    } finally {
      setSending(false);
    }
  }

  return (
    <div className="invite">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <fieldset disabled={disabled || sending}>
          <legend>Invite someone</legend>
          <label>
            Email
            <input
              type="email"
              required
              value={email}
              autoComplete="off"
              onChange={(event) => setEmail(event.target.value)}
              aria-describedby={error ? `${id}-error` : undefined}
            />
          </label>
          <label>
            Role
            <select value={role} onChange={(event) => setRole(event.target.value as RoleName)}>
              {ROLES.map((each) => (
                <option key={each} value={each}>
                  {ROLE_LABELS[each]}
                </option>
              ))}
            </select>
          </label>
          <p className="muted role-hint">
            {ROLE_LABELS[role]}: {ROLE_HINTS[role]}.
          </p>
          <button type="submit">{sending ? 'Creating…' : 'Create invitation link'}</button>
        </fieldset>
      </form>
      {error ? (
        <p role="alert" id={`${id}-error`} className="error">
          {error}
        </p>
      ) : null}
      {link ? (
        <div className="invite-link" role="status">
          <p>
            Send this link to <strong>{link.email}</strong>. It works once and expires{' '}
            {dateTime.format(link.expiresAt)}; it is shown only now.
          </p>
          <div className="copy-row">
            <input
              readOnly
              value={link.url}
              aria-label={`Invitation link for ${link.email}`}
              onFocus={(event) => event.target.select()}
            />
            <button
              type="button"
              onClick={() =>
                void navigator.clipboard?.writeText(link.url).then(
                  () => setCopied(true),
                  () => setCopied(false),
                )
              }
            >
              {copied ? 'Copied' : 'Copy link'}
            </button>
          </div>
        </div>
      ) : null}
    </div>
  );
}

/** The signed-in person's own availability: only online people are given new conversations. */
export function AvailabilityControl({ session, online }: { session: Session; online: boolean }) {
  const { client } = session;
  const [availability, setAvailability] = useState<Availability | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!online) return;
    void client.auth.me.query().then(
      (me) => setAvailability(me.agent.presence),
      () => undefined,
    );
  }, [client, online]);
  return (
    <div className="availability-control">
      <label>
        Availability
        <select
          value={availability ?? 'offline'}
          disabled={!online || availability === null}
          onChange={(event) => {
            const presence = event.target.value as Availability;
            setError(null);
            void client.agents.setPresence.mutate({ presence }).then(
              (result) => setAvailability(result.presence),
              (caught: unknown) => setError(peopleRefusal(caught, 'Changing your availability')),
            );
          }}
        >
          {(Object.keys(AVAILABILITY_LABELS) as Availability[]).map((each) => (
            <option key={each} value={each}>
              {AVAILABILITY_LABELS[each]}
            </option>
          ))}
        </select>
      </label>
      <p className="muted">Only online people are given new conversations by their inboxes.</p>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
