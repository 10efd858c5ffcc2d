/** Fewest digits a query needs before it is read as a phone number (shorter runs are ordinary text). */
export const MIN_PHONE_DIGITS = 6;

/**
 * The digits of a phone number as typed in any format (SR1): `+34 600 111 222`, `+34600111222`,
 * `(600) 111-222`, `0034 600 111 222`. An international `00` prefix is dropped like `+`. Null when
 * the text is not a phone number: a letter in it, or fewer than `MIN_PHONE_DIGITS` digits.
 */
export function phoneDigits(text: string): string | null {
  const trimmed = text.trim();
  if (!/^\+?[\d\s().\-/]+$/.test(trimmed)) return null;
  let digits = trimmed.replace(/\D/g, '');
  if (!trimmed.startsWith('+') && digits.startsWith('00')) digits = digits.slice(2);
  return digits.length >= MIN_PHONE_DIGITS ? digits : null;
}

/**
 * Whether a contact's handle is the phone number a query names (SR1): the query's digits appear in
 * the handle's (a local number, or the start of one being typed), or the handle's are the end of
 * the query's (the query has a country code the handle lacks).
 */
export function phoneMatches(handle: string, query: string): boolean {
  const wanted = phoneDigits(query);
  const known = phoneDigits(handle);
  if (wanted === null || known === null) return false;
  return known.includes(wanted) || wanted.endsWith(known);
}
