import { describe, expect, it } from 'vitest';
import { zonedInstant, type BusinessSchedule, type Weekday } from './business-hours';
import { currentCycle, durationOf, evolveMetrics, initialMetricsState, isHumanReply } from './metrics';
import { scenario } from './scenario.support';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = 1_700_000_000_000;
const MADRID = 'Europe/Madrid';
const office: BusinessSchedule = {
  timeZone: MADRID,
  weekly: ([1, 2, 3, 4, 5] as Weekday[]).map((day) => ({ day, from: '09:00', to: '17:00' })),
  holidays: [],
};

describe('metrics per cycle (MT)', () => {
  it('[MT1] each cycle is opened once; resolving closes it; leaving resolved opens a reopened one', () => {
    // Given a conversation resolved, reopened by the customer, resolved again
    const metrics = scenario()
      .customer('m1', T0)
      .reply('r1', T0 + 5 * MINUTE)
      .status('resolved', T0 + HOUR)
      .customer('m2', T0 + 2 * HOUR)
      .status('resolved', T0 + 3 * HOUR)
      .metrics();
    // Then two cycles: the first not reopened, the second reopened; both resolved
    expect(
      metrics.cycles.map(({ cycle, reopened, resolvedAt }) => ({ cycle, reopened, resolvedAt })),
    ).toEqual([
      { cycle: 1, reopened: false, resolvedAt: T0 + HOUR },
      { cycle: 2, reopened: true, resolvedAt: T0 + 3 * HOUR },
    ]);
  });

  it('[MT1] snoozing, waking and marking pending stay within one cycle; snoozing a resolved one reopens it', () => {
    const within = scenario()
      .customer('m1', T0)
      .snooze(T0 + 2 * HOUR, T0 + MINUTE)
      .wake(T0 + 2 * HOUR)
      .status('pending', T0 + 3 * HOUR)
      .customer('m2', T0 + 4 * HOUR)
      .metrics();
    expect(within.cycles).toHaveLength(1);
    const reopened = scenario()
      .customer('m1', T0)
      .status('resolved', T0 + HOUR)
      .snooze(T0 + 5 * HOUR, T0 + 2 * HOUR)
      .metrics();
    expect(reopened.cycles.map((facts) => facts.reopened)).toEqual([false, true]);
    // And a cycle opened by an agent, with no customer message yet, has no first response to measure
    expect(currentCycle(reopened)).toMatchObject({
      firstCustomerAt: null,
      waitingSince: null,
      responses: [],
    });
  });

  it('[MT2] first response time runs from the first customer message of the cycle to the first human reply', () => {
    // Given the customer writes twice before an agent answers
    const metrics = scenario()
      .customer('m1', T0)
      .customer('m2', T0 + 10 * MINUTE)
      .note('n1', T0 + 12 * MINUTE)
      .reply('r1', T0 + 20 * MINUTE)
      .reply('r2', T0 + 21 * MINUTE)
      .metrics();
    // Then one first response of 20 minutes, by the replying agent (a note is no reply)
    expect(currentCycle(metrics)?.responses).toEqual([
      {
        kind: 'first',
        customerAt: T0,
        repliedAt: T0 + 20 * MINUTE,
        agentId: 'agent-1',
        clientMessageId: 'r1',
        calendarMs: 20 * MINUTE,
        businessMs: 20 * MINUTE,
      },
    ]);
  });

  it('[MT2] a reopened cycle measures its own first response, from its own first customer message', () => {
    const metrics = scenario()
      .customer('m1', T0)
      .reply('r1', T0 + 5 * MINUTE)
      .status('resolved', T0 + HOUR)
      .status('open', T0 + 2 * HOUR)
      .reply('r2', T0 + 2 * HOUR + MINUTE)
      .customer('m2', T0 + 3 * HOUR)
      .reply('r3', T0 + 3 * HOUR + 30 * MINUTE)
      .metrics();
    const [first, second] = metrics.cycles;
    expect(first?.responses.map((r) => [r.kind, r.calendarMs])).toEqual([['first', 5 * MINUTE]]);
    // The agent's message before the customer wrote in cycle 2 answers nothing
    expect(second?.responses.map((r) => [r.kind, r.customerAt, r.calendarMs])).toEqual([
      ['first', T0 + 3 * HOUR, 30 * MINUTE],
    ]);
  });

  it('[MT3] next response time runs from each customer message after a human reply to the next human reply', () => {
    const metrics = scenario()
      .customer('m1', T0)
      .reply('r1', T0 + 5 * MINUTE)
      .customer('m2', T0 + HOUR)
      .customer('m3', T0 + HOUR + 5 * MINUTE)
      .reply('r2', T0 + 2 * HOUR)
      .customer('m4', T0 + 3 * HOUR)
      .reply('r3', T0 + 3 * HOUR + 10 * MINUTE)
      .metrics();
    // Then m2 and m3 are one wait of an hour; m4 waited 10 minutes
    expect(currentCycle(metrics)?.responses.map((r) => [r.kind, r.customerAt, r.calendarMs])).toEqual([
      ['first', T0, 5 * MINUTE],
      ['next', T0 + HOUR, HOUR],
      ['next', T0 + 3 * HOUR, 10 * MINUTE],
    ]);
  });

  it('[MT4] resolution time runs from the cycle start to resolved, per cycle', () => {
    const metrics = scenario()
      .customer('m1', T0)
      .status('resolved', T0 + 90 * MINUTE)
      .customer('m2', T0 + 5 * HOUR)
      .status('resolved', T0 + 7 * HOUR)
      .metrics();
    expect(metrics.cycles.map((facts) => facts.resolution?.calendarMs)).toEqual([90 * MINUTE, 2 * HOUR]);
    // And an open cycle has no resolution time yet
    expect(scenario().customer('m1', T0).metrics().cycles[0]?.resolution).toBeNull();
  });

  it('[MT5] a bot or system reply does not stop the clock; the next human reply does', () => {
    // Given a bot greets the customer at once and an agent answers after 40 minutes
    const metrics = scenario()
      .customer('m1', T0)
      .botReply('b1', T0 + 1000)
      .reply('r1', T0 + 40 * MINUTE)
      .metrics();
    // Then the first response is the agent's, 40 minutes
    const facts = currentCycle(metrics);
    expect(facts?.responses.map((r) => [r.clientMessageId, r.calendarMs])).toEqual([['r1', 40 * MINUTE]]);
    // And the bot's reply still counts as a message out
    expect(facts?.messagesOut).toBe(2);
    expect(isHumanReply({ kind: 'agent', id: 'a' })).toBe(true);
    expect(isHumanReply({ kind: 'system', id: 'workflow' })).toBe(false);
    expect(isHumanReply(null)).toBe(false);
  });

  it('[MT6] every time is measured in calendar ms and in business ms of the inbox schedule, across a DST change', () => {
    // Given Madrid office hours; the customer writes Friday 16:00 before the spring-forward weekend
    const friday = zonedInstant(MADRID, '2026-03-27', '16:00');
    const monday = zonedInstant(MADRID, '2026-03-30', '10:00');
    const metrics = scenario(office)
      .customer('m1', friday)
      .reply('r1', monday)
      .status('resolved', monday + HOUR)
      .metrics();
    // Then the first response took 2 business hours, and 65 calendar hours (one hour lost to DST)
    const facts = currentCycle(metrics);
    expect(facts?.responses[0]).toMatchObject({ calendarMs: 65 * HOUR, businessMs: 2 * HOUR });
    expect(facts?.resolution).toEqual({ calendarMs: 66 * HOUR, businessMs: 3 * HOUR });
    // And without a schedule business time is calendar time
    expect(durationOf(null, friday, monday)).toEqual({ calendarMs: 65 * HOUR, businessMs: 65 * HOUR });
  });

  it('[MT7] messages in and out are counted per cycle; a late webhook for a message sent before our reply starts no wait', () => {
    const metrics = scenario()
      .customer('m1', T0)
      .reply('r1', T0 + 10 * MINUTE)
      // Sent at T0 + 5 min (before r1) but delivered by the platform after it
      .customer('m2', T0 + 5 * MINUTE)
      .status('resolved', T0 + HOUR)
      .customer('m3', T0 + 2 * HOUR)
      .metrics();
    const [first, second] = metrics.cycles;
    expect(first).toMatchObject({ messagesIn: 2, messagesOut: 1, waitingSince: null });
    expect(first?.responses).toHaveLength(1);
    expect(second).toMatchObject({ messagesIn: 1, messagesOut: 0, waitingSince: T0 + 2 * HOUR });
  });

  it('[MT8] a reply that fails never reached the customer: it leaves the count, and the wait it ended goes on', () => {
    const metrics = scenario()
      .customer('m1', T0)
      .reply('r1', T0 + 5 * MINUTE)
      .failReply('r1', T0 + 6 * MINUTE)
      .metrics();
    expect(currentCycle(metrics)).toMatchObject({ messagesOut: 0, responses: [], waitingSince: T0 });
    const answered = scenario()
      .customer('m1', T0)
      .reply('r1', T0 + 5 * MINUTE)
      .failReply('r1', T0 + 6 * MINUTE)
      .reply('r2', T0 + 30 * MINUTE)
      .metrics();
    expect(currentCycle(answered)?.responses.map((r) => [r.clientMessageId, r.calendarMs])).toEqual([
      ['r2', 30 * MINUTE],
    ]);
  });

  it('[MT9] pending and snoozed spans are recorded per cycle for SLA pauses; response times are not paused', () => {
    const metrics = scenario()
      .customer('m1', T0)
      .snooze(T0 + 3 * HOUR, T0 + HOUR)
      .wake(T0 + 3 * HOUR)
      .status('pending', T0 + 4 * HOUR)
      .customer('m2', T0 + 5 * HOUR)
      .reply('r1', T0 + 6 * HOUR)
      .metrics();
    const facts = currentCycle(metrics);
    expect(facts?.pauses).toEqual([
      { from: T0 + HOUR, to: T0 + 3 * HOUR },
      { from: T0 + 4 * HOUR, to: T0 + 5 * HOUR },
    ]);
    expect(facts?.responses.map((r) => r.calendarMs)).toEqual([6 * HOUR]);
    // A conversation folded from nothing has no cycles
    expect(
      evolveMetrics(initialMetricsState(), {
        type: 'NoteAdded',
        data: { noteId: 'n', agentId: 'a', text: 't', mentions: [], at: T0 },
      }),
    ).toEqual(initialMetricsState());
  });
});
