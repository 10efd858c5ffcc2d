import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { zonedInstant, type BusinessSchedule, type Weekday } from './business-hours';
import { scenario } from './scenario.support';
import { decideSlaBreaches, selectSlaPolicy, slaStatus, type SlaPolicy } from './sla';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = 1_700_000_000_000;
const MADRID = 'Europe/Madrid';
const office: BusinessSchedule = {
  timeZone: MADRID,
  weekly: ([1, 2, 3, 4, 5] as Weekday[]).map((day) => ({ day, from: '09:00', to: '17:00' })),
  holidays: [],
};

function policy(overrides: Partial<SlaPolicy> = {}): SlaPolicy {
  return {
    id: 'standard',
    priorities: [],
    labels: [],
    targets: { firstResponse: HOUR, nextResponse: 30 * MINUTE, resolution: 8 * HOUR },
    hours: 'calendar',
    pauseWhileWaitingOnCustomer: false,
    ...overrides,
  };
}

describe('SLA clocks (SL)', () => {
  it('[SL1] the first policy in order whose priorities and labels match applies; an empty list matches any', () => {
    const urgent = policy({ id: 'urgent', priorities: ['urgent', 'high'] });
    const vip = policy({ id: 'vip', labels: ['vip', 'enterprise'] });
    const fallback = policy({ id: 'default' });
    const policies = [urgent, vip, fallback];
    expect(selectSlaPolicy(policies, { priority: 'high', labels: ['vip'] })?.id).toBe('urgent');
    expect(selectSlaPolicy(policies, { priority: 'low', labels: ['billing', 'enterprise'] })?.id).toBe('vip');
    expect(selectSlaPolicy(policies, { priority: 'none', labels: [] })?.id).toBe('default');
    expect(selectSlaPolicy([urgent, vip], { priority: 'none', labels: [] })).toBeNull();
    // And a target the policy leaves out is not measured
    const metrics = scenario().customer('m1', T0).metrics();
    const onlyResolution = policy({ targets: { resolution: 4 * HOUR } });
    expect(slaStatus(onlyResolution, metrics, T0).map((clock) => clock.target)).toEqual(['resolution']);
  });

  it('[SL2] the first response clock runs from the first customer message; a human reply stops it, a bot reply does not', () => {
    // Given the customer wrote at T0 and a bot answered at once
    const given = scenario()
      .customer('m1', T0)
      .botReply('b1', T0 + 1000);
    // When 30 minutes have passed, Then half an hour remains before T0 + 1 h
    expect(slaStatus(policy(), given.metrics(), T0 + 30 * MINUTE)[0]).toEqual({
      target: 'firstResponse',
      targetMs: HOUR,
      startedAt: T0,
      stoppedAt: null,
      dueAt: T0 + HOUR,
      remainingMs: 30 * MINUTE,
      paused: false,
      breached: false,
    });
    // When 2 hours have passed, Then it is breached by an hour
    expect(slaStatus(policy(), given.metrics(), T0 + 2 * HOUR)[0]).toMatchObject({
      remainingMs: -HOUR,
      breached: true,
    });
    // When an agent replied at 45 minutes, Then the clock stopped in time
    const answered = given.reply('r1', T0 + 45 * MINUTE).metrics();
    expect(slaStatus(policy(), answered, T0 + 5 * HOUR)[0]).toMatchObject({
      stoppedAt: T0 + 45 * MINUTE,
      remainingMs: 15 * MINUTE,
      breached: false,
    });
  });

  it('[SL2] in business hours the due time skips the weekend and the DST change', () => {
    // Given Madrid office hours, a 2 h first response target, a message on Friday 16:00 before spring forward
    const friday = zonedInstant(MADRID, '2026-03-27', '16:00');
    const metrics = scenario(office).customer('m1', friday).metrics();
    const business = policy({ hours: 'business', targets: { firstResponse: 2 * HOUR } });
    // Then it is due Monday 10:00 local (08:00 UTC, CEST), with an hour left all weekend
    const saturday = zonedInstant(MADRID, '2026-03-28', '12:00');
    expect(slaStatus(business, metrics, saturday)[0]).toMatchObject({
      dueAt: zonedInstant('UTC', '2026-03-30', '08:00'),
      remainingMs: HOUR,
      breached: false,
    });
    // And a 24/7 policy on the same facts was due Friday 18:00
    expect(slaStatus(policy({ targets: { firstResponse: 2 * HOUR } }), metrics, saturday)[0]).toMatchObject({
      dueAt: friday + 2 * HOUR,
      breached: true,
    });
  });

  it('[SL3] the next response clock runs for each customer message after a human reply; the running wait is shown', () => {
    const given = scenario()
      .customer('m1', T0)
      .reply('r1', T0 + 5 * MINUTE)
      .customer('m2', T0 + HOUR)
      .customer('m3', T0 + HOUR + 5 * MINUTE);
    const next = (now: number) =>
      slaStatus(policy(), given.metrics(), now).find((clock) => clock.target === 'nextResponse');
    expect(next(T0 + HOUR + 10 * MINUTE)).toMatchObject({
      startedAt: T0 + HOUR,
      dueAt: T0 + HOUR + 30 * MINUTE,
      remainingMs: 20 * MINUTE,
      breached: false,
    });
    given.reply('r2', T0 + HOUR + 20 * MINUTE);
    expect(next(T0 + 3 * HOUR)).toMatchObject({ stoppedAt: T0 + HOUR + 20 * MINUTE, breached: false });
    // Before any human reply there is no next response clock
    const first = scenario().customer('m1', T0).metrics();
    expect(slaStatus(policy(), first, T0).map((clock) => clock.target)).toEqual([
      'firstResponse',
      'resolution',
    ]);
  });

  it('[SL4] the resolution clock runs from the cycle start to resolved, and resolving stops every clock of the cycle', () => {
    const metrics = scenario()
      .customer('m1', T0)
      .status('resolved', T0 + 30 * MINUTE)
      .metrics();
    const clocks = slaStatus(policy(), metrics, T0 + 10 * HOUR);
    expect(clocks.map(({ target, stoppedAt, breached }) => ({ target, stoppedAt, breached }))).toEqual([
      { target: 'firstResponse', stoppedAt: T0 + 30 * MINUTE, breached: false },
      { target: 'resolution', stoppedAt: T0 + 30 * MINUTE, breached: false },
    ]);
    // A reopened cycle starts its resolution clock at the reopening
    const reopened = scenario()
      .customer('m1', T0)
      .status('resolved', T0 + 30 * MINUTE)
      .customer('m2', T0 + 2 * HOUR)
      .metrics();
    expect(slaStatus(policy(), reopened, T0 + 3 * HOUR).find((c) => c.target === 'resolution')).toMatchObject(
      {
        startedAt: T0 + 2 * HOUR,
        dueAt: T0 + 10 * HOUR,
      },
    );
  });

  it('[SL5] with the pause option the clock stops while pending or snoozed; without it, it runs on', () => {
    // Given the customer waits, the agent snoozes for 2 h, it wakes, then the agent marks it pending
    const given = scenario()
      .customer('m1', T0)
      .snooze(T0 + 3 * HOUR, T0 + HOUR)
      .wake(T0 + 3 * HOUR)
      .status('pending', T0 + 4 * HOUR);
    const pausing = policy({ pauseWhileWaitingOnCustomer: true, targets: { resolution: 5 * HOUR } });
    // Then while pending, 2 h of the 5 h are used (1 h before the snooze, 1 h after), the clock is paused, nothing is due
    expect(slaStatus(pausing, given.metrics(), T0 + 6 * HOUR)[0]).toMatchObject({
      remainingMs: 3 * HOUR,
      paused: true,
      dueAt: null,
      breached: false,
    });
    // When the customer writes at T0 + 7 h, Then the clock runs again and is due 3 h later
    given.customer('m2', T0 + 7 * HOUR);
    expect(slaStatus(pausing, given.metrics(), T0 + 7 * HOUR)[0]).toMatchObject({
      dueAt: T0 + 10 * HOUR,
      paused: false,
    });
    // And a policy without the pause was due at T0 + 5 h
    const running = policy({ targets: { resolution: 5 * HOUR } });
    expect(slaStatus(running, given.metrics(), T0 + 7 * HOUR)[0]).toMatchObject({
      dueAt: T0 + 5 * HOUR,
      breached: true,
    });
  });

  it('[SL6] a breach is decided once per target per cycle, with its due time; a new cycle is measured anew', () => {
    const given = scenario().customer('m1', T0);
    // When an hour and a half passed without a human reply, Then first response is breached
    const now = T0 + 90 * MINUTE;
    const breaches = decideSlaBreaches(policy(), given.metrics(), now);
    expect(breaches).toEqual([
      {
        type: 'SlaBreached',
        data: { cycle: 1, target: 'firstResponse', policyId: 'standard', dueAt: T0 + HOUR, at: now },
      },
    ]);
    expect(decideSlaBreaches(policy(), given.metrics(), T0 + 30 * MINUTE)).toEqual([]);
    // Given the breach was recorded, When decided again, Then nothing more
    for (const event of breaches) given.append(event);
    expect(decideSlaBreaches(policy(), given.metrics(), now + HOUR)).toEqual([]);
    // Two late next responses in one cycle make one breach
    given
      .reply('r1', T0 + 2 * HOUR)
      .customer('m2', T0 + 3 * HOUR)
      .reply('r2', T0 + 4 * HOUR)
      .customer('m3', T0 + 5 * HOUR)
      .reply('r3', T0 + 6 * HOUR);
    const late = decideSlaBreaches(policy(), given.metrics(), T0 + 6 * HOUR);
    expect(late.map((event) => [event.data.target, event.data.dueAt])).toEqual([
      ['nextResponse', T0 + 3 * HOUR + 30 * MINUTE],
    ]);
    for (const event of late) given.append(event);
    expect(decideSlaBreaches(policy(), given.metrics(), T0 + 7 * HOUR)).toEqual([]);
    // When resolved late and reopened, Then cycle 2 is measured on its own
    given.status('resolved', T0 + 9 * HOUR);
    const resolution = policy({ targets: { resolution: 8 * HOUR } });
    expect(decideSlaBreaches(resolution, given.metrics(), T0 + 9 * HOUR).map((event) => event.data)).toEqual([
      { cycle: 1, target: 'resolution', policyId: 'standard', dueAt: T0 + 8 * HOUR, at: T0 + 9 * HOUR },
    ]);
    given.customer('m4', T0 + 10 * HOUR);
    expect(decideSlaBreaches(resolution, given.metrics(), T0 + 11 * HOUR)).toEqual([]);
    expect(decideSlaBreaches(policy(), given.metrics(), T0 + 12 * HOUR).map((event) => event.data)).toEqual([
      { cycle: 2, target: 'firstResponse', policyId: 'standard', dueAt: T0 + 11 * HOUR, at: T0 + 12 * HOUR },
    ]);
  });
});

