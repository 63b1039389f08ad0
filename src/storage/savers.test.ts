import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskSaver } from './disk-saver';
import { CheckpointError } from './errors';
import { MemorySaver } from './memory-saver';
import type { Saver } from './saver';

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-saver-'));
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const sample = () => ({
  model: {
    kind: 'tfjs-layers-model',
    weights: [
      { name: 'hidden/kernel', shape: [2, 2], dtype: 'float32', data: new Float32Array([0.1, -0.2, 1e-30, 3.4e38]) },
      { name: 'steps', shape: [3], dtype: 'int32', data: new Int32Array([1, -2, 2147483647]) },
    ],
  },
  trainer: { iteration: 12, epochLength: 4, maxEpochs: 3, best: Number.NEGATIVE_INFINITY, note: undefined },
});

const makers: [string, () => Promise<Saver & { latest: NonNullable<Saver['latest']> }>][] = [
  ['MemorySaver', async () => new MemorySaver()],
  ['DiskSaver', async () => new DiskSaver(await tempDir())],
];

describe.each(makers)('%s', (_, make) => {
  it('loads exactly what was saved, as a copy, with typed arrays kept binary', async () => {
    const saver = await make();
    const data = sample();
    await saver.save(data, 'checkpoint_12.ckpt', { basename: 'checkpoint', scoreName: null, priority: 12 });
    const loaded = (await saver.load('checkpoint_12.ckpt')) as ReturnType<typeof sample>;
    expect(loaded).toEqual(data);
    expect(loaded).not.toBe(data);
    const kernel = loaded.model.weights[0]!.data;
    expect(kernel).toBeInstanceOf(Float32Array);
    expect(kernel).not.toBe(data.model.weights[0]!.data);
    expect(Array.from(kernel)).toEqual(Array.from(new Float32Array([0.1, -0.2, 1e-30, 3.4e38])));
    expect(loaded.model.weights[1]!.data).toBeInstanceOf(Int32Array);
    expect(loaded.trainer.best).toBe(Number.NEGATIVE_INFINITY);
    expect('note' in loaded.trainer).toBe(true);
    // Changing what was loaded does not change what is stored.
    kernel[0] = 99;
    expect(
      ((await saver.load('checkpoint_12.ckpt')) as ReturnType<typeof sample>).model.weights[0]!.data[0],
    ).toBeCloseTo(0.1, 6);
  });

  it('overwrites, removes, lists and finds the latest', async () => {
    const saver = await make();
    expect(await saver.list()).toEqual([]);
    expect(await saver.latest()).toBeNull();
    await saver.save({ step: 1 }, 'a.ckpt');
    await saver.save({ step: 2 }, 'b.ckpt', { priority: 2 });
    await saver.save({ step: 3 }, 'a.ckpt');
    expect((await saver.list()).sort()).toEqual(['a.ckpt', 'b.ckpt']);
    expect(await saver.load('a.ckpt')).toEqual({ step: 3 });
    const latest = await saver.latest();
    expect(latest?.filename).toBe('a.ckpt');
    expect(latest?.data).toEqual({ step: 3 });
    expect((await saver.latest({ filter: (name) => name.startsWith('b') }))?.metadata).toEqual({ priority: 2 });
    await saver.remove('a.ckpt');
    await saver.remove('missing.ckpt'); // no-op
    expect(await saver.list()).toEqual(['b.ckpt']);
    expect((await saver.latest())?.filename).toBe('b.ckpt');
  });

  it('listInfo gives name, time, size and metadata of each checkpoint, oldest first', async () => {
    const saver = await make();
    expect(await saver.listInfo!()).toEqual([]);
    const meta = { basename: 'checkpoint', scoreName: null, priority: 7 };
    await saver.save({ step: 7, w: new Float32Array(1000) }, 'z_7.ckpt', meta);
    await saver.save({ step: 9, w: new Float32Array(10) }, 'a_9.ckpt');
    await saver.save({ step: 8, w: new Float32Array(1000) }, 'm_8.ckpt', { ...meta, priority: 8 });
    await saver.save({ step: 10, w: new Float32Array(10) }, 'a_9.ckpt'); // overwritten: now the newest
    const infos = await saver.listInfo!();
    expect(infos.map((info) => info.filename)).toEqual(['z_7.ckpt', 'm_8.ckpt', 'a_9.ckpt']);
    expect(infos.map((info) => info.metadata)).toEqual([meta, { ...meta, priority: 8 }, undefined]);
    expect(infos[0]!.savedAt).toBeLessThan(infos[1]!.savedAt);
    expect(infos[1]!.savedAt).toBeLessThan(infos[2]!.savedAt);
    expect(Math.abs(infos[2]!.savedAt - Date.now())).toBeLessThan(60_000);
    // 4000 bytes of weights plus a small header; 40 bytes for the small ones.
    expect(infos[0]!.bytes).toBeGreaterThan(4000);
    expect(infos[0]!.bytes).toBeLessThan(4400);
    expect(infos[2]!.bytes).toBeGreaterThan(40);
    expect(infos[2]!.bytes).toBeLessThan(440);
    // The metadata handed out is a copy.
    infos[0]!.metadata!.priority = 99;
    expect((await saver.listInfo!())[0]!.metadata!.priority).toBe(7);
  });

  it('rejects a missing checkpoint with NOT_FOUND, naming what exists', async () => {
    const saver = await make();
    await saver.save({ x: 1 }, 'here.ckpt');
    const error = await saver.load('gone.ckpt').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).code).toBe('NOT_FOUND');
    expect((error as Error).message).toMatch(/'gone\.ckpt'.*here\.ckpt/);
  });

  it('rejects data that is not plain, and bad file names', async () => {
    const saver = await make();
    await expect(saver.save({ when: new Date() }, 'x.ckpt')).rejects.toThrow(/found an instance of Date at when/);
    await expect(saver.save({}, '')).rejects.toThrow(TypeError);
    expect(await saver.list()).toEqual([]);
  });
});

