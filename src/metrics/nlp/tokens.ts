// Token-sequence inputs and n-gram counting shared by Bleu and Rouge (internal, not exported from kindling).
import { describeValue } from '../../internal';

/** A token: a word (string) or a token id (number). Tokens are equal when `===`. */
export type Token = string | number;

/**
 * What Bleu and Rouge take: `[candidates, references]` (or `{ yPred, y }`), where `candidates[i]` is one predicted
 * sequence of tokens and `references[i]` the list of reference sequences for it.
 *
 * @example
 * const output: TextPair = [[['the', 'cat', 'sat']], [[['the', 'cat', 'sat', 'down'], ['a', 'cat', 'sat']]]];
 */
export type TextPair =
  | readonly [candidates: readonly (readonly Token[])[], references: readonly (readonly (readonly Token[])[])[]]
  | { readonly yPred: readonly (readonly Token[])[]; readonly y: readonly (readonly (readonly Token[])[])[] };

const SHAPE =
  '[candidates, references] (or { yPred, y }) with candidates an array of token arrays and references an array, ' +
  'one per candidate, of token arrays';

/** Unpacks and checks a {@link TextPair}; throws a TypeError naming `owner` and what was wrong. */
export function textPair(output: unknown, owner: string): [Token[][], Token[][][]] {
  let candidates: unknown;
  let references: unknown;
  if (Array.isArray(output) && output.length === 2) [candidates, references] = output;
  else if (output !== null && typeof output === 'object' && !Array.isArray(output)) {
    ({ yPred: candidates, y: references } = output as { yPred?: unknown; y?: unknown });
  } else {
    throw new TypeError(`${owner}.update: the input should be ${SHAPE}, got ${describeValue(output)}.`);
  }
  if (!Array.isArray(candidates) || !candidates.every(isTokens)) {
    throw new TypeError(
      `${owner}.update: candidates (yPred) should be an array of token arrays (strings or numbers), got ${describeValue(candidates)}. ` +
        'Split each sentence into tokens, e.g. sentence.split(" ").',
    );
  }
  if (!Array.isArray(references) || !references.every((refs) => Array.isArray(refs) && refs.every(isTokens))) {
    throw new TypeError(
      `${owner}.update: references (y) should be an array, one per candidate, of arrays of token arrays, got ${describeValue(references)}. ` +
        'Wrap a single reference per candidate in an array: [[reference]].',
    );
  }
  if (candidates.length !== references.length) {
    throw new RangeError(
      `${owner}.update: there should be one list of references per candidate, got ${candidates.length} candidates and ${references.length} lists of references.`,
    );
  }
  const empty = references.findIndex((refs) => refs.length === 0);
  if (empty >= 0) {
    throw new RangeError(`${owner}.update: every candidate needs at least one reference, candidate ${empty} has none.`);
  }
  return [candidates as Token[][], references as Token[][][]];
}

function isTokens(value: unknown): value is Token[] {
  return Array.isArray(value) && value.every((t) => typeof t === 'string' || typeof t === 'number');
}

/** Counts of the n-grams of `tokens`, keyed by an unambiguous encoding of the n-gram. */
export function ngramCounts(tokens: readonly Token[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = JSON.stringify(tokens.slice(i, i + n));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Σ over n-grams of min(count in a, count in b): the clipped matches. */
export function overlap(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const [key, count] of a) total += Math.min(count, b.get(key) ?? 0);
  return total;
}

/** Σ of the counts. */
export function total(counts: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const count of counts.values()) sum += count;
  return sum;
}

/** Length of the longest common subsequence of two token sequences (O(|a|·|b|) time, O(|b|) memory). */
export function lcsLength(a: readonly Token[], b: readonly Token[]): number {
  let row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const next = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      next[j] = a[i - 1] === b[j - 1] ? row[j - 1]! + 1 : Math.max(row[j]!, next[j - 1]!);
    }
    row = next;
  }
  return row[b.length]!;
}
