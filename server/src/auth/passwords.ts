import { hash, verify } from '@node-rs/argon2';

/**
 * Argon2id with OWASP's baseline (19 MiB, 2 passes, 1 lane): memory-hard, so guessing on GPUs
 * stays expensive. The parameters live in each PHC string, so raising them later keeps old hashes
 * verifiable. Hashing runs on libuv's thread pool, never on the event loop.
 * See docs/decisions/0007-password-sign-in-and-sessions.md.
 */
const ARGON2ID = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Passwords shorter than this are refused when an account is made. */
export const MIN_PASSWORD_LENGTH = 10;
/** Longer inputs are refused before hashing, so nobody can make the server hash megabytes. */
export const MAX_PASSWORD_LENGTH = 256;

/** A PHC-format Argon2id hash of the password, with a fresh random salt. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID);
}

/** True when the password matches the hash; false for a wrong password or a malformed hash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let decoy: Promise<string> | undefined;

/**
 * Verifies against a hash of nothing, so an unknown email costs as long as a wrong password and
 * response times do not tell which emails have accounts.
 */
export async function verifyDecoy(password: string): Promise<false> {
  decoy ??= hashPassword('parley decoy password');
  await verifyPassword(await decoy, password);
  return false;
}
