// The README's Node resume recipe, run as it is printed, in separate Node processes (through tsx, against the
// source): `train.ts 2`, then `train.ts 4` resumes at epoch 2, then `train.ts 4` again finds the run finished and
// trains and saves nothing; the resumed run ends with the same checkpoint, bit for bit, as one straight 4-epoch run.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { DiskSaver } from '../storage/disk-saver';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** Inside the repository (gitignored), so that the script resolves `@tensorflow/tfjs` and tsx maps `kindling`. */
const SCRATCH = join(REPO, 'test-results', `resume-node-${process.pid}`);

afterAll(async () => {
  await rm(SCRATCH, { recursive: true, force: true });
});

/** The code block that follows the `node-resume-recipe` marker in the README. */
async function readRecipe(): Promise<string> {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const match = /<!-- node-resume-recipe[^>]*-->\n```ts\n([\s\S]*?)\n```/.exec(readme);
  if (match === null) throw new Error('README.md has no ```ts block after the node-resume-recipe marker');
  return match[1]!;
}

/** Runs `train.ts <epochs>` in `dir`; resolves with the lines it printed that are the recipe's own. */
async function train(dir: string, epochs: number): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'train.ts', String(epochs)], {
    cwd: dir,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO, 'tsconfig.json') },
  });
  return stdout.split('\n').filter((line) => /^(started fresh|resumed at|trained to)/.test(line));
}

const weightBytes = async (dir: string) => {
  const saver = new DiskSaver(join(dir, 'checkpoints'), { requireEmpty: false, createDir: false });
  const latest = await saver.latest();
  const data = latest?.data as {
    model: { weights: { name: string; data: Float32Array }[] };
    optimizer: { iterations: number; slots: { name: string; data: Float32Array }[] };
  };
  const hex = (entries: { name: string; data: Float32Array }[]) =>
    entries.map(({ name, data }) => `${name}:${Buffer.from(data.buffer).toString('hex')}`);
  return {
    filename: latest?.filename,
    model: hex(data.model.weights),
    slots: hex(data.optimizer.slots),
    iterations: data.optimizer.iterations,
  };
};

it('the README Node recipe resumes run after run in separate processes', { timeout: 180_000 }, async () => {
  const recipe = await readRecipe();
  expect(recipe).toContain("new DiskSaver('./checkpoints'");
  const resumedDir = join(SCRATCH, 'resumed');
  const straightDir = join(SCRATCH, 'straight');
  for (const dir of [resumedDir, straightDir]) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'train.ts'), recipe);
  }

  const [first, straight] = await Promise.all([train(resumedDir, 2), train(straightDir, 4)]);
  expect(first).toEqual(['started fresh', 'trained to epoch 2, iteration 8']);
  expect(straight).toEqual(['started fresh', 'trained to epoch 4, iteration 16']);
  // The second run: the directory holds the first run's checkpoints and its lock is gone with it.
  // The 2-epoch run had finished: a larger maxEpochs trains on from it.
  expect(await train(resumedDir, 4)).toEqual([
    'resumed at iteration 8 (epoch 2, finished)',
    'trained to epoch 4, iteration 16',
  ]);
  const kept = await readdir(join(resumedDir, 'checkpoints'));
  expect(await train(resumedDir, 4)).toEqual([
    'resumed at iteration 16 (epoch 4, finished)',
    'trained to epoch 4, iteration 16',
  ]);
  // Nothing trained, nothing saved: the good checkpoints are still there, unchanged (compared with the straight run).
  expect(await readdir(join(resumedDir, 'checkpoints'))).toEqual(kept);

  const resumed = await weightBytes(resumedDir);
  expect(resumed.filename).toBe('checkpoint_16.ckpt');
  expect(resumed.iterations).toBe(16);
  expect(resumed).toEqual(await weightBytes(straightDir));
});
