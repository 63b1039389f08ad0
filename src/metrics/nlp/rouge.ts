import {
  checkInteger,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkPlainObject,
  checkStateDict,
  describeValue,
  failType,
} from '../../internal';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { lcsLength, ngramCounts, overlap, type TextPair, type Token, textPair, total } from './tokens';

/** A ROUGE variant: `'L'` (longest common subsequence) or n for ROUGE-N (n-gram co-occurrence). */
export type RougeVariant = 'L' | number;

/** Options of {@link Rouge}. */
export interface RougeOptions {
  /** The variants computed, e.g. `['L', 2]` (the default) or `[1, 2, 4, 'L']`. */
  variants?: readonly RougeVariant[];
  /** With several references: `'average'` (default) sums the counts over them; `'best'` keeps the one with the best recall. */
  multiref?: 'average' | 'best';
  /** Weight of recall against precision in F = P·R / ((1 - alpha)·P + alpha·R), in [0, 1]: 0 (default) gives F = R. */
  alpha?: number;
  /** Maps the engine output to `[candidates, references]`. */
  outputTransform?: (output: any) => TextPair;
}

/** What {@link Rouge} computes: `'Rouge-L-P'`, `'Rouge-L-R'`, `'Rouge-L-F'`, `'Rouge-2-P'`, ... in variant order. */
export type RougeValues = Record<string, number>;

/** The plain-data state of a {@link Rouge}. */
export interface RougeStateDict {
  /** Per output key ('Rouge-L-P', ...): the sum over candidates. */
  sums: Record<string, number>;
  /** Number of candidates. */
  numExamples: number;
}

/**
 * ROUGE-N and ROUGE-L (Lin 2004) of candidate token sequences against their references, like the reference's `Rouge`:
 * for each candidate, precision P and recall R of its n-gram co-occurrences (ROUGE-N) or of its longest common
 * subsequence (ROUGE-L) with the references, and F = P·R / ((1 - alpha)·P + alpha·R); each averaged over candidates.
 * The value is an object with `Rouge-{variant}-P`, `-R` and `-F` per variant; attached, each key is also written to
 * `engine.state.metrics`.
 *
 * Input: `[candidates, references]` (or `{ yPred, y }`): `candidates` an array of token arrays, one per sentence
 * (`['the', 'cat', 'sat']`; tokens are strings or numeric ids), and `references` an array with, for each candidate,
 * an array of one or more reference token arrays. Tokens are compared with `===`. Holds three sums per variant and a
 * count on the host; no tensor.
 *
 * @example
 * const rouge = new Rouge({ variants: ['L', 2], multiref: 'best' });
 * rouge.update([['the cat is not there'.split(' ')], [['the cat is on the mat'.split(' '), 'there is a cat on the mat'.split(' ')]]]);
 * rouge.compute(); // { 'Rouge-L-P': 0.6, 'Rouge-L-R': 0.5, 'Rouge-L-F': 0.5, 'Rouge-2-P': 0.5, 'Rouge-2-R': 0.4, 'Rouge-2-F': 0.4 }
 */
export class Rouge extends Metric<TextPair, RougeValues> {
  readonly #variants: readonly RougeVariant[];
  readonly #multiref: 'average' | 'best';
  readonly #alpha: number;
  readonly #keys: readonly string[];
  #sums: Record<string, number>;
  #numExamples = 0;

  /** @param options `{ variants?, multiref?, alpha?, outputTransform? }`, see {@link RougeOptions}. */
  constructor(options: RougeOptions = {}) {
    const {
      variants = ['L', 2],
      multiref = 'average',
      alpha = 0,
      ...rest
    } = checkOptions('Rouge', options, ['variants', 'multiref', 'alpha', 'outputTransform']);
    super(rest as Pick<RougeOptions, 'outputTransform'>);
    const isVariant = (v: unknown) => v === 'L' || (Number.isSafeInteger(v) && (v as number) >= 1);
    if (!Array.isArray(variants) || variants.length === 0 || !variants.every(isVariant)) {
      failType('Rouge', 'option variants', "a non-empty array of 'L' and positive integers, e.g. ['L', 2]", variants);
    }
    if (new Set(variants).size !== variants.length) {
      throw new RangeError(`Rouge: option variants should not repeat a variant, got ${describeValue(variants)}.`);
    }
    this.#variants = [...(variants as RougeVariant[])];
    this.#multiref = checkOneOf('Rouge', 'option multiref', multiref, ['average', 'best']);
    this.#alpha = checkNumber('Rouge', 'option alpha', alpha, { min: 0, max: 1 });
    this.#keys = this.#variants.flatMap((v) => ['P', 'R', 'F'].map((s) => `Rouge-${v}-${s}`));
    this.#sums = this.#zeros();
  }

