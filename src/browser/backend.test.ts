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
      /one of 'webgpu', 'webgl' or 'cpu', got "wasm"/,
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
