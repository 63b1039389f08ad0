// Bleu against NLTK and Rouge against a direct implementation of Lin (2004) (fixtures/text.py → text.json).
import { describe, expect, it } from 'vitest';
import fixtures from '../fixtures/text.json';
import { NotComputableError } from '../metric';
import { Bleu, type BleuSmooth } from './bleu';
import { Rouge, type RougeVariant } from './rouge';
import type { TextPair } from './tokens';

const candidates = fixtures.candidates;
const references = fixtures.references;
/** The corpus in two updates (3 candidates, then the rest). */
const updates: TextPair[] = [
  [candidates.slice(0, 3), references.slice(0, 3)],
  { yPred: candidates.slice(3), y: references.slice(3) },
];

describe('Bleu matches NLTK (sentence_bleu averaged, corpus_bleu) and a direct implementation', () => {
  const subset: TextPair = [
    fixtures.microIndices.map((i) => candidates[i]!),
    fixtures.microIndices.map((i) => references[i]!),
  ];
  for (const c of fixtures.bleu) {
    it(`ngram ${c.ngram}, ${c.smooth}: macro and micro`, () => {
      const options = { ngram: c.ngram, smooth: c.smooth as BleuSmooth };
      const macro = new Bleu(options);
      const micro = new Bleu({ ...options, average: 'micro' });
      for (const u of updates) {
        macro.update(u);
        micro.update(u);
      }
      expect(macro.compute()).toBeCloseTo(c.macro, 10);
      // over the whole corpus, candidates shorter than n included: the reference's counts (see text.py)
      expect(micro.compute()).toBeCloseTo(c.microAll, 10);
      const microSubset = new Bleu({ ...options, average: 'micro' });
      microSubset.update(subset);
      expect(microSubset.compute()).toBeCloseTo(c.micro, 10);
      // sentence by sentence
      c.perSentence.forEach((expected, i) => {
        const one = new Bleu({ ngram: c.ngram, smooth: c.smooth as BleuSmooth });
        one.update([[candidates[i]!], [references[i]!]]);
        expect(one.compute()).toBeCloseTo(expected, 10);
      });
    });
  }

  it("the reference's example: 0.0393 with smooth1", () => {
    const bleu = new Bleu({ ngram: 4, smooth: 'smooth1' });
    const y = ['the cat is on the mat', 'there is a cat on the mat'].map((s) => s.split(' '));
    bleu.update([['the the the the the the the'.split(' ')], [y]]);
    expect(bleu.compute()).toBeCloseTo(0.0393, 4);
  });

  it('numeric token ids work like words; no match gives 0', () => {
    const bleu = new Bleu({ ngram: 2 });
    bleu.update([[[1, 2, 3]], [[[1, 2, 3]]]]);
    expect(bleu.compute()).toBe(1);
    const none = new Bleu();
    none.update([[['a', 'b']], [[['c', 'd']]]]);
    expect(none.compute()).toBe(0);
    const strings = new Bleu({ ngram: 1 });
    strings.update([[['1', '2']], [[[1, 2]]]]); // '1' !== 1
    expect(strings.compute()).toBe(0);
  });
});

describe('Rouge matches a direct implementation of Lin (2004)', () => {
  for (const c of fixtures.rouge) {
    it(`variants ${JSON.stringify(c.variants)}, multiref ${c.multiref}, alpha ${c.alpha}`, () => {
      const rouge = new Rouge({
        variants: c.variants as RougeVariant[],
        multiref: c.multiref as 'average' | 'best',
        alpha: c.alpha,
      });
      for (const u of updates) rouge.update(u);
      const value = rouge.compute();
      expect(Object.keys(value)).toEqual(Object.keys(c.expected));
      for (const [key, expected] of Object.entries(c.expected)) expect(value[key]).toBeCloseTo(expected, 10);
    });
  }

  it("the reference's example (variants ['L', 2], multiref 'best')", () => {
    const rouge = new Rouge({ variants: ['L', 2], multiref: 'best' });
    const refs = ['the cat is on the mat', 'there is a cat on the mat'].map((s) => s.split(' '));
    rouge.update([['the cat is not there'.split(' ')], [refs]]);
    const value = rouge.compute();
    const expected = {
      'Rouge-L-P': 0.6,
      'Rouge-L-R': 0.5,
      'Rouge-L-F': 0.5,
      'Rouge-2-P': 0.5,
      'Rouge-2-R': 0.4,
      'Rouge-2-F': 0.4,
    };
    for (const [key, v] of Object.entries(expected)) expect(value[key]).toBeCloseTo(v, 12);
  });
});

describe('Bleu and Rouge: input and option checks', () => {
  it('reject malformed inputs with the class name and the fix', () => {
    const bleu = new Bleu();
    expect(() => bleu.update([['a b c'], [[['a']]]] as never)).toThrow(
      /^Bleu.update: candidates \(yPred\) should be an array of token arrays \(strings or numbers\), got \["a b c"\]. Split each sentence/,
    );
    expect(() => bleu.update([[['a']], [['a']]] as never)).toThrow(
      /Bleu.update: references \(y\) should be an array, one per candidate, of arrays of token arrays, got \[\["a"\]\]. Wrap a single reference/,
    );
    expect(() => new Rouge().update([[['a'], ['b']], [[['a']]]])).toThrow(
      'Rouge.update: there should be one list of references per candidate, got 2 candidates and 1 lists of references.',
    );
    expect(() => new Rouge().update([[['a']], [[]]])).toThrow(
      'Rouge.update: every candidate needs at least one reference, candidate 0 has none.',
    );
    expect(() => bleu.update('the cat' as never)).toThrow(
      /Bleu.update: the input should be \[candidates, references\]/,
    );
  });

  it('reject bad options', () => {
    expect(() => new Bleu({ ngram: 0 })).toThrow('Bleu: option ngram should be a positive integer, got 0.');
    expect(() => new Bleu({ smooth: 'smooth3' as never })).toThrow(
      "Bleu: option smooth should be one of 'no_smooth', 'smooth1', 'nltk_smooth2' or 'smooth2', got 'smooth3'.",
    );
    expect(() => new Bleu({ average: 'weighted' as never })).toThrow(
      /Bleu: option average should be one of 'macro' or 'micro'/,
    );
    expect(() => new Rouge({ variants: [] })).toThrow(
      /Rouge: option variants should be a non-empty array of 'L' and positive integers/,
    );
    expect(() => new Rouge({ variants: ['l' as never] })).toThrow(/Rouge: option variants should be/);
    expect(() => new Rouge({ variants: [2, 2] })).toThrow(
      'Rouge: option variants should not repeat a variant, got [2,2].',
    );
    expect(() => new Rouge({ alpha: 2 })).toThrow('Rouge: option alpha should be a finite number in [0, 1], got 2.');
    expect(() => new Rouge({ multiRef: 'best' } as never)).toThrow(
      /Rouge: unknown option 'multiRef'. Did you mean 'multiref'\?/,
    );
  });

  it('NotComputableError before any candidate; the default Rouge variants are L and 2', () => {
    expect(() => new Bleu().compute()).toThrow(NotComputableError);
    expect(() => new Bleu({ average: 'micro' }).compute()).toThrow('Bleu must have at least one example');
    expect(() => new Rouge().compute()).toThrow(NotComputableError);
    const rouge = new Rouge();
    rouge.update([[['a']], [[['a']]]]);
    expect(Object.keys(rouge.compute())).toEqual([
      'Rouge-L-P',
      'Rouge-L-R',
      'Rouge-L-F',
      'Rouge-2-P',
      'Rouge-2-R',
      'Rouge-2-F',
    ]);
  });
});
