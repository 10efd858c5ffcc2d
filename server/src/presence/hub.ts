import type { JsonObject, TenantId } from '@parley/domain';
import type { SignalChannel } from '../broadcast/signals';

/** What an agent is doing in a conversation; `left` ends it. */
export type PresenceActivity = 'viewing' | 'typing' | 'left';

/** How long a presence lasts without being said again: a client repeats it well within these. */
export const PRESENCE_TTL_MS = { viewing: 30_000, typing: 6_000 } as const;

/** One agent's device in one conversation, as watchers are told it. */
export interface PresenceUpdate {
  readonly conversationId: string;
  readonly inboxId: string;
  readonly agentId: string;
  readonly name: string;
  /** An opaque id per tab, so two tabs of one agent come and go apart. */
  readonly device: string;
  readonly activity: PresenceActivity;
  /** How much longer it holds, counted from when the watcher receives it. */
  readonly ttlMs: number;
}

interface Entry {
  readonly update: PresenceUpdate;
  readonly expiresAt: number;
}

/** Who is where: set by this node's agents, heard from every node's through the signal channel. */
export interface PresenceHub {
  /** Says what a device does in a conversation; a device is in one conversation at a time. */
  set(tenantId: TenantId, update: Omit<PresenceUpdate, 'ttlMs'>): void;
  /** The device is gone (its stream closed): it leaves wherever it was. */
  leaveDevice(tenantId: TenantId, agentId: string, device: string): void;
  /** Everything present in the tenant now, with the time each has left. */
  snapshot(tenantId: TenantId): PresenceUpdate[];
  /** Calls `onUpdate` for each change in the tenant; returns the function that stops it. */
  watch(tenantId: TenantId, onUpdate: (update: PresenceUpdate) => void): () => void;
  close(): void;
}

const PRESENCE = 'presence';

/**
 * Presence is ephemeral (decision 0026): nothing is written to the log. Every node keeps the
 * presences it heard until they expire, so a node that dies takes its agents' presence with it
 * within one time-to-live, and a new watcher starts from the node's own copy.
 */
export function createPresenceHub(
  signals: SignalChannel,
  options: { readonly now?: () => number; readonly sweepMs?: number } = {},
): PresenceHub {
  const now = options.now ?? Date.now;
  /** Tenant -> `agent/device` -> where that device is. */
  const byTenant = new Map<string, Map<string, Entry>>();
  const watchers = new Map<string, Set<(update: PresenceUpdate) => void>>();
  const deviceKey = (agentId: string, device: string) => `${agentId}/${device}`;

  const stopListening = signals.listen('all', (topic, message) => {
    if (message.type !== PRESENCE || topic.kind !== 'tenant') return;
    const update = parseUpdate(message);
    if (!update) return;
    const devices = byTenant.get(topic.tenantId) ?? new Map<string, Entry>();
    byTenant.set(topic.tenantId, devices);
    const key = deviceKey(update.agentId, update.device);
    if (update.activity === 'left') {
      const current = devices.get(key);
      if (current?.update.conversationId === update.conversationId) devices.delete(key);
    } else devices.set(key, { update, expiresAt: now() + update.ttlMs });
    for (const watcher of watchers.get(topic.tenantId) ?? []) watcher(update);
  });
  const sweep = setInterval(() => {
    const at = now();
    for (const devices of byTenant.values())
      for (const [key, entry] of devices) if (entry.expiresAt <= at) devices.delete(key);
  }, options.sweepMs ?? 5_000);
  sweep.unref?.();

  const send = (tenantId: TenantId, update: PresenceUpdate) =>
    signals.signal({ kind: 'tenant', tenantId }, { type: PRESENCE, ...update });

  return {
    set(tenantId, update) {
      const previous = byTenant.get(tenantId)?.get(deviceKey(update.agentId, update.device));
      if (
        previous &&
        previous.update.conversationId !== update.conversationId &&
        update.activity !== 'left'
      ) {
        send(tenantId, { ...previous.update, activity: 'left', ttlMs: 0 });
      }
      const ttlMs = update.activity === 'left' ? 0 : PRESENCE_TTL_MS[update.activity];
      send(tenantId, { ...update, ttlMs });
    },
    leaveDevice(tenantId, agentId, device) {
      const entry = byTenant.get(tenantId)?.get(deviceKey(agentId, device));
      if (entry) send(tenantId, { ...entry.update, activity: 'left', ttlMs: 0 });
    },
    snapshot(tenantId) {
      const at = now();
      return [...(byTenant.get(tenantId)?.values() ?? [])]
        .filter((entry) => entry.expiresAt > at)
        .map((entry) => ({ ...entry.update, ttlMs: entry.expiresAt - at }));
    },
    watch(tenantId, onUpdate) {
      const set = watchers.get(tenantId) ?? new Set();
      set.add(onUpdate);
      watchers.set(tenantId, set);
      return () => {
        set.delete(onUpdate);
        if (set.size === 0) watchers.delete(tenantId);
      };
    },
    close() {
      stopListening();
      clearInterval(sweep);
      byTenant.clear();
      watchers.clear();
    },
  };
}

/** A presence message heard on the channel, or undefined when it is not one (another node's version). */
function parseUpdate(message: JsonObject): PresenceUpdate | undefined {
  const { conversationId, inboxId, agentId, name, device, activity, ttlMs } = message;
  if (
    typeof conversationId !== 'string' ||
    typeof inboxId !== 'string' ||
    typeof agentId !== 'string' ||
    typeof name !== 'string' ||
    typeof device !== 'string' ||
    (activity !== 'viewing' && activity !== 'typing' && activity !== 'left') ||
    typeof ttlMs !== 'number'
  )
    return undefined;
  return { conversationId, inboxId, agentId, name, device, activity, ttlMs };
}
