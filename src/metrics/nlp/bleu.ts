import { checkInteger, checkNumber, checkOneOf, checkOptions, checkStateDict, failRange } from '../../internal';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { ngramCounts, overlap, type TextPair, type Token, textPair, total } from './tokens';

/** How {@link Bleu} smooths n-gram precisions that have no match (the reference's names). */
export type BleuSmooth = 'no_smooth' | 'smooth1' | 'nltk_smooth2' | 'smooth2';

/** Options of {@link Bleu}. */
export interface BleuOptions {
  /** Highest n-gram order N; the weights are 1/N each. Default 4. */
  ngram?: number;
  /**
   * `'no_smooth'` (default: 0 as soon as one order has no match), `'smooth1'` (0.1 matches for an order without any,
   * Chen & Cherry's method 1), `'nltk_smooth2'` (add one to the counts of every order above 1, as NLTK's method 2),
   * `'smooth2'` (the same without NLTK's guard against empty counts, Lin & Och 2004).
   */
  smooth?: BleuSmooth;
  /** `'macro'` (default): the mean of the sentences' BLEU; `'micro'`: one corpus BLEU from the summed counts. */
  average?: 'macro' | 'micro';
  /** Maps the engine output to `[candidates, references]`. */
  outputTransform?: (output: any) => TextPair;
}

/** The plain-data state of a {@link Bleu} with `average: 'macro'`. */
export interface BleuMacroStateDict {
  /** Σ of the sentences' BLEU. */
  sumOfBleu: number;
  /** Number of candidate sentences. */
  numSentences: number;
}

/** The plain-data state of a {@link Bleu} with `average: 'micro'`. */
export interface BleuMicroStateDict {
  /** Clipped n-gram matches per order 1..N. */
  pNumerators: number[];
  /** Candidate n-grams per order 1..N. */
  pDenominators: number[];
  /** Σ of the candidates' lengths. */
  hypLengthSum: number;
  /** Σ of the closest references' lengths. */
  refLengthSum: number;
  /** Number of candidate sentences. */
  numSentences: number;
}

/** The plain-data state of a {@link Bleu}: the macro or the micro form. */
export type BleuStateDict = BleuMacroStateDict | BleuMicroStateDict;

/**
 * The BLEU score (Papineni et al. 2002) of candidate token sequences against their references, like the reference's
 * `Bleu`: `BP · exp(Σ_n log(p_n) / N)` with `p_n` the modified (clipped) n-gram precisions and `BP` the brevity
 * penalty against the reference closest in length. Macro average by default (the mean of the sentences' BLEU), or
 * micro (`average: 'micro'`, one corpus BLEU).
 *
 * Input: `[candidates, references]` (or `{ yPred, y }`): `candidates` an array of token arrays, one per sentence
 * (`['the', 'cat', 'sat']`; tokens are strings or numeric ids), and `references` an array with, for each candidate,
 * an array of one or more reference token arrays. Tokens are compared with `===`; tokenise (and lowercase) before.
 * Holds a few numbers on the host (macro: a sum and a count; micro: 2N counts and two lengths); no tensor.
 *
 * @example
 * const bleu = new Bleu({ ngram: 4, smooth: 'smooth1' });
 * bleu.update([[['the', 'cat', 'is', 'on', 'the', 'mat']], [[['there', 'is', 'a', 'cat', 'on', 'the', 'mat']]]]);
 * await bleu.compute();
 */
export class Bleu extends Metric<TextPair, number> {
  readonly #ngram: number;
  readonly #smooth: BleuSmooth;
  readonly #average: 'macro' | 'micro';
  #sumOfBleu = 0;
  #numSentences = 0;
  #numerators: number[];
  #denominators: number[];
  #hypLengthSum = 0;
  #refLengthSum = 0;

  /** @param options `{ ngram?, smooth?, average?, outputTransform? }`, see {@link BleuOptions}. */
  constructor(options: BleuOptions = {}) {
    const {
      ngram = 4,
      smooth = 'no_smooth',
      average = 'macro',
      ...rest
    } = checkOptions('Bleu', options, ['ngram', 'smooth', 'average', 'outputTransform']);
    super(rest as Pick<BleuOptions, 'outputTransform'>);
    this.#ngram = checkInteger('Bleu', 'option ngram', ngram, { min: 1 });
    this.#smooth = checkOneOf('Bleu', 'option smooth', smooth, ['no_smooth', 'smooth1', 'nltk_smooth2', 'smooth2']);
    this.#average = checkOneOf('Bleu', 'option average', average, ['macro', 'micro']);
    this.#numerators = new Array<number>(this.#ngram).fill(0);
    this.#denominators = new Array<number>(this.#ngram).fill(0);
  }

  protected override get metricName(): string {
    return 'Bleu';
  }

  /** Zeroes the sums and counts. */
  reset(): void {
    this.#sumOfBleu = 0;
    this.#numSentences = 0;
    this.#numerators = new Array<number>(this.#ngram).fill(0);
    this.#denominators = new Array<number>(this.#ngram).fill(0);
    this.#hypLengthSum = 0;
    this.#refLengthSum = 0;
  }

  /**
   * Counts the n-grams of each candidate against its references: macro adds each sentence's BLEU, micro adds the
   * counts.
   *
   * @example
   * bleu.update([[candidateTokens], [[referenceTokens, otherReferenceTokens]]]);
   */
  update(output: TextPair): void {
    const [candidates, references] = textPair(output, 'Bleu');
    for (const [i, candidate] of candidates.entries()) {
      const counts = this.#counts(candidate, references[i]!);
      if (this.#average === 'macro') {
        this.#sumOfBleu += this.#score(counts.numerators, counts.denominators, counts.hypLength, counts.refLength);
      } else {
        for (let n = 0; n < this.#ngram; n++) {
          this.#numerators[n]! += counts.numerators[n]!;
          this.#denominators[n]! += counts.denominators[n]!;
        }
        this.#hypLengthSum += counts.hypLength;
        this.#refLengthSum += counts.refLength;
      }
      this.#numSentences += 1;
    }
  }

