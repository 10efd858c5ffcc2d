import { activityText, type ActivityWords } from '@parley/domain';
import { useMemo } from 'react';
import { useLiveQuery } from '../lib/hooks';
import type { AgentInfo, Session } from '../lib/session';
import type { TimelineItem } from '../lib/timeline';
import '../styles/activity.css';

/** A workflow stage's id and name, kept on the device for activity lines (`meta.stages`). */
export interface StageInfo {
  readonly id: string;
  readonly name: string;
}

function dateTime(at: number): string {
  return new Date(at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * How this agent's activity lines name things (AC1): agents by name ("You" for the signed-in agent,
 * never an id when the device knows the name), stages by name, times in the local format.
 */
export function useActivityWords(session: Session): ActivityWords {
  const { db } = session;
  const me = session.account.agent.id;
  const agents = useLiveQuery(
    async () => ((await db.meta.get('agents'))?.value as AgentInfo[] | undefined) ?? [],
    [db],
  );
  const stages = useLiveQuery(
    async () => ((await db.meta.get('stages'))?.value as StageInfo[] | undefined) ?? [],
    [db],
  );
  return useMemo(
    () => ({
      agent: (id: string) =>
        id === me ? 'You' : (agents?.find((agent) => agent.id === id)?.name ?? 'another agent'),
      stage: (id: string) => stages?.find((stage) => stage.id === id)?.name ?? id,
      time: dateTime,
    }),
    [agents, stages, me],
  );
}

/** One activity line of the timeline: a change between the messages, centred, with its time. */
export function ActivityLine({
  item,
  words,
}: {
  item: Extract<TimelineItem, { kind: 'activity' }>;
  words: ActivityWords;
}) {
  const failed = item.activity.kind === 'reply-failed';
  return (
    <li className={failed ? 'activity-line failed' : 'activity-line'} data-activity={item.activity.kind}>
      <span dir="auto">{activityText(item.activity, words)}</span>{' '}
      <time dateTime={new Date(item.at).toISOString()} title={dateTime(item.at)}>
        {new Date(item.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
      </time>
    </li>
  );
}