describe('DiskSaver', () => {
  it('writes one binary file per checkpoint (JSON header + raw bytes), atomically via a temporary file', async () => {
    const dir = await tempDir();
    const saver = new DiskSaver(dir);
    const weights = new Float32Array(1000).map((_, i) => i / 7);
    await saver.save({ weights }, 'model_1.ckpt');
    await saver.close();
    expect(await readdir(dir)).toEqual(['model_1.ckpt']); // no temporary file left, nor the lock
    const bytes = await readFile(join(dir, 'model_1.ckpt'));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('KNDLCKPT');
    expect(bytes.length).toBeLessThan(4000 + 400); // raw float32, not JSON numbers
    const offset = bytes.indexOf(Buffer.from(weights.buffer));
    expect(offset % 8).toBe(0);
  });

  it('checks its directory like Ignite: createDir, requireEmpty', async () => {
    const dir = await tempDir();
    const nested = join(dir, 'a', 'b');
    new DiskSaver(nested);
    expect((await stat(nested)).isDirectory()).toBe(true);
    expect(() => new DiskSaver(join(dir, 'nope'), { createDir: false })).toThrow(
      /'.*nope' is not found.*createDir: true/,
    );
    await writeFile(join(nested, 'old_1.ckpt'), 'x');
    expect(() => new DiskSaver(nested)).toThrow(
      /'old_1\.ckpt' with extension '\.ckpt' are already present.*resumeOrStart\(\).*requireEmpty: false/,
    );
    expect(() => new DiskSaver(nested, { requireEmpty: false })).not.toThrow();
  });

  it('skips a damaged file in latest() with a warning naming it, and lists only checkpoint files', async () => {
    const dir = await tempDir();
    const warnings: string[] = [];
    const saver = new DiskSaver(dir, { onWarning: (m) => warnings.push(m) });
    await saver.save({ step: 1, w: new Float32Array(8) }, 'c_1.ckpt');
    await saver.save({ step: 2, w: new Float32Array(8) }, 'c_2.ckpt');
    await writeFile(join(dir, 'notes.txt'), 'not a checkpoint');
    // Cut the newest file short: its header survives, its tensor bytes do not.
    const path = join(dir, 'c_2.ckpt');
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 16));
    expect(await saver.list()).toEqual(['c_1.ckpt', 'c_2.ckpt']);
    const latest = await saver.latest();
    expect(latest?.filename).toBe('c_1.ckpt');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/c_2\.ckpt' is damaged/);
    const error = await saver.load('c_2.ckpt').catch((e: unknown) => e);
    expect((error as CheckpointError).code).toBe('CORRUPT');
  });

  it('listInfo reads headers only: a file whose tensor bytes are cut short is listed, a damaged header skipped', async () => {
    const dir = await tempDir();
    const warnings: string[] = [];
    const saver = new DiskSaver(dir, { onWarning: (m) => warnings.push(m) });
    await saver.save({ step: 1, w: new Float32Array(8) }, 'c_1.ckpt', { priority: 1 });
    await saver.save({ step: 2, w: new Float32Array(8) }, 'c_2.ckpt', { priority: 2 });
    await saver.save({ step: 3, w: new Float32Array(8) }, 'c_3.ckpt', { priority: 3 });
    const cut = await readFile(join(dir, 'c_2.ckpt'));
    await writeFile(join(dir, 'c_2.ckpt'), cut.subarray(0, cut.length - 16));
    const broken = await readFile(join(dir, 'c_3.ckpt'));
    broken.write('{{{{', 24); // the header's JSON
    await writeFile(join(dir, 'c_3.ckpt'), broken);
    const infos = await saver.listInfo();
    expect(infos.map((info) => [info.filename, info.metadata?.priority])).toEqual([
      ['c_1.ckpt', 1],
      ['c_2.ckpt', 2],
    ]);
    expect(infos[0]!.bytes).toBe((await stat(join(dir, 'c_1.ckpt'))).size);
    expect(infos[1]!.bytes).toBe(cut.length - 16);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/c_3\.ckpt' is damaged \(the CRC32C checksum of its header is 0x/);
  });

  it('refuses file names with directories', async () => {
    const saver = new DiskSaver(await tempDir());
    await expect(saver.save({}, '../escape.ckpt')).rejects.toThrow(/without directories/);
  });
});
