export {
  RETENTION_MAX_DAYS,
  RETENTION_MIN_DAYS,
  SettingsErrorCode,
  type RetentionSet,
  type SetRetention,
  type TenantSettingsCommand,
  type TenantSettingsEvent,
  type TenantSettingsState,
} from './types';
export { isRetentionDays, tenantSettings } from './decider';
export {
  RETENTION_PERIOD_DAYS,
  isPeriodPastRetention,
  isRetentionPeriod,
  lastPeriodPastRetention,
  periodEnd,
  periodStart,
  retentionPeriodOf,
} from './period';
