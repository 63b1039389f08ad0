import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import CRC32C from 'crc-32/crc32c.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resumeOrStart } from '../handlers/checkpoint';
import { DiskSaver } from './disk-saver';
import { encodeCheckpoint } from './encoding';
import { CheckpointError } from './errors';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./disk-child.test-util.ts', import.meta.url));
const LOCK = '.kindling.lock';

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-disk-'));
  dirs.push(dir);
  return dir;
};
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A saver whose warnings are collected. */
const makeSaver = (dir: string, options: { requireEmpty?: boolean } = {}) => {
  const warnings: string[] = [];
  const saver = new DiskSaver(dir, { requireEmpty: false, ...options, onWarning: (m) => warnings.push(m) });
  return { saver, warnings };
};

const errorOf = async (promise: Promise<unknown>): Promise<CheckpointError> => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  return error as CheckpointError;
};

/** Starts `disk-child.ts <mode> <dir>` and resolves with the process once it prints a line matching `ready`. */
async function startChild(mode: string, dir: string, ready = /^(locked|ready)/): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, dir], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.split('\n').some((line) => ready.test(line))) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child ${mode} exited (${code}) before it was ready: ${stderr}`)));
  });
  return child;
}

const killed = (child: ChildProcess): Promise<unknown> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(null);
    else {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    }
  });

/** The pid of a process that has exited: certainly not running. */
const deadPid = (): number =>
  Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']));

/** Writes a format-2 file with the given header text and no typed arrays, with correct checksums. */
async function writeCrafted(path: string, headerText: string): Promise<void> {
  const header = Buffer.from(headerText, 'utf8');
  const file = Buffer.alloc(24 + header.length);
  file.write('KNDLCKPT', 0, 'latin1');
  file.writeUInt32LE(2, 8);
  file.writeUInt32LE(header.length, 12);
  header.copy(file, 24);
  file.writeUInt32LE(CRC32C.buf(header, CRC32C.buf(file.subarray(0, 16))) >>> 0, 16);
  file.writeUInt32LE(CRC32C.buf(new Uint8Array(0)) >>> 0, 20);
  await writeFile(path, file);
}

/** Writes `data` as the format-1 file kindling wrote before checksums (16-byte prefix, no CRC). */
async function writeFormat1(path: string, data: unknown, savedAt: number): Promise<void> {
  const encoded = encodeCheckpoint(data, 'test');
  const offsets: number[] = [];
  const fileHeader = { filename: 'old.ckpt', savedAt, metadata: { priority: 1 }, encoded: encoded.header, offsets };
  let headerLength = 0;
  let headerBytes: Buffer;
  for (;;) {
    let offset = Math.ceil((16 + headerLength) / 8) * 8;
    offsets.length = 0;
    for (const view of encoded.views) {
      offsets.push(offset);
      offset = Math.ceil((offset + view.byteLength) / 8) * 8;
    }
    headerBytes = Buffer.from(JSON.stringify(fileHeader), 'utf8');
    if (headerBytes.length <= headerLength) break;
    headerLength = headerBytes.length;
  }
  const last = encoded.views.length - 1;
  const file = Buffer.alloc(last < 0 ? 16 + headerBytes.length : offsets[last]! + encoded.views[last]!.byteLength);
  file.write('KNDLCKPT', 0, 'latin1');
  file.writeUInt32LE(1, 8);
  file.writeUInt32LE(headerBytes.length, 12);
  headerBytes.copy(file, 16);
  encoded.views.forEach((view, i) => {
    Buffer.from(view.buffer, view.byteOffset, view.byteLength).copy(file, offsets[i]);
  });
  await writeFile(path, file);
}

describe('DiskSaver file format', () => {
  it('writes format 2: signature, format, header length, CRC32C of the header, CRC32C of the payload, aligned arrays', async () => {
    const dir = await tempDir();
    const { saver } = makeSaver(dir);
    const weights = new Float32Array(100).map((_, i) => i / 7);
    await saver.save({ weights, bias: new Float64Array([1, 2, 3]) }, 'model_1.ckpt');
    const bytes = await readFile(join(dir, 'model_1.ckpt'));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('KNDLCKPT');
    expect(bytes.readUInt32LE(8)).toBe(2);
    const headerEnd = 24 + bytes.readUInt32LE(12);
    const headerText = bytes.subarray(24, headerEnd);
    expect(bytes.readUInt32LE(16)).toBe(CRC32C.buf(headerText, CRC32C.buf(bytes.subarray(0, 16))) >>> 0);
    expect(bytes.readUInt32LE(20)).toBe(CRC32C.buf(bytes.subarray(headerEnd)) >>> 0);
    const header = JSON.parse(headerText.toString('utf8'));
    expect(header.offsets.every((offset: number) => offset % 8 === 0)).toBe(true);
    expect(bytes.indexOf(Buffer.from(weights.buffer))).toBe(header.offsets[0]);
    await saver.close();
    expect(await readdir(dir)).toEqual(['model_1.ckpt']); // no temporary file, and the lock is gone
  });

  it('still reads format-1 files (no checksum), in load, latest and listInfo', async () => {
    const dir = await tempDir();
    const { saver, warnings } = makeSaver(dir);
    const data = { step: 5, w: new Float32Array([1.5, -2]), i: new Int32Array([7]), nan: Number.NaN };
    await writeFormat1(join(dir, 'old.ckpt'), data, Date.now() - 1000);
    expect(await saver.load('old.ckpt')).toEqual(data);
    expect((await saver.latest())?.filename).toBe('old.ckpt');
    expect((await saver.listInfo()).map((info) => info.metadata)).toEqual([{ priority: 1 }]);
    await saver.save({ step: 6 }, 'new.ckpt');
    expect((await saver.latest())?.data).toEqual({ step: 6 });
    expect(warnings).toEqual([]);
  });

  it('a flipped byte anywhere (3 masks x every byte) is CORRUPT, and latest() falls back naming the file', async () => {
    const dir = await tempDir();
    const { saver, warnings } = makeSaver(dir);
    await saver.save({ step: 1, w: new Float32Array([1, 2]) }, 'c_1.ckpt');
    await saver.save({ step: 2, w: new Float32Array([3, 4, 5]), i: new Int16Array([-1]) }, 'c_2.ckpt', { priority: 2 });
    const path = join(dir, 'c_2.ckpt');
    const good = await readFile(path);
    let tried = 0;
    for (let position = 0; position < good.length; position++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Buffer.from(good);
        bad[position]! ^= mask;
        await writeFile(path, bad);
        const error = await errorOf(saver.load('c_2.ckpt'));
        expect(error.code, `byte ${position} ^ ${mask}: ${error.message}`).toBe('CORRUPT');
        expect(error.message).toContain(path);
        warnings.length = 0;
        const latest = await saver.latest();
        expect(latest?.filename, `byte ${position} ^ ${mask}`).toBe('c_1.ckpt');
        expect(latest?.data).toEqual({ step: 1, w: new Float32Array([1, 2]) });
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain(`'${path}' is damaged`);
        tried++;
      }
    }
    expect(tried).toBe(good.length * 3);
    await writeFile(path, good);
    expect((await saver.latest())?.filename).toBe('c_2.ckpt');
  });

  it('format 2 read as format 1 (the format number changed from 2 to 1) is CORRUPT', async () => {
    const dir = await tempDir();
    const { saver } = makeSaver(dir);
    await saver.save({ step: 1 }, 'c.ckpt');
    const bytes = await readFile(join(dir, 'c.ckpt'));
    bytes.writeUInt32LE(1, 8);
    await writeFile(join(dir, 'c.ckpt'), bytes);
    expect((await errorOf(saver.load('c.ckpt'))).message).toMatch(/is damaged \(its header is not valid JSON\)/);
    bytes.writeUInt32LE(3, 8);
    await writeFile(join(dir, 'c.ckpt'), bytes);
    expect((await errorOf(saver.load('c.ckpt'))).message).toMatch(/format number is 3; this version of kindling reads/);
  });

  it('a file cut short at every length is CORRUPT, and latest() falls back', async () => {
    const dir = await tempDir();
    const { saver, warnings } = makeSaver(dir);
    await saver.save({ step: 1 }, 'c_1.ckpt');
    await saver.save({ step: 2, w: new Float32Array(4) }, 'c_2.ckpt');
    const path = join(dir, 'c_2.ckpt');
    const good = await readFile(path);
    for (let length = 0; length < good.length; length++) {
      await writeFile(path, good.subarray(0, length));
      expect((await errorOf(saver.load('c_2.ckpt'))).code, `cut at ${length}`).toBe('CORRUPT');
      warnings.length = 0;
      expect((await saver.latest())?.filename, `cut at ${length}`).toBe('c_1.ckpt');
      expect(warnings.join('\n')).toContain(`'${path}' is damaged`);
    }
  });

  it('a damaged signature does not hide a file without the .ckpt extension', async () => {
    const dir = await tempDir();
    const { saver, warnings } = makeSaver(dir);
    await saver.save({ step: 1 }, 'a.bin');
    await saver.save({ step: 2 }, 'b.bin');
    await writeFile(join(dir, 'notes.txt'), 'KNDL is not a checkpoint');
    const good = await readFile(join(dir, 'b.bin'));
    for (let position = 0; position < 8; position++) {
      const bad = Buffer.from(good);
      bad[position]! ^= 0x20;
      await writeFile(join(dir, 'b.bin'), bad);
      expect(await saver.list()).toEqual(['a.bin', 'b.bin']);
      warnings.length = 0;
      expect((await saver.latest())?.filename).toBe('a.bin');
      expect(warnings[0]).toMatch(/b\.bin' is damaged \(it does not start with the checkpoint signature/);
    }
  });

  it('payload flips in a 1 MB checkpoint are caught by the checksum', async () => {
    const dir = await tempDir();
    const { saver } = makeSaver(dir);
    await saver.save({ w: new Float32Array(256 * 1024).map((_, i) => Math.sin(i)) }, 'big.ckpt');
    const path = join(dir, 'big.ckpt');
    const good = await readFile(path);
    for (let k = 0; k < 20; k++) {
      const bad = Buffer.from(good);
      const position = good.length - 1 - Math.floor(((k * 7919) % 1000) * (good.length / 1000) * 0.9);
      bad[position]! ^= 1 << (k % 8);
      await writeFile(path, bad);
      expect((await errorOf(saver.load('big.ckpt'))).message).toMatch(
        /the CRC32C checksum of its typed arrays is 0x[0-9a-f]{8}, the file says 0x[0-9a-f]{8}: bytes changed or went missing/,
      );
    }
  });
});

describe('DiskSaver: unsafe keys', () => {
  const plainHeader = (extra: string) =>
    `{"filename":"x","savedAt":${Date.now() + 1000},"encoded":{"plain":{"a":1},"buffers":[],"specials":[]},"offsets":[]${extra}}`;
  const cases: [string, string][] = [
    ['__proto__ in the data', plainHeader('').replace('{"a":1}', '{"a":{"__proto__":{"polluted":true}}}')],
    ['constructor in the metadata', plainHeader(',"metadata":{"constructor":{"prototype":{"polluted":true}}}')],
    ['__proto__ at the top of the header', plainHeader(',"__proto__":{"polluted":true}')],
    ['prototype deep in the data', plainHeader('').replace('{"a":1}', '{"a":[{"b":{"prototype":1}}]}')],
  ];

  it.each(cases)('latest() skips a file with %s like a damaged one, naming it', async (_, headerText) => {
    const dir = await tempDir();
    const { saver, warnings } = makeSaver(dir);
    await saver.save({ step: 1 }, 'good.ckpt');
    const path = join(dir, 'evil.ckpt');
    await writeCrafted(path, headerText);
    const error = await errorOf(saver.load('evil.ckpt'));
    expect(error.code).toBe('UNSAFE_KEY');
    expect(error.message).toContain(`'${path}' is not loaded`);
    const latest = await saver.latest();
    expect(latest?.filename).toBe('good.ckpt');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path);
    warnings.length = 0;
    expect((await saver.listInfo()).map((info) => info.filename)).toEqual(['good.ckpt']);
    expect(warnings[0]).toContain(path);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('save() refuses metadata carrying such keys, writing nothing', async () => {
    const dir = await tempDir();
    const { saver } = makeSaver(dir);
    const metadata = JSON.parse('{"__proto__":{"x":1}}');
    await expect(saver.save({ a: 1 }, 'a.ckpt', metadata)).rejects.toThrow(
      /^DiskSaver\.save: argument metadata should be plain data without the keys '__proto__', 'constructor' and 'prototype', got \{"__proto__":\{"x":1\}\}\. Rename that key: a checkpoint carrying it could never be loaded\.$/,
    );
    await expect(saver.save({ a: 1 }, 'a.ckpt', [] as never)).rejects.toThrow(
      /argument metadata should be a plain object/,
    );
    expect(await saver.list()).toEqual([]);
  });
});

describe('DiskSaver: names, options and the directory', () => {
  it('refuses names ending in .tmp, the lock file, directories and NUL, saying what to do', async () => {
    const dir = await tempDir();
    const { saver } = makeSaver(dir);
    for (const method of ['save', 'load', 'remove'] as const) {
      const call = (name: string) => (method === 'save' ? saver.save({}, name) : saver[method](name));
      await expect(call('model_3.tmp')).rejects.toThrow(
        new RegExp(
          `^DiskSaver\\.${method}: argument filename should be a name that does not end in '\\.tmp' .*got 'model_3\\.tmp'\\. Use another extension, e\\.g\\. 'model_3\\.ckpt'\\.$`,
        ),
      );
      await expect(call(LOCK)).rejects.toThrow(/a name other than '\.kindling\.lock' \(the directory's lock file\)/);
      await expect(call('../up.ckpt')).rejects.toThrow(TypeError);
      await expect(call('a\0b')).rejects.toThrow(/a plain file name without directories/);
      await expect(call('')).rejects.toThrow(/argument filename should be a non-empty string, got ''/);
      await expect(call(7 as never)).rejects.toThrow(/argument filename should be a non-empty string, got 7/);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes names up to 255 bytes (the temporary name is short), refuses longer ones', async () => {
    const dir = await tempDir();
    const { saver } = makeSaver(dir);
    const long = `${'m'.repeat(250)}.ckpt`;
    await saver.save({ step: 1 }, long);
    expect(await saver.load(long)).toEqual({ step: 1 });
    const wide = `${'é'.repeat(125)}.ckpt`; // 250 + 5 bytes in UTF-8
    await saver.save({ step: 2 }, wide);
    expect((await saver.list()).sort()).toEqual([long, wide].sort());
    await expect(saver.save({}, `m${long}`)).rejects.toThrow(
      /^DiskSaver\.save: argument filename should be at most 255 bytes long .*It is 256 bytes; shorten it/,
    );
    await expect(saver.save({}, `é${wide}`)).rejects.toThrow(/It is 257 bytes/);
  });

  it('rejects unknown options and wrong types, with Ignite names pointed to ours', () => {
    expect(() => new DiskSaver(7 as never)).toThrow(
      /^DiskSaver: argument dirname should be a non-empty string, got 7\. Pass a directory path/,
    );
    expect(() => new DiskSaver('/tmp/x', { require_empty: false } as never)).toThrow(
      /^DiskSaver: unknown option 'require_empty'\. Write requireEmpty \(Ignite's require_empty\)\. Known options: createDir, requireEmpty, onWarning\.$/,
    );
    expect(() => new DiskSaver('/tmp/x', { atomic: true } as never)).toThrow(/always writes atomically/);
    expect(() => new DiskSaver('/tmp/x', { requireEmpty: 'no' } as never)).toThrow(
      /^DiskSaver: option requireEmpty should be a boolean, got 'no'\.$/,
    );
    expect(() => new DiskSaver('/tmp/x', { onWarning: 'log' } as never)).toThrow(
      /option onWarning should be a function \(message\) => void, got 'log'\.$/,
    );
    expect(() => new DiskSaver('/tmp/x', null as never)).toThrow(/^DiskSaver: argument options should be an object/);
  });

  it('latest() rejects unknown options', async () => {
    const { saver } = makeSaver(await tempDir());
    await expect(saver.latest({ filtr: () => true } as never)).rejects.toThrow(
      /^DiskSaver\.latest: unknown option 'filtr'\. Did you mean 'filter'\?/,
    );
    await expect(saver.latest({ filter: 'c_' } as never)).rejects.toThrow(/option filter should be a function/);
  });

  it('requireEmpty refuses old .ckpt files and says how to resume; the lock and temporary files do not count', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK), JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 'x', token: 't' }));
    await writeFile(join(dir, '.kindling-0123456789ab.tmp'), 'partial');
    expect(() => new DiskSaver(dir, { onWarning: () => {} })).not.toThrow();
    await writeFile(join(dir, 'old_1.ckpt'), 'x');
    expect(() => new DiskSaver(dir)).toThrow(
      /^DiskSaver: files 'old_1\.ckpt' with extension '\.ckpt' are already present in the directory '.*' \(option requireEmpty is true, so that a new run does not mix with an old one\)\. To resume from them with resumeOrStart\(\), or to use this directory anyway, pass \{ requireEmpty: false \}; to start a new run, use another directory or delete them\.$/,
    );
  });

  it('says when the path is a file, or missing without createDir', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), 'x');
    expect(() => new DiskSaver(join(dir, 'file'))).toThrow(/^DiskSaver: '.*file' is not a directory\./);
    expect(() => new DiskSaver(join(dir, 'nope'), { createDir: false })).toThrow(/is not found.*createDir: true/);
  });

  it('lists a directory deleted after construction as empty, and a save recreates it', async () => {
    const dir = join(await tempDir(), 'run');
    const { saver } = makeSaver(dir);
    await rm(dir, { recursive: true });
    expect(await saver.list()).toEqual([]);
    expect(await saver.latest()).toBeNull();
    await saver.save({ step: 1 }, 'a.ckpt');
    expect(await saver.load('a.ckpt')).toEqual({ step: 1 });
    await saver.close();
  });
});

describe('DiskSaver: temporary files', () => {
  it('deletes leftovers of killed saves at construction, with a warning, and nothing else', async () => {
    const dir = await tempDir();
    const { saver: first } = makeSaver(dir);
    await first.save({ step: 1 }, 'c_1.ckpt');
    await first.close();
    const leftovers = ['.kindling-0123456789ab.tmp', '.kindling-ffffffffffff.tmp'];
    for (const name of leftovers) await writeFile(join(dir, name), 'half a checkpoint');
    await writeFile(join(dir, 'notes.tmp'), 'not ours');
    const { saver, warnings } = makeSaver(dir);
    expect((await readdir(dir)).sort()).toEqual(['c_1.ckpt', 'notes.tmp']);
    expect(warnings).toEqual([
      `DiskSaver: removed 2 temporary files left in '${dir}' by an interrupted save (${leftovers.join(', ')}); the checkpoints saved before it are intact.`,
    ]);
    expect(await saver.list()).toEqual(['c_1.ckpt']);
  });

  it('leaves them alone while another running process holds the directory', async () => {
    const dir = await tempDir();
    const child = await startChild('hold', dir);
    await writeFile(join(dir, '.kindling-0123456789ab.tmp'), 'in flight');
    const { warnings } = makeSaver(dir);
    expect(await readdir(dir)).toContain('.kindling-0123456789ab.tmp');
    expect(warnings).toEqual([]);
    await killed(child);
    makeSaver(dir); // the holder is gone: its lock is taken over and the leftover deleted
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('DiskSaver: the lock file', () => {
  it('a second process cannot write into the directory: LOCKED, naming the holder and the fix', async () => {
    const dir = await tempDir();
    const child = await startChild('hold', dir);
    const { saver, warnings } = makeSaver(dir);
    const error = await errorOf(saver.save({ step: 1 }, 'c_1.ckpt'));
    expect(error.code).toBe('LOCKED');
    expect(error.message).toBe(
      `DiskSaver: the checkpoint directory '${dir}' is in use by process ${child.pid} on host '${hostname()}' (since ${JSON.parse(await readFile(join(dir, LOCK), 'utf8')).startedAt}), which holds its lock file '${join(dir, LOCK)}'. Only one process may write checkpoints into a directory: stop the other process, or give this run its own directory, e.g. new DiskSaver('${dir}-2'). If that process is not a training run (its pid was reused), delete '${join(dir, LOCK)}'.`,
    );
    expect((await errorOf(saver.acquireLock())).code).toBe('LOCKED');
    expect((await errorOf(saver.remove('c_0.ckpt'))).code).toBe('LOCKED');
    expect(await readdir(dir)).toEqual([LOCK]); // nothing written
    // Reading needs no lock.
    expect(await saver.latest()).toBeNull();
    await killed(child);
    // The holder is gone: the next write takes the stale lock over, with a warning.
    await saver.save({ step: 1 }, 'c_1.ckpt');
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^DiskSaver: took over the lock of checkpoint directory '.*' left by process ${child.pid} on host .* which is no longer running\\.$`,
        ),
      ),
    ]);
    const lock = JSON.parse(await readFile(join(dir, LOCK), 'utf8'));
    expect(lock).toEqual({
      pid: process.pid,
      host: hostname(),
      startedAt: expect.any(String),
      token: expect.any(String),
    });
    expect(Math.abs(Date.parse(lock.startedAt) - Date.now())).toBeLessThan(60_000);
    await saver.close();
    expect(await readdir(dir)).toEqual(['c_1.ckpt']);
  });

  it('is released when the process exits', async () => {
    const dir = await tempDir();
    const child = await startChild('exit', dir);
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
    expect(child.exitCode).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('savers of one process share it; the file goes when the last lets go', async () => {
    const dir = await tempDir();
    const { saver: a } = makeSaver(dir);
    const { saver: b } = makeSaver(dir);
    const releaseA = await a.acquireLock();
    expect(await a.acquireLock()).toBe(releaseA);
    await b.save({ best: 1 }, 'best.ckpt'); // e.g. a best-model Checkpoint with its own saver
    await a.save({ step: 1 }, 'c_1.ckpt');
    releaseA();
    expect(existsSync(join(dir, LOCK))).toBe(true);
    await b.close();
    expect(existsSync(join(dir, LOCK))).toBe(false);
    await a.save({ step: 2 }, 'c_2.ckpt'); // takes it again
    expect(existsSync(join(dir, LOCK))).toBe(true);
    await a.close();
  });

  it('close() waits for saves in progress before it lets the lock go', async () => {
    const dir = await tempDir();
    const { saver } = makeSaver(dir);
    const order: string[] = [];
    const saving = saver.save({ w: new Float32Array(1 << 20) }, 'big.ckpt').then(() => order.push('saved'));
    await saver.close().then(() => order.push('closed'));
    await saving;
    expect(order).toEqual(['saved', 'closed']);
    expect(await readdir(dir)).toEqual(['big.ckpt']);
  });

  it('takes over a lock of a gone process, and one of an earlier process that had this pid', async () => {
    for (const pid of [deadPid(), process.pid]) {
      const dir = await tempDir();
      await writeFile(join(dir, LOCK), JSON.stringify({ pid, host: hostname(), startedAt: 'then', token: 'old' }));
      const { saver, warnings } = makeSaver(dir);
      expect(warnings).toEqual([
        expect.stringContaining(`left by process ${pid} on host '${hostname()}' (since then)`),
      ]);
      await saver.acquireLock();
      expect(JSON.parse(await readFile(join(dir, LOCK), 'utf8')).token).not.toBe('old');
      await saver.close();
    }
  });

  it('never guesses that a lock of another host is stale; an unreadable lock says to delete it', async () => {
    const dir = await tempDir();
    const lock = join(dir, LOCK);
    await writeFile(lock, JSON.stringify({ pid: deadPid(), host: 'other-box', startedAt: 'then', token: 'x' }));
    const { saver } = makeSaver(dir);
    const error = await errorOf(saver.acquireLock());
    expect(error.code).toBe('LOCKED');
    expect(error.message).toMatch(
      /in use by process \d+ on host 'other-box' \(since then\).*kindling cannot check processes of another host: if that process is no longer running, delete '.*\.kindling\.lock'\.$/,
    );
    await writeFile(lock, '{"pid": "garbage"');
    expect((await errorOf(saver.save({}, 'a.ckpt'))).message).toBe(
      `DiskSaver: the lock file '${lock}' of checkpoint directory '${dir}' cannot be read, so kindling cannot tell whether another process writes checkpoints there. If no other process trains into this directory, delete '${lock}' and start again.`,
    );
    await rm(lock);
    await saver.save({}, 'a.ckpt');
    await saver.close();
  });

  it('checks before each write that the lock is still this process’s', async () => {
    const dir = await tempDir();
    const { saver, warnings } = makeSaver(dir);
    await saver.save({ step: 1 }, 'c_1.ckpt');
    await rm(join(dir, LOCK)); // deleted by hand: taken again, with a warning
    await saver.save({ step: 2 }, 'c_2.ckpt');
    expect(warnings).toEqual([
      expect.stringMatching(
        /^DiskSaver\.save: the lock file '.*' was deleted while this process held it; took the lock again\.$/,
      ),
    ]);
    expect(existsSync(join(dir, LOCK))).toBe(true);
    // Another process took it (e.g. someone deleted it and started a second run): no write.
    await writeFile(join(dir, LOCK), JSON.stringify({ pid: 1, host: 'other-box', startedAt: 'now', token: 'theirs' }));
    const error = await errorOf(saver.save({ step: 3 }, 'c_3.ckpt'));
    expect(error.code).toBe('LOCKED');
    expect(error.message).toMatch(
      /^DiskSaver\.save: this process no longer holds the lock of checkpoint directory '.*': its lock file '.*' now belongs to process 1 on host 'other-box' \(since now\)\. Nothing was written/,
    );
    expect((await errorOf(saver.remove('c_1.ckpt'))).code).toBe('LOCKED');
    expect((await readdir(dir)).sort()).toEqual([LOCK, 'c_1.ckpt', 'c_2.ckpt']);
    await saver.close();
    expect(existsSync(join(dir, LOCK))).toBe(true); // not ours: left alone
  });

  it('resumeOrStart takes the lock first: a second process fails before anything is loaded', async () => {
    const dir = await tempDir();
    const { saver: first } = makeSaver(dir);
    await first.save({ value: 7 }, 'counter_1.ckpt');
    await first.close();
    const child = await startChild('hold', dir);
    const { saver } = makeSaver(dir);
    let loaded: unknown = null;
    const counter = {
      stateDict: () => ({}),
      loadStateDict: (sd: unknown) => {
        loaded = sd;
      },
    };
    const error = await errorOf(resumeOrStart({ saver, toLoad: { counter } }));
    expect(error.code).toBe('LOCKED');
    expect(error.message).toContain(`in use by process ${child.pid}`);
    expect(loaded).toBeNull();
    await killed(child);
    expect(await resumeOrStart({ saver, toLoad: { counter } })).toMatchObject({
      resumed: true,
      filename: 'counter_1.ckpt',
    });
    expect(loaded).toEqual({ value: 7 });
    await saver.close();
  });
});
