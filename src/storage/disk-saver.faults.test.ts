// Write and read failures injected into node:fs/promises (a full disk cannot be made for real without root tricks):
// every failed save leaves the previous checkpoint loadable and no temporary file behind.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Engine } from '../engine';
import { Checkpoint } from '../handlers/checkpoint';
import { DiskSaver } from './disk-saver';
import { CheckpointError } from './errors';

/** Pending faults: the next call of `op` fails with `code` (or, for 'short', writes one byte less). */
const faults = vi.hoisted(() => [] as { op: string; code: string }[]);

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const take = (op: string) => {
    const index = faults.findIndex((fault) => fault.op === op);
    return index < 0 ? null : faults.splice(index, 1)[0]!;
  };
  const fail = (op: string) => {
    const fault = take(op);
    if (fault !== null) throw Object.assign(new Error(`${fault.code}: injected ${op} failure`), { code: fault.code });
  };
  const open = async (...args: Parameters<typeof actual.open>) => {
    const flags = String(args[1] ?? 'r');
    fail(`open:${flags}`);
    const handle = await actual.open(...args);
    const { writev, sync } = handle;
    const wrapped = handle as unknown as Record<string, unknown>;
    wrapped.writev = async (buffers: NodeJS.ArrayBufferView[], position?: number) => {
      fail('writev');
      if (take('short') !== null) return writev.call(handle, buffers.slice(0, -1), position);
      return writev.call(handle, buffers, position);
    };
    wrapped.sync = async () => {
      fail(flags === 'r' ? 'dirsync' : 'sync');
      return sync.call(handle);
    };
    return handle;
  };
  const rename = async (...args: Parameters<typeof actual.rename>) => {
    fail('rename');
    return actual.rename(...args);
  };
  const readFile = async (...args: Parameters<typeof actual.readFile>) => {
    fail('readFile');
    return actual.readFile(...args);
  };
  return { ...actual, default: { ...actual, open, rename, readFile }, open, rename, readFile };
});

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-faults-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  faults.length = 0;
});
afterAll(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const failedSave = async (saver: DiskSaver, data: unknown, name: string): Promise<CheckpointError> => {
  const error = await saver.save(data, name).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  return error as CheckpointError;
};

const visible = async (dir: string) => (await readdir(dir)).filter((name) => name !== '.kindling.lock').sort();

describe('DiskSaver under injected write failures', () => {
  const cases: [string, string, CheckpointError['code'], RegExp][] = [
    [
      'writev',
      'ENOSPC',
      'QUOTA_EXCEEDED',
      /the disk is full \(ENOSPC\)\. Older checkpoints are intact\. Free space, or keep fewer checkpoints \(Checkpoint option nSaved\)\.$/,
    ],
    ['writev', 'EDQUOT', 'QUOTA_EXCEEDED', /the disk is full \(EDQUOT\)/],
    ['writev', 'EIO', 'FAILED', /EIO: injected writev failure\. Older checkpoints are intact\.$/],
    ['sync', 'EIO', 'FAILED', /EIO: injected sync failure\. Older checkpoints are intact\.$/],
    [
      'rename',
      'EACCES',
      'FAILED',
      /Older checkpoints are intact\. Check that the directory is writable by this process, or save elsewhere\.$/,
    ],
    [
      'open:wx',
      'EROFS',
      'FAILED',
      /EROFS: injected open:wx failure\. Older checkpoints are intact\. Check that the directory is writable/,
    ],
    ['short', '-', 'FAILED', /: Error: wrote \d+ of \d+ bytes\. Older checkpoints are intact\.$/],
  ];

  it.each(cases)(
    '%s fails with %s: %s, the previous checkpoint of that name still loads',
    async (op, code, kind, message) => {
      const dir = await tempDir();
      const saver = new DiskSaver(dir, { requireEmpty: false });
      await saver.save({ step: 1, w: new Float32Array([1, 2, 3]) }, 'model.ckpt');
      faults.push({ op, code });
      const error = await failedSave(saver, { step: 2, w: new Float32Array([4, 5, 6]) }, 'model.ckpt');
      expect(faults).toEqual([]); // the fault did happen
      expect(error.code).toBe(kind);
      expect(error.message).toMatch(
        new RegExp(`^DiskSaver\\.save: could not write checkpoint 'model\\.ckpt' \\(\\d+ bytes\\) to '${dir}'`),
      );
      expect(error.message).toMatch(message);
      expect(await saver.load('model.ckpt')).toEqual({ step: 1, w: new Float32Array([1, 2, 3]) });
      expect((await saver.latest())?.data).toEqual({ step: 1, w: new Float32Array([1, 2, 3]) });
      expect(await visible(dir)).toEqual(['model.ckpt']); // no temporary file
      await saver.save({ step: 3 }, 'model.ckpt'); // and the next save works
      expect(await saver.load('model.ckpt')).toEqual({ step: 3 });
      await saver.close();
    },
  );

  it('a failed directory flush says the file is in place; an unsupported one is ignored', async () => {
    const dir = await tempDir();
    const saver = new DiskSaver(dir, { requireEmpty: false });
    faults.push({ op: 'dirsync', code: 'EIO' });
    const error = await failedSave(saver, { step: 1 }, 'a.ckpt');
    expect(error.message).toMatch(
      /The file is in place, but the directory could not be flushed, so it may not survive a power cut\.$/,
    );
    expect(await saver.load('a.ckpt')).toEqual({ step: 1 });
    faults.push({ op: 'dirsync', code: 'EINVAL' });
    await saver.save({ step: 2 }, 'b.ckpt');
    expect(faults).toEqual([]);
    expect(await saver.load('b.ckpt')).toEqual({ step: 2 });
    await saver.close();
  });

  it('Checkpoint keeps the older file when the new save fails (nSaved rotation never loses the last good one)', async () => {
    const dir = await tempDir();
    const saver = new DiskSaver(dir, { requireEmpty: false });
    const counter = { value: 0, stateDict: () => ({ value: counter.value }), loadStateDict: () => {} };
    const trainer = new Engine(() => 0);
    const checkpoint = new Checkpoint({ model: counter }, saver, { nSaved: 1 });
    trainer.state.iteration = 1;
    counter.value = 1;
    await checkpoint.handle(trainer);
    trainer.state.iteration = 2;
    counter.value = 2;
    faults.push({ op: 'writev', code: 'ENOSPC' });
    await expect(checkpoint.handle(trainer)).rejects.toThrow(/the disk is full/);
    expect(await visible(dir)).toEqual(['model_1.ckpt']);
    expect((await saver.latest())?.data).toEqual({ value: 1 });
    await saver.close();
  });
});

describe('DiskSaver under injected read failures', () => {
  it('a file that cannot be read is FAILED, not CORRUPT: latest() stops instead of silently resuming from an older one', async () => {
    const dir = await tempDir();
    const saver = new DiskSaver(dir, { requireEmpty: false });
    await saver.save({ step: 1 }, 'c_1.ckpt');
    await saver.save({ step: 2 }, 'c_2.ckpt');
    faults.push({ op: 'readFile', code: 'EACCES' });
    const error = await saver.latest().then(
      () => null,
      (e: unknown) => e as CheckpointError,
    );
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error!.code).toBe('FAILED');
    expect(error!.message).toBe(
      `DiskSaver.latest: could not read '${join(dir, 'c_2.ckpt')}': Error: EACCES: injected readFile failure. Check that this process may read it, or remove it with saver.remove().`,
    );
    expect((await saver.latest())?.data).toEqual({ step: 2 });
    await saver.close();
  });
});
