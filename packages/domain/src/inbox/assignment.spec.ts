import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canTake,
  chooseAgent,
  initialStrategyState,
  leastBusy,
  roundRobin,
  weighted,
  type AgentLoad,
  type AssignmentPolicy,
  type StrategyState,
} from './assignment';

const agent = (agentId: string, overrides: Partial<AgentLoad> = {}): AgentLoad => ({
  agentId,
  weight: 1,
  capacity: 1_000,
  presence: 'online',
  load: 0,
  lastAssignedAt: null,
  ...overrides,
});
const team = (weights: readonly number[]) => weights.map((weight, i) => agent(`a${i}`, { weight }));

/** Picks `n` times with loads held still, counting who got what. */
function pickMany(agents: readonly AgentLoad[], state: StrategyState, n: number): Map<string, number> {
  const counts = new Map(agents.map((a) => [a.agentId, 0]));
  let current = state;
  for (let i = 0; i < n; i++) {
    const choice = chooseAgent(agents, current);
    if (choice.agentId !== null) counts.set(choice.agentId, (counts.get(choice.agentId) ?? 0) + 1);
    current = choice.state;
  }
  return counts;
}
const spread = (counts: Map<string, number>) => Math.max(...counts.values()) - Math.min(...counts.values());

const policies: AssignmentPolicy[] = ['round-robin', 'weighted', 'least-busy'];
const anyAgent = fc.record({
  agentId: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  weight: fc.integer({ min: 1, max: 5 }),
  capacity: fc.integer({ min: 0, max: 4 }),
  presence: fc.constantFrom('online' as const, 'busy' as const, 'offline' as const),
  load: fc.integer({ min: 0, max: 6 }),
  lastAssignedAt: fc.option(fc.integer({ min: 0, max: 1_000 })),
});
const anyTeam = fc.uniqueArray(anyAgent, { selector: (a) => a.agentId, maxLength: 5 });

describe('assignment strategies', () => {
  it('[AS1] only online members below capacity can take a conversation', () => {
    expect(canTake(agent('a'))).toBe(true);
    expect(canTake(agent('a', { presence: 'busy' }))).toBe(false);
    expect(canTake(agent('a', { presence: 'offline' }))).toBe(false);
    expect(canTake(agent('a', { capacity: 2, load: 2 }))).toBe(false);
  });

  it('[AS1] no strategy ever picks an away, offline or full member, and each picks someone when anyone can take it', () => {
    fc.assert(
      fc.property(anyTeam, fc.constantFrom(...policies), (agents, policy) => {
        const { agentId } = chooseAgent(agents, initialStrategyState(policy));
        const chosen = agents.find((a) => a.agentId === agentId);
        if (chosen) expect(canTake(chosen)).toBe(true);
        expect(agentId !== null).toBe(agents.some(canTake));
      }),
    );
  });

  it('[AS2] round-robin takes the next member after the last one chosen, skipping who cannot take it', () => {
    const agents = [agent('a'), agent('b', { presence: 'busy' }), agent('c')];
    expect(roundRobin(agents, { kind: 'round-robin', lastAgentId: null }).agentId).toBe('a');
    expect(roundRobin(agents, { kind: 'round-robin', lastAgentId: 'a' }).agentId).toBe('c');
    expect(roundRobin(agents, { kind: 'round-robin', lastAgentId: 'c' }).agentId).toBe('a');
    expect(roundRobin(agents, { kind: 'round-robin', lastAgentId: 'gone' }).agentId).toBe('a');
  });

  it('[AS2] round-robin spreads N assignments over equal agents within 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 100 }), (size, n) => {
        expect(
          spread(pickMany(team(Array(size).fill(1)), initialStrategyState('round-robin'), n)),
        ).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('[AS3] weighted with equal weights spreads N assignments within 1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat(100),
        (size, w, n) => {
          expect(
            spread(pickMany(team(Array(size).fill(w)), initialStrategyState('weighted'), n)),
          ).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('[AS3] weighted gives each agent exactly its weight in every sum(weights) picks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        (weights, rounds) => {
          const total = weights.reduce((sum, w) => sum + w, 0);
          const counts = pickMany(team(weights), initialStrategyState('weighted'), rounds * total);
          weights.forEach((w, i) => expect(counts.get(`a${i}`)).toBe(rounds * w));
        },
      ),
    );
  });

  it('[AS3] weighted interleaves picks instead of bursting (nginx smooth order)', () => {
    const agents = [agent('a', { weight: 5 }), agent('b', { weight: 1 }), agent('c', { weight: 1 })];
    let state: StrategyState = initialStrategyState('weighted');
    const order: (string | null)[] = [];
    for (let i = 0; i < 7; i++) {
      const choice = weighted(agents, state as Extract<StrategyState, { kind: 'weighted' }>);
      order.push(choice.agentId);
      state = choice.state;
    }
    expect(order).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  });

  it('[AS4] least-busy picks the fewest open conversations, ties to whoever waited longest', () => {
    const state = { kind: 'least-busy' } as const;
    const agents = [
      agent('a', { load: 2, lastAssignedAt: 1 }),
      agent('b', { load: 1, lastAssignedAt: 50 }),
      agent('c', { load: 1, lastAssignedAt: 10 }),
    ];
    expect(leastBusy(agents, state).agentId).toBe('c');
    expect(leastBusy([...agents, agent('d', { load: 1 })], state).agentId).toBe('d');
    expect(leastBusy([agent('e', { load: 0, presence: 'busy' }), ...agents], state).agentId).toBe('c');
  });

  it('[AS4] least-busy never picks above capacity, nor an away or offline member, and always the least loaded', () => {
    fc.assert(
      fc.property(anyTeam, (agents) => {
        const chosen = agents.find((a) => a.agentId === leastBusy(agents, { kind: 'least-busy' }).agentId);
        if (!chosen) return;
        expect(chosen.presence).toBe('online');
        expect(chosen.load).toBeLessThan(chosen.capacity);
        for (const other of agents.filter(canTake)) expect(chosen.load).toBeLessThanOrEqual(other.load);
      }),
    );
  });
});
