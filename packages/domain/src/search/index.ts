export { MIN_PHONE_DIGITS, phoneDigits, phoneMatches } from './phone';
export {
  highlight,
  matchesTerms,
  MAX_QUERY_TERMS,
  queryTerms,
  searchTerms,
  snippet,
  type SearchMatch,
  type SnippetPart,
} from './terms';
export {
  compareKeys,
  isSnoozeDue,
  LIST_SORTS,
  matchesContact,
  matchesListFilter,
  nextWake,
  sortKey,
  sortRows,
  waitingSince,
  type ListFilter,
  type ListRow,
  type ListSort,
} from './list';
export { searchableText, type MessageKind } from './message';
