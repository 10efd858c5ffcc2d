/** A new random id in the alphabet the API accepts for ids (letters, digits and hyphens). */
export function newId(): string {
  return crypto.randomUUID();
}
