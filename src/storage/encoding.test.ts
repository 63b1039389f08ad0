import { describe, expect, it } from 'vitest';
import { assertSafeKeys, CorruptDataError, decodeCheckpoint, encodeCheckpoint } from './encoding';
import { CheckpointError } from './errors';

describe('encodeCheckpoint / decodeCheckpoint', () => {
  it('splits typed arrays out of plain data and puts them back, keeping JSON-unsafe numbers', () => {
    const weights = new Float32Array([1.5, -2.25, 3]);
    const counts = new Int32Array([7, 8]);
    const data = {
      model: { weights: [{ name: 'w', shape: [3], data: weights }], counts },
      numbers: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0.5],
      maybe: undefined,
      text: 'x',
      flag: true,
      nothing: null,
    };
    const { header, views, bytes } = encodeCheckpoint(data, 'test');
    expect(views).toEqual([weights, counts]);
    expect(views[0]).toBe(weights); // not copied
    expect(header.buffers).toEqual([
      { path: ['model', 'weights', 0, 'data'], type: 'Float32Array', byteLength: 12 },
      { path: ['model', 'counts'], type: 'Int32Array', byteLength: 8 },
    ]);
    // The header is JSON-safe: a JSON round trip changes nothing.
    const header2 = JSON.parse(JSON.stringify(header));
    expect(header2).toEqual(header);
    expect(bytes).toBe(20 + JSON.stringify(header).length);

    const decoded = decodeCheckpoint(header2, views) as typeof data;
    expect(decoded.model.weights[0]!.data).toBe(weights);
    expect(decoded.model.counts).toBe(counts);
    expect(decoded.numbers[0]).toBeNaN();
    expect(decoded.numbers.slice(1, 3)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(Object.is(decoded.numbers[3], -0)).toBe(true);
    expect(decoded.numbers[4]).toBe(0.5);
    expect('maybe' in decoded && decoded.maybe === undefined).toBe(true);
    expect([decoded.text, decoded.flag, decoded.nothing]).toEqual(['x', true, null]);
  });

  it('copies a view over part of a larger buffer into its own buffer', () => {
    const big = new Float32Array([1, 2, 3, 4]);
    const part = big.subarray(1, 3);
    const { views } = encodeCheckpoint({ part }, 'test');
    expect(views[0]).not.toBe(part);
    expect(Array.from(views[0] as Float32Array)).toEqual([2, 3]);
    expect(views[0]!.buffer.byteLength).toBe(8);
  });

  it('encodes a typed array at the root', () => {
    const root = new Uint8Array([1, 2]);
    const { header, views } = encodeCheckpoint(root, 'test');
    expect(decodeCheckpoint(JSON.parse(JSON.stringify(header)), views)).toBe(root);
  });

  it('rejects non-plain objects, functions, cycles and unsafe keys, naming the path', () => {
    expect(() => encodeCheckpoint({ a: { b: new Map() } }, 'S.save')).toThrow(
      /S\.save: .*found an instance of Map at a\.b\. Convert it/,
    );
    expect(() => encodeCheckpoint({ f: () => 1 }, 'S.save')).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeCheckpoint(cyclic, 'S.save')).toThrow(/refers to itself at self/);
    expect(() => encodeCheckpoint({ x: [{ constructor: 1 }] }, 'S.save')).toThrow(
      /key 'constructor' \(found at x\[0\]\.constructor\)/,
    );
    expect(() => encodeCheckpoint(JSON.parse('{"__proto__": {"polluted": 1}}'), 'S.save')).toThrow(/'__proto__'/);
    // the same object twice (not a cycle) is fine
    const shared = { v: 1 };
    expect(() => encodeCheckpoint({ a: shared, b: shared }, 'S.save')).not.toThrow();
  });

  it('reports data that does not fit its header as corrupt', () => {
    const { header, views } = encodeCheckpoint({ w: new Float32Array(4) }, 'test');
    expect(() => decodeCheckpoint(header, [])).toThrow(CorruptDataError);
    expect(() => decodeCheckpoint(header, [new Int32Array(4)])).toThrow(
      /should be a Float32Array of 16 bytes, found a Int32Array/,
    );
    expect(() => decodeCheckpoint(header, [new Float32Array(3)])).toThrow(
      /of 16 bytes, found a Float32Array of 12 bytes/,
    );
    const badPath = JSON.parse(JSON.stringify(header));
    badPath.buffers[0].path = ['nope'];
    expect(() => decodeCheckpoint(badPath, views)).toThrow(/leads nowhere/);
    expect(() => decodeCheckpoint(null, views)).toThrow(CorruptDataError);
  });

  it('refuses paths through __proto__ and plain data holding unsafe keys', () => {
    const { header, views } = encodeCheckpoint({ w: new Float32Array(1) }, 'test');
    const evil = JSON.parse(JSON.stringify(header));
    evil.buffers[0].path = ['__proto__', 'w'];
    expect(() => decodeCheckpoint(evil, views)).toThrow();
    expect(({} as Record<string, unknown>).w).toBeUndefined();
    const evil2 = JSON.parse('{"plain": {"a": {"__proto__": {"x": 1}}}, "buffers": [], "specials": []}');
    expect(() => decodeCheckpoint(evil2, [])).toThrow(CheckpointError);
  });
});

describe('assertSafeKeys', () => {
  it('finds __proto__, constructor and prototype at any depth, and names the path', () => {
    expect(() => assertSafeKeys(JSON.parse('{"a": [1, {"b": {"__proto__": {}}}]}'), 'the checkpoint')).toThrow(
      /the checkpoint contains the key '__proto__' at a\[1\]\.b\.__proto__/,
    );
    expect(() => assertSafeKeys({ model: { prototype: 1 } }, 'x')).toThrow(/'prototype' at model\.prototype/);
    try {
      assertSafeKeys({ constructor: 1 }, 'x');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).code).toBe('UNSAFE_KEY');
    }
    expect(() => assertSafeKeys({ a: [1, 2, { b: new Float32Array(2) }], c: 'constructor' }, 'x')).not.toThrow();
  });
});
