import { assertNever } from '../shared/command';
import type { Decider } from '../shared/envelope';
import { refuse } from '../shared/errors';
import {
  RETENTION_MAX_DAYS,
  RETENTION_MIN_DAYS,
  SettingsErrorCode,
  type TenantSettingsCommand,
  type TenantSettingsEvent,
  type TenantSettingsState,
} from './types';

export function initialState(): TenantSettingsState {
  return { retentionDays: null };
}

/** RT1: none, or whole days from 1 to 3650. */
export function isRetentionDays(days: unknown): days is number | null {
  return (
    days === null ||
    (typeof days === 'number' &&
      Number.isInteger(days) &&
      days >= RETENTION_MIN_DAYS &&
      days <= RETENTION_MAX_DAYS)
  );
}

export function decide(command: TenantSettingsCommand, state: TenantSettingsState): TenantSettingsEvent[] {
  switch (command.type) {
    case 'SetRetention': {
      const { days, changedBy, at } = command.data;
      if (!isRetentionDays(days)) {
        refuse(
          SettingsErrorCode.RETENTION_INVALID,
          `retention is whole days from ${RETENTION_MIN_DAYS} to ${RETENTION_MAX_DAYS}, or none`,
          'RT1',
        );
      }
      // RT2: the value it has already changes nothing and records nothing.
      if (days === state.retentionDays) return [];
      return [{ type: 'RetentionSet', data: { days, previous: state.retentionDays, changedBy, at } }];
    }
    default:
      return assertNever(command.type);
  }
}

export function evolve(state: TenantSettingsState, event: TenantSettingsEvent): TenantSettingsState {
  switch (event.type) {
    case 'RetentionSet':
      return { ...state, retentionDays: event.data.days };
    default:
      return assertNever(event.type);
  }
}

/** A tenant's settings aggregate: for now its retention of message content (decision 0031). */
export const tenantSettings: Decider<TenantSettingsCommand, TenantSettingsState, TenantSettingsEvent> = {
  decide,
  evolve,
  initialState,
};
