// Checks on strings shared by validation and JSON normalisation.

/** Lone surrogates cannot be encoded as UTF-8: ClickHouse would store replacement characters or mark the row malformed. */
export const NOT_WELL_FORMED = 'contains a lone surrogate (not well-formed UTF-16), which UTF-8 cannot carry';

// String.prototype.isWellFormed is ES2024 (Node 20+); the repository's TypeScript lib is ES2023.
const wellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

/** Whether `s` has no lone surrogate. */
export function isWellFormed(s: string): boolean {
  return wellFormed.call(s);
}

const toWellFormedText = (String.prototype as unknown as { toWellFormed: (this: string) => string })
  .toWellFormed;

/** `s` with each lone surrogate replaced by U+FFFD. */
export function toWellFormed(s: string): string {
  return toWellFormedText.call(s);
}
