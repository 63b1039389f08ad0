import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { describeBackend, selectBackend } from './backend';

describe('selectBackend (Node: no WebGPU, no WebGL)', () => {
  it('falls back to cpu and says why', async () => {
    const selection = await selectBackend();
    expect(selection.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(selection.adapter).toBeNull();
    expect(selection.fellBackFrom).toBe('webgpu');
    expect(selection.reason).toMatch(/^webgpu: navigator\.gpu is missing.*; webgl: /);
    // The badge names each backend once: the reason carries the names.
    expect(describeBackend(selection)).toBe(`cpu — fell back: ${selection.reason}`);
    expect(describeBackend(selection).match(/webgpu/g)).toHaveLength(1);
  });

  it('uses cpu without complaint when asked to', async () => {
    const selection = await selectBackend({ prefer: 'cpu' });
    expect(selection).toEqual({ backend: 'cpu', adapter: null, fellBackFrom: null, reason: null });
    expect(describeBackend(selection, true)).toBe('cpu (forced)');
  });

  it('rejects an unknown backend name', async () => {
    await expect(selectBackend({ prefer: 'wasm' as never })).rejects.toThrow(
      new RangeError("selectBackend: option prefer should be one of 'webgpu', 'webgl' or 'cpu', got 'wasm'."),
    );
  });

  it('rejects unknown options instead of ignoring them, naming the right one', async () => {
    const before = tf.getBackend();
    await expect(selectBackend({ preferred: 'cpu' } as never)).rejects.toThrow(
      new TypeError("selectBackend: unknown option 'preferred'. Did you mean 'prefer'? Known options: prefer."),
    );
    await expect(selectBackend({ backend: 'webgl' } as never)).rejects.toThrow(
      /^selectBackend: unknown option 'backend'\. selectBackend chooses the backend itself: pass prefer: 'webgl'/,
    );
    await expect(selectBackend('cpu' as never)).rejects.toThrow(
      new TypeError("selectBackend: argument options should be an object with some of the keys prefer, got 'cpu'."),
    );
    expect(tf.getBackend()).toBe(before);
  });

  it('describeBackend checks its arguments', () => {
    expect(() => describeBackend(undefined as never)).toThrow(
      new TypeError('describeBackend: argument selection should be what selectBackend() returned, got undefined.'),
    );
    const selection = { backend: 'cpu', adapter: null, fellBackFrom: null, reason: null } as const;
    expect(() => describeBackend(selection, 'yes' as never)).toThrow(
      new TypeError("describeBackend: argument forced should be a boolean, got 'yes'."),
    );
  });

  it('describes a WebGPU adapter and a fallback', () => {
    const adapter = { vendor: 'google', architecture: 'swiftshader', description: '', device: '' };
    expect(describeBackend({ backend: 'webgpu', adapter, fellBackFrom: null, reason: null })).toBe(
      'webgpu · google swiftshader',
    );
    const reason = 'webgpu: navigator.gpu is missing; webgl: no context';
    expect(describeBackend({ backend: 'cpu', adapter: null, fellBackFrom: 'webgpu', reason })).toBe(
      'cpu — fell back: webgpu: navigator.gpu is missing; webgl: no context',
    );
  });
});
