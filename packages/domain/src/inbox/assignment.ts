import { assertNever } from '../shared/command';
import type { EpochMs } from '../shared/ids';

/** Whether a member takes conversations now: only `online` members do (AS1). */
export type Presence = 'online' | 'busy' | 'offline';
export type AssignmentPolicy = 'round-robin' | 'weighted' | 'least-busy';

/** A member as the strategies see it: `load` is their open conversations in this inbox. */
export type AgentLoad = {
  readonly agentId: string;
  readonly weight: number;
  readonly capacity: number;
  readonly presence: Presence;
  readonly load: number;
  readonly lastAssignedAt: EpochMs | null;
};

/** What a strategy remembers between picks (JSON, so events can carry it). */
export type StrategyState =
  | { kind: 'round-robin'; lastAgentId: string | null }
  | { kind: 'weighted'; current: { [agentId: string]: number } }
  | { kind: 'least-busy' };

export type Choice<State extends StrategyState = StrategyState> = { agentId: string | null; state: State };
type StateOf<Kind extends StrategyState['kind']> = Extract<StrategyState, { kind: Kind }>;

/** Only an online member below capacity can take a conversation. */
export function canTake(agent: AgentLoad): boolean {
  return agent.presence === 'online' && agent.load < agent.capacity;
}

export function initialStrategyState(policy: AssignmentPolicy): StrategyState {
  switch (policy) {
    case 'round-robin':
      return { kind: 'round-robin', lastAgentId: null };
    case 'weighted':
      return { kind: 'weighted', current: {} };
    case 'least-busy':
      return { kind: 'least-busy' };
    default:
      return assertNever(policy);
  }
}

/** Picks an agent with the strategy the state belongs to. `agents` is in member order. */
export function chooseAgent(agents: readonly AgentLoad[], state: StrategyState): Choice {
  switch (state.kind) {
    case 'round-robin':
      return roundRobin(agents, state);
    case 'weighted':
      return weighted(agents, state);
    case 'least-busy':
      return leastBusy(agents, state);
    default:
      return assertNever(state);
  }
}

/** The first agent who can take work after the last one chosen, in member order, wrapping around. */
export function roundRobin(
  agents: readonly AgentLoad[],
  state: StateOf<'round-robin'>,
): Choice<StateOf<'round-robin'>> {
  const start = agents.findIndex((agent) => agent.agentId === state.lastAgentId) + 1;
  for (let i = 0; i < agents.length; i++) {
    const agent = agents[(start + i) % agents.length];
    if (agent && canTake(agent)) {
      return { agentId: agent.agentId, state: { ...state, lastAgentId: agent.agentId } };
    }
  }
  return { agentId: null, state };
}

/**
 * Smooth weighted round-robin (nginx): every agent who can take work gains its weight, the highest
 * total wins and pays back the sum of the weights. Over sum(weights) picks each agent gets its weight, interleaved.
 */
export function weighted(
  agents: readonly AgentLoad[],
  state: StateOf<'weighted'>,
): Choice<StateOf<'weighted'>> {
  const current = new Map(agents.map((agent) => [agent.agentId, valueOf(state.current, agent.agentId)]));
  let total = 0;
  let best: string | null = null;
  for (const agent of agents.filter(canTake)) {
    const value = (current.get(agent.agentId) ?? 0) + agent.weight;
    current.set(agent.agentId, value);
    total += agent.weight;
    if (best === null || value > (current.get(best) ?? 0)) best = agent.agentId;
  }
  if (best !== null) current.set(best, (current.get(best) ?? 0) - total);
  return { agentId: best, state: { kind: 'weighted', current: Object.fromEntries(current) } };
}

/** The agent with the fewest open conversations; ties go to whoever was assigned longest ago (never first). */
export function leastBusy(
  agents: readonly AgentLoad[],
  state: StateOf<'least-busy'>,
): Choice<StateOf<'least-busy'>> {
  let best: AgentLoad | null = null;
  for (const agent of agents) {
    if (canTake(agent) && (best === null || busier(best, agent))) best = agent;
  }
  return { agentId: best?.agentId ?? null, state };
}

function busier(a: AgentLoad, b: AgentLoad): boolean {
  if (a.load !== b.load) return a.load > b.load;
  return (a.lastAssignedAt ?? -Infinity) > (b.lastAssignedAt ?? -Infinity);
}

function valueOf(record: { readonly [key: string]: number }, key: string): number {
  return Object.hasOwn(record, key) ? (record[key] ?? 0) : 0;
}
