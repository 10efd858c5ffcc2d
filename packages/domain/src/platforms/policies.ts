import { instagram } from './instagram';
import { messenger } from './messenger';
import type { Platform, PlatformPolicy } from './policy';
import { telegram } from './telegram';
import { webchat } from './webchat';
import { whatsapp } from './whatsapp';

/** Every platform's policy; `satisfies` makes adding a platform without a policy a compile error. */
export const platformPolicies = {
  whatsapp,
  instagram,
  messenger,
  telegram,
  webchat,
} as const satisfies Record<Platform, PlatformPolicy>;

export function policyFor(platform: Platform): PlatformPolicy {
  return platformPolicies[platform];
}
