import type { TenantId } from '@parley/domain';
import { open, seal } from './aead';
import type { KeyStore } from './keys';

/** Seals a tenant's secrets (webhook secrets, verify tokens, platform tokens) with its tenant key. */
export interface SecretBox {
  /** `purpose` names what the secret belongs to (`app:<id>`, `channel:<id>`); it is authenticated. */
  seal(tenantId: TenantId, purpose: string, clear: string): Promise<string>;
  /** Opens a sealed value; a value stored before sealing existed is returned as it is. */
  open(tenantId: TenantId, purpose: string, stored: string): Promise<string>;
}

const PREFIX = 'enc1:';

/** Whether a stored value is sealed (`enc1:<iv>:<ct>`). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

const aad = (tenantId: string, purpose: string) => `parley:secret:${tenantId}:${purpose}`;

export function createSecretBox(keys: KeyStore): SecretBox {
  return {
    async seal(tenantId, purpose, clear) {
      if (clear === '' || isSealed(clear)) return clear; // nothing to hide, or sealed already
      const { iv, ct } = seal(
        await keys.tenantKey(tenantId),
        Buffer.from(clear, 'utf8'),
        aad(tenantId, purpose),
      );
      return `${PREFIX}${iv}:${ct}`;
    },
    async open(tenantId, purpose, stored) {
      if (!isSealed(stored)) return stored;
      const [iv, ct] = stored.slice(PREFIX.length).split(':');
      if (!iv || !ct) throw new Error(`a sealed secret of ${purpose} is malformed`);
      return open(await keys.tenantKey(tenantId), { iv, ct }, aad(tenantId, purpose)).toString('utf8');
    },
  };
}