  protected override get metricName(): string {
    return 'Rouge';
  }

  #zeros(): Record<string, number> {
    return Object.fromEntries(this.#keys.map((key) => [key, 0]));
  }

  /** Zeroes the sums and the count. */
  reset(): void {
    this.#sums = this.#zeros();
    this.#numExamples = 0;
  }

  /**
   * Scores each candidate against its references and adds its P, R and F per variant.
   *
   * @example
   * rouge.update([[candidateTokens], [[referenceTokens]]]);
   */
  update(output: TextPair): void {
    const [candidates, references] = textPair(output, 'Rouge');
    for (const [i, candidate] of candidates.entries()) {
      for (const variant of this.#variants) {
        const scores = references[i]!.map((reference) => matchCounts(variant, candidate, reference));
        const { match, candidateCount, referenceCount } = this.#reduce(scores);
        const precision = candidateCount > 0 ? match / candidateCount : 0;
        const recall = referenceCount > 0 ? match / referenceCount : 0;
        const name = `Rouge-${variant}`;
        this.#sums[`${name}-P`]! += precision;
        this.#sums[`${name}-R`]! += recall;
        if (precision * recall > 0) {
          this.#sums[`${name}-F`]! += (precision * recall) / ((1 - this.#alpha) * precision + this.#alpha * recall);
        }
      }
      this.#numExamples += 1;
    }
  }

  #reduce(scores: readonly MatchCounts[]): MatchCounts {
    if (this.#multiref === 'average') {
      return scores.reduce((a, b) => ({
        match: a.match + b.match,
        candidateCount: a.candidateCount + b.candidateCount,
        referenceCount: a.referenceCount + b.referenceCount,
      }));
    }
    const recall = (s: MatchCounts) => (s.referenceCount > 0 ? s.match / s.referenceCount : 0);
    return scores.reduce((best, s) => (recall(s) > recall(best) ? s : best));
  }

  /**
   * The mean P, R and F per variant, keyed `Rouge-{variant}-{P|R|F}`; throws NotComputableError before any candidate.
   *
   * @example
   * const { 'Rouge-L-F': rougeL } = rouge.compute();
   */
  compute(): RougeValues {
    if (this.#numExamples === 0) {
      throw new NotComputableError('Rouge must have at least one example before it can be computed.');
    }
    return Object.fromEntries(this.#keys.map((key) => [key, this.#sums[key]! / this.#numExamples]));
  }

  /**
   * The sums per output key and the count, as plain numbers.
   *
   * @example
   * const saved = rouge.stateDict(); // { sums: { 'Rouge-L-P': 1.2, ... }, numExamples: 2 }
   */
  override stateDict(): RougeStateDict {
    return { sums: { ...this.#sums }, numExamples: this.#numExamples };
  }

  /**
   * Restores a state from {@link stateDict} of a Rouge with the same variants; checks every entry before changing
   * anything.
   *
   * @example
   * rouge.loadStateDict(saved);
   */
  override loadStateDict(stateDict: RougeStateDict): void {
    const where = 'Rouge.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['sums', 'numExamples']);
    const numExamples = checkInteger(where, "state dict entry 'numExamples'", sd.numExamples, { min: 0 });
    checkPlainObject(where, "state dict entry 'sums'", sd.sums);
    const sums = checkStateDict(where, sd.sums, this.#keys);
    for (const key of this.#keys) checkNumber(where, `state dict entry 'sums.${key}'`, sums[key], { min: 0 });
    this.#sums = Object.fromEntries(this.#keys.map((key) => [key, sums[key] as number]));
    this.#numExamples = numExamples;
    markLoaded(this);
  }
}

interface MatchCounts {
  match: number;
  candidateCount: number;
  referenceCount: number;
}

function matchCounts(variant: RougeVariant, candidate: readonly Token[], reference: readonly Token[]): MatchCounts {
  if (variant === 'L') {
    return {
      match: lcsLength(candidate, reference),
      candidateCount: candidate.length,
      referenceCount: reference.length,
    };
  }
  const c = ngramCounts(candidate, variant);
  const r = ngramCounts(reference, variant);
  return { match: overlap(c, r), candidateCount: total(c), referenceCount: total(r) };
}
