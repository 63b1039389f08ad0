// kill -9 during saves, again and again: a child process saves checkpoints in a loop (keeping the two newest) and is
// killed with SIGKILL at a random moment; after every kill the newest checkpoint loads and is whole, nothing saved
// before is lost, and the next DiskSaver constructed on the directory leaves no temporary file behind.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { payload } from './disk-child.test-util';
import { DiskSaver } from './disk-saver';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./disk-child.test-util.ts', import.meta.url));
const KILLS = 30;

let dir = '';
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

interface Loop {
  child: ReturnType<typeof spawn>;
  /** The step the child resumed from. */
  resumedFrom: number;
  /** Resolves when the child has exited. */
  exited: Promise<void>;
  stderr: () => string;
}

/** Starts the saving loop; resolves once the child starts saving. */
function startLoop(): Promise<Loop> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'loop', dir], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /^ready (\d+)$/m.exec(stdout);
      if (match !== null) resolve({ child, resumedFrom: Number(match[1]), exited, stderr: () => stderr });
    });
    void exited.then(() => reject(new Error(`saving loop exited before it was ready: ${stderr}`)));
  });
}

// About 20 s on two idle cores (each round starts a Node process through tsx); the limit leaves room for a busy machine.
it(`a checkpoint directory survives ${KILLS} kill -9 during saves`, { timeout: 180_000 }, async () => {
  dir = await mkdtemp(join(tmpdir(), 'kindling-kill-'));
  const started = performance.now();
  let newest = 0;
  let withLeftovers = 0;
  let stepsSaved = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    const { child, resumedFrom, exited, stderr } = await startLoop();
    // The child resumes from what the last check found: nothing saved before the kill was lost.
    expect(resumedFrom).toBe(newest);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 60));
    // A save that failed would end the loop by itself: that is a failure, not a kill.
    expect(child.exitCode, stderr()).toBeNull();
    child.kill('SIGKILL');
    await exited;
    expect(child.signalCode, stderr()).toBe('SIGKILL');
    if ((await readdir(dir)).some((name) => name.endsWith('.tmp'))) withLeftovers++;

    const warnings: string[] = [];
    const saver = new DiskSaver(dir, { requireEmpty: false, onWarning: (m) => warnings.push(m) });
    const names = await readdir(dir);
    expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(names).not.toContain('.kindling.lock'); // the dead child's lock was taken over and let go
    const latest = await saver.latest();
    expect(warnings.filter((m) => m.includes('damaged'))).toEqual([]);
    if (latest !== null) {
      const { step } = latest.data as { step: number };
      expect(latest.filename).toBe(`c_${step}.ckpt`);
      expect(latest.data).toEqual(payload(step));
      expect(step).toBeGreaterThanOrEqual(newest);
      stepsSaved += step - newest;
      newest = step;
      // Every checkpoint still on disk loads whole.
      for (const name of await saver.list()) expect(await saver.load(name)).toBeTruthy();
    } else {
      expect(newest).toBe(0);
    }
  }
  expect(newest).toBeGreaterThan(0);
  if (process.env.KINDLING_KILL_REPORT) {
    console.log(
      `${KILLS} kills in ${((performance.now() - started) / 1000).toFixed(1)} s; ${stepsSaved} checkpoints saved; temporary files left by ${withLeftovers} kills, all deleted at the next construction`,
    );
  }
});
