// Throws the bad-input table of src/bad-inputs.test-util.ts at the API and counts the outcomes:
// clear (starts with the class/function, shows the bad value), unclear, raw (a JavaScript TypeError such as
// "Cannot read properties of undefined"), silent (accepted), partial (threw but changed the target), hang.
//
//   npx tsx scripts/probe-bad-inputs.ts            # the table, then the counts per outcome and per group
//   npx tsx scripts/probe-bad-inputs.ts --all      # also list the clear cases
//
// Cases marked `isolate` (a bad RNG state makes the next Math.random() spin forever) run in a child process with a
// timeout, since no timer can interrupt a synchronous loop.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { type BadInput, badInputs, type Outcome, runCase } from '../src/bad-inputs.test-util';
import { setLogger, silentLogger } from '../src/index';

tf.enableProdMode();
setLogger(silentLogger);

const args = process.argv.slice(2);
const caseIndex = args.indexOf('--case');

/** In a child: runs one case; if it was accepted, draws from Math.random (which spins on a broken state). */
async function runIsolated(c: BadInput): Promise<void> {
  const result = await runCase(c);
  if (result.outcome === 'silent') Math.random();
  process.stdout.write(JSON.stringify(result));
}

async function main(): Promise<void> {
  const cases = badInputs();
  if (caseIndex >= 0) {
    await runIsolated(cases[Number(args[caseIndex + 1])]!);
    return;
  }
  const counts: Record<Outcome, number> = { clear: 0, unclear: 0, raw: 0, silent: 0, partial: 0, hang: 0 };
  const byGroup = new Map<string, Record<string, number>>();
  const script = fileURLToPath(import.meta.url);
  for (const [index, c] of cases.entries()) {
    let result: { outcome: Outcome; message: string };
    if (c.isolate) {
      const child = spawnSync(process.execPath, [...process.execArgv, script, '--case', String(index)], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      result =
        child.error !== undefined || child.status !== 0
          ? { outcome: 'hang', message: 'Math.random() did not return within 20 s after the state was accepted' }
          : JSON.parse(child.stdout.slice(child.stdout.indexOf('{')));
    } else {
      result = await runCase(c);
    }
    counts[result.outcome] += 1;
    const group = byGroup.get(c.group) ?? {};
    group[result.outcome] = (group[result.outcome] ?? 0) + 1;
    byGroup.set(c.group, group);
    if (result.outcome !== 'clear' || args.includes('--all')) {
      console.log(`${result.outcome.padEnd(8)} ${c.name}\n         ${result.message.slice(0, 300)}`);
    }
  }
  console.log(`\n${cases.length} bad inputs tried:`, counts);
  for (const [group, tally] of byGroup) console.log(`  ${group.padEnd(20)} ${JSON.stringify(tally)}`);
}

await main();
