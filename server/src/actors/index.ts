export { GrainConflictError, GrainRuntimeClosedError } from './errors';
export { defineGrain } from './grain';
export type { Grain, GrainDefinition, SnapshotCodec } from './grain';
export { Mailbox } from './mailbox';
export { createGrainRuntime } from './runtime';
export type {
  AskOptions,
  AskResult,
  GrainErrorContext,
  GrainRef,
  GrainRuntime,
  GrainRuntimeOptions,
  GrainRuntimeStats,
  GrainView,
} from './runtime';
export { createMemorySnapshotStore } from './snapshots';
export type { MemorySnapshotStore, Snapshot, SnapshotStore } from './snapshots';