describe('metrics and SLA over random histories', () => {
  type Step = {
    kind: 'customer' | 'reply' | 'bot' | 'resolve' | 'open' | 'pending' | 'snooze' | 'wake' | 'fail';
    gap: number;
  };
  const step = fc.record({
    kind: fc.constantFrom<Step['kind'][]>(
      'customer',
      'customer',
      'reply',
      'reply',
      'bot',
      'resolve',
      'open',
      'pending',
      'snooze',
      'wake',
      'fail',
    ),
    gap: fc.integer({ min: 0, max: 30 * HOUR }),
  });

  it('[MT6] [SL6] business time never exceeds calendar time, responses alternate with waits, and a breach is decided once', () => {
    const pausing = policy({ hours: 'business', pauseWhileWaitingOnCustomer: true });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
        const given = scenario(office).customer('m0', T0);
        let now = T0;
        let replies = 0;
        steps.forEach(({ kind, gap }, i) => {
          now += gap;
          if (kind === 'customer') given.customer(`m${i + 1}`, now);
          else if (kind === 'reply') given.reply(`r${++replies}`, now);
          else if (kind === 'bot') given.botReply(`b${i}`, now);
          else if (kind === 'resolve') given.status('resolved', now);
          else if (kind === 'open') given.status('open', now);
          else if (kind === 'pending') given.status('pending', now);
          else if (kind === 'snooze') given.snooze(now + HOUR, now);
          else if (kind === 'wake') given.wake(now);
          else if (replies > 0) given.failReply(`r${replies}`, now);
          for (const p of [policy(), pausing]) {
            for (const event of decideSlaBreaches(p, given.metrics(), now)) given.append(event);
            expect(decideSlaBreaches(p, given.metrics(), now)).toEqual([]);
          }
        });
        for (const facts of given.metrics().cycles) {
          expect(facts.messagesOut).toBeGreaterThanOrEqual(0);
          facts.responses.forEach((response, index) => {
            expect(response.kind).toBe(index === 0 ? 'first' : 'next');
            expect(response.calendarMs).toBeGreaterThanOrEqual(0);
            expect(response.businessMs).toBeLessThanOrEqual(response.calendarMs);
          });
          if (facts.resolution)
            expect(facts.resolution.businessMs).toBeLessThanOrEqual(facts.resolution.calendarMs);
          expect(new Set(facts.slaBreached).size).toBe(facts.slaBreached.length);
        }
      }),
      { numRuns: 50 },
    );
  });
});
