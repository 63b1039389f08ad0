// A child process for DiskSaver's multi-process tests, run with `node --import tsx disk-child.ts <mode> <dir>`:
//   hold  takes the directory's lock, prints `locked`, and waits to be killed;
//   exit  takes the lock, prints `locked` and exits normally (the lock must go with it);
//   loop  takes the lock, checks the newest checkpoint, prints `ready <step>` and saves checkpoints in a loop,
//         keeping the two newest (as Checkpoint with nSaved: 2 does), until it is killed.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiskSaver } from '../storage/disk-saver';

/** The payload of step `step`: every element of `w` equals the step, `note` has a length that varies. */
export const payload = (step: number) => ({
  step,
  w: new Float32Array(1024 + (step % 7) * 512).fill(step),
  note: 'x'.repeat(step % 50),
});

async function main(): Promise<void> {
  const [mode, dir] = process.argv.slice(2);
  if (dir === undefined || !['hold', 'exit', 'loop'].includes(mode!)) {
    throw new Error('usage: disk-child.ts hold|exit|loop <dir>');
  }
  const saver = new DiskSaver(dir, { requireEmpty: false, onWarning: (m) => console.error(m) });
  await saver.acquireLock();
  if (mode === 'hold') {
    console.log('locked');
    setInterval(() => {}, 1000);
    return;
  }
  if (mode === 'exit') {
    console.log('locked');
    process.exit(0);
  }
  const latest = await saver.latest();
  let step = latest === null ? 0 : (latest.data as { step: number }).step;
  console.log(`ready ${step}`);
  for (;;) {
    step++;
    await saver.save(payload(step), `c_${step}.ckpt`, { priority: step });
    if (step > 2) await saver.remove(`c_${step - 2}.ckpt`);
  }
}

// Run as a script (the tests import `payload` from it too).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