  /**
   * The BLEU score in [0, 1]; throws NotComputableError before any sentence.
   *
   * @example
   * const score = bleu.compute();
   */
  compute(): number {
    if (this.#numSentences === 0) {
      throw new NotComputableError('Bleu must have at least one example before it can be computed.');
    }
    if (this.#average === 'macro') return this.#sumOfBleu / this.#numSentences;
    return this.#score(this.#numerators, this.#denominators, this.#hypLengthSum, this.#refLengthSum);
  }

  #counts(candidate: readonly Token[], references: readonly (readonly Token[])[]) {
    const numerators: number[] = [];
    const denominators: number[] = [];
    for (let n = 1; n <= this.#ngram; n++) {
      const counts = ngramCounts(candidate, n);
      const maxCounts = new Map<string, number>();
      for (const reference of references) {
        for (const [key, count] of ngramCounts(reference, n))
          maxCounts.set(key, Math.max(maxCounts.get(key) ?? 0, count));
      }
      numerators.push(overlap(counts, maxCounts));
      denominators.push(total(counts));
    }
    const hypLength = candidate.length;
    let refLength = references[0]!.length;
    for (const reference of references) {
      const distance = Math.abs(reference.length - hypLength);
      const best = Math.abs(refLength - hypLength);
      if (distance < best || (distance === best && reference.length < refLength)) refLength = reference.length;
    }
    return { numerators, denominators, hypLength, refLength };
  }

  /** BLEU from counts per order (index 0 is unigrams). */
  #score(numerators: readonly number[], denominators: readonly number[], hypLength: number, refLength: number): number {
    if (numerators[0] === 0) return 0;
    if (this.#smooth === 'no_smooth' && Math.min(...numerators) === 0) return 0;
    const brevity = hypLength >= refLength ? 1 : hypLength > 0 ? Math.exp(1 - refLength / hypLength) : 0;
    let logSum = 0;
    for (let n = 0; n < this.#ngram; n++) {
      logSum += Math.log(this.#precision(n, numerators[n]!, denominators[n]!)) / this.#ngram;
    }
    return brevity * Math.exp(logSum);
  }

  /** The smoothed precision of order n + 1. */
  #precision(n: number, numerator: number, denominator: number): number {
    const guarded = Math.max(1, denominator);
    switch (this.#smooth) {
      case 'no_smooth':
        return numerator / guarded;
      case 'smooth1':
        return numerator !== 0 ? numerator / guarded : 0.1 / guarded;
      case 'nltk_smooth2':
        return n === 0 ? numerator / guarded : (numerator + 1) / (guarded + 1);
      case 'smooth2':
        return n === 0 ? numerator / denominator : (numerator + 1) / (denominator + 1);
    }
  }

  /**
   * The sums and counts as plain numbers: `{ sumOfBleu, numSentences }` (macro) or `{ pNumerators, pDenominators,
   * hypLengthSum, refLengthSum, numSentences }` (micro).
   *
   * @example
   * const saved = bleu.stateDict();
   */
  override stateDict(): BleuStateDict {
    if (this.#average === 'macro') return { sumOfBleu: this.#sumOfBleu, numSentences: this.#numSentences };
    return {
      pNumerators: [...this.#numerators],
      pDenominators: [...this.#denominators],
      hypLengthSum: this.#hypLengthSum,
      refLengthSum: this.#refLengthSum,
      numSentences: this.#numSentences,
    };
  }

  /**
   * Restores a state from {@link stateDict} of a Bleu with the same `average` and `ngram`; checks every entry before
   * changing anything.
   *
   * @example
   * bleu.loadStateDict(saved);
   */
  override loadStateDict(stateDict: BleuStateDict): void {
    const where = 'Bleu.loadStateDict';
    const count = (sd: Record<string, unknown>, name: string) =>
      checkInteger(where, `state dict entry '${name}'`, sd[name], { min: 0 });
    if (this.#average === 'macro') {
      const sd = checkStateDict(where, stateDict, ['sumOfBleu', 'numSentences']);
      const sumOfBleu = checkNumber(where, "state dict entry 'sumOfBleu'", sd.sumOfBleu, { min: 0 });
      const numSentences = count(sd, 'numSentences');
      this.reset();
      this.#sumOfBleu = sumOfBleu;
      this.#numSentences = numSentences;
    } else {
      const sd = checkStateDict(where, stateDict, [
        'pNumerators',
        'pDenominators',
        'hypLengthSum',
        'refLengthSum',
        'numSentences',
      ]);
      for (const name of ['pNumerators', 'pDenominators']) {
        const values = sd[name];
        if (
          !Array.isArray(values) ||
          values.length !== this.#ngram ||
          !values.every((v) => Number.isSafeInteger(v) && v >= 0)
        ) {
          failRange(
            where,
            `state dict entry '${name}'`,
            `an array of ${this.#ngram} non-negative integers (one per n-gram order)`,
            values,
          );
        }
      }
      const hypLengthSum = count(sd, 'hypLengthSum');
      const refLengthSum = count(sd, 'refLengthSum');
      const numSentences = count(sd, 'numSentences');
      this.reset();
      this.#numerators = [...(sd.pNumerators as number[])];
      this.#denominators = [...(sd.pDenominators as number[])];
      this.#hypLengthSum = hypLengthSum;
      this.#refLengthSum = refLengthSum;
      this.#numSentences = numSentences;
    }
    markLoaded(this);
  }
}
