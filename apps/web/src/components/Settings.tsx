import { useEffect, useState } from 'react';
import type { Session, TemplateInfo } from '../lib/session';
import { useLiveQuery } from '../lib/hooks';
import { Avatar } from './Avatar';
import { ChannelSetup } from './ChannelSetup';
import { DeadLetters } from './DeadLetters';
import { FaultPanel } from './FaultPanel';
import { NotificationSettings } from './NotificationSettings';
import { AvailabilityControl, People } from './People';
import { ROLE_LABELS, type RoleName } from '../lib/people';
import { RetentionSettings } from './RetentionSettings';
import { SignOutButton } from './SignOut';

type Inboxes = Awaited<ReturnType<Session['client']['boards']['inboxes']['query']>>;
type Workflows = Awaited<ReturnType<Session['client']['boards']['workflows']['query']>>;
const POLICIES = ['round-robin', 'weighted', 'least-busy'] as const;

/**
 * Settings: everyone's own profile and signing out; for admins also inboxes and their assignment
 * policy, workflows, templates, data retention, dead letters and the fault panel. An agent is told who sets those.
 */
export function Settings({
  session,
  online,
  onSignedOut,
}: {
  session: Session;
  online: boolean;
  onSignedOut: () => void;
}) {
  const { account } = session;
  const admin = account.agent.role === 'admin';
  return (
    <section className="pane settings-pane" aria-labelledby="settings-heading">
      <h2 id="settings-heading">Settings</h2>
      <section className="profile" aria-labelledby="profile-heading">
        <h3 id="profile-heading">Your profile</h3>
        <div className="profile-card">
          <Avatar name={account.agent.name} id={account.agent.id} size={48} />
          <dl>
            <dt>Name</dt>
            <dd dir="auto">{account.agent.name}</dd>
            <dt>Email</dt>
            <dd>{account.agent.email}</dd>
            <dt>Role</dt>
            <dd>{ROLE_LABELS[account.agent.role as RoleName] ?? account.agent.role}</dd>
            <dt>Workspace</dt>
            <dd dir="auto">{account.tenantName}</dd>
          </dl>
        </div>
        <AvailabilityControl session={session} online={online} />
        <div className="row sign-out-row">
          <SignOutButton session={session} onSignedOut={onSignedOut} />
        </div>
      </section>
      <NotificationSettings session={session} online={online} />
      {admin ? (
        <AdminSettings session={session} online={online} />
      ) : (
        <p className="muted admin-only">
          People, inboxes, assignment, workflows, templates, channels and data retention are set up by your
          workspace&rsquo;s admins: ask one of them for a change.
        </p>
      )}
    </section>
  );
}

/** What only admins change. Needs a connection. */
function AdminSettings({ session, online }: { session: Session; online: boolean }) {
  const { client, db } = session;
  const [inboxes, setInboxes] = useState<Inboxes | null>(null);
  const [workflows, setWorkflows] = useState<Workflows | null>(null);
  const [error, setError] = useState<string | null>(null);
  const templates = useLiveQuery(
    async () => ((await db.meta.get('templates'))?.value as TemplateInfo[] | undefined) ?? [],
    [db],
  );

  async function load() {
    try {
      const [i, w] = await Promise.all([client.boards.inboxes.query(), client.boards.workflows.query()]);
      setInboxes(i);
      setWorkflows(w);
      setError(null);
    } catch {
      setError('Settings need a connection to the server.');
    }
  }
  useEffect(() => {
    if (online) void load();
  }, [online]);

  return (
    <>
      {online ? null : (
        <p className="notice offline" role="status">
          You are offline. Settings, dead letters and channel faults are changed on the server, so their
          controls are disabled until the connection is back.
        </p>
      )}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <h3>Inboxes</h3>
      {inboxes === null ? <p className="muted">Loading…</p> : null}
      <ul className="settings-list">
        {(inboxes ?? []).map((inbox) => (
          <li key={inbox.inboxId}>
            <strong>{inbox.name}</strong>{' '}
            <span className="muted">
              ({inbox.channel.platform}, {inbox.members.length} members, {inbox.queued} queued)
            </span>
            <label>
              Assignment policy
              <select
                value={inbox.policy}
                disabled={!online}
                onChange={(event) =>
                  void client.admin.inboxes.setPolicy
                    .mutate({
                      inboxId: inbox.inboxId,
                      policy: event.target.value as (typeof POLICIES)[number],
                    })
                    .then(load, () => setError('The policy could not be changed.'))
                }
              >
                {POLICIES.map((policy) => (
                  <option key={policy} value={policy}>
                    {policy}
                  </option>
                ))}
              </select>
            </label>
          </li>
        ))}
      </ul>
      <h3>Workflows</h3>
      <ul className="settings-list">
        {(workflows ?? []).map((workflow) => (
          <li key={workflow.workflowId}>
            <strong>{workflow.name}</strong>
            <ol className="stages" aria-label={`Stages of ${workflow.name}`}>
              {workflow.stages.map((stage) => (
                <li key={stage.id}>
                  {stage.name}
                  {stage.wipLimit ? ` (WIP ${stage.wipLimit})` : ''}
                </li>
              ))}
            </ol>
          </li>
        ))}
      </ul>
      <h3>Templates</h3>
      <ul className="settings-list">
        {(templates ?? []).map((template) => (
          <li key={`${template.name}/${template.language}`}>
            <strong>{template.name}</strong> ({template.language}) —{' '}
            {template.approved ? 'approved' : 'not approved'}
            <p className="muted">{template.body}</p>
          </li>
        ))}
      </ul>
      <People session={session} online={online} />
      <ChannelSetup session={session} online={online} />
      <RetentionSettings session={session} online={online} />
      <DeadLetters client={client} db={db} online={online} />
      <FaultPanel client={client} db={db} online={online} />
    </>
  );
}
