import type { DomainCommand } from '../shared/command';
import type { DomainEvent } from '../shared/envelope';
import type { EpochMs } from '../shared/ids';

export const SettingsErrorCode = {
  RETENTION_INVALID: 'RETENTION_INVALID',
} as const;
export type SettingsErrorCode = (typeof SettingsErrorCode)[keyof typeof SettingsErrorCode];

/** The shortest and longest retention of message content a tenant may set, in whole days. */
export const RETENTION_MIN_DAYS = 1;
export const RETENTION_MAX_DAYS = 3650;

/** An admin sets how long message content stays readable (`null`: for ever, the default). */
export type SetRetention = DomainCommand<
  'SetRetention',
  { days: number | null; changedBy: string; at: EpochMs }
>;
export type TenantSettingsCommand = SetRetention;

/** The tenant's retention changed (decision 0031): the audit trail's record of who and when. */
export type RetentionSet = DomainEvent<
  'RetentionSet',
  { days: number | null; previous: number | null; changedBy: string; at: EpochMs }
>;
export type TenantSettingsEvent = RetentionSet;

/** A tenant's settings (stream `settings-tenant` of each tenant). */
export type TenantSettingsState = {
  /** Days message content stays readable, or null to keep it for ever. */
  readonly retentionDays: number | null;
};
