#!/usr/bin/env node
// `npm run check:quick-start`: each command line of the README's Quick start, run by itself in a fresh clone of this
// repository (no node_modules, nothing built), must start correctly:
//   - a line with `npm test` must get as far as the build running (`vite` found and started: the fresh-clone failure
//     was `sh: 1: vite: not found`), and
//   - a line with `npm run train` as far as the page planning its run (Chromium, the dev server and kindling running),
// after which the line is stopped (its whole process group); any other line must exit 0. A line that exits before its
// mark, or does not reach it within --timeout seconds, fails the check with the end of its output.
//
// Marks are matched in the output with its ANSI colour codes removed: vite's colours (picocolors) switch on whenever
// `CI` is set, and the CI machine sets it, so "vite v8 building" arrives as "\x1b[36mvite v8 \x1b[32mbuilding".
//
// Installs prefer npm's cache (npm_config_prefer_offline), so after `npm ci` the check needs no network. The train
// line gets `-- --port N` (a free port) so that it never meets another server. Clones HEAD: commit what you check.
//
// Usage: node scripts/check-quick-start.mjs [--timeout SECONDS] [--keep]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, stripVTControlCharacters } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The command lines of the README's Quick start block, without their comments. */
function quickStartLines(readme) {
  const section = readme.split(/^## Quick start\s*$/m)[1];
  const block = section?.match(/```sh\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error('check-quick-start: README.md has no ```sh block under "## Quick start".');
  return block
    .split('\n')
    .map((line) => line.replace(/\s#.*$/, '').trim())
    .filter(Boolean);
}

/** What a line must print to have started correctly, or null when it must run to completion. */
function markFor(line) {
  if (/\bnpm (run )?test\b/.test(line)) return { pattern: /^vite v\S+ building/m, what: 'the build running vite' };
  if (/\bnpm run train\b/.test(line)) {
    return { pattern: /^(starting a fresh run|resuming the stored run)/m, what: 'the page planning its run' };
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits (up to 15 s) until no process of the group `pgid` is left, e.g. a browser closing after SIGTERM. */
async function groupGone(pgid) {
  for (let i = 0; i < 75; i++) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs `line` in `cwd` in a process group of its own; resolves when it prints `mark` (then stops it) or exits. */
function runLine(line, cwd, mark, timeoutS) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn('sh', ['-c', line], {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' },
    });
    let raw = '';
    let output = '';
    let outcome = null;
    const stop = (result) => {
      if (outcome) return;
      outcome = result;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // the group has already exited
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // exited on SIGTERM
        }
      }, 10_000).unref();
    };
    const timer = setTimeout(
      () => stop({ ok: false, why: `did not reach its mark within ${timeoutS} s` }),
      timeoutS * 1000,
    );
    const onData = (chunk) => {
      raw += chunk;
      output = stripVTControlCharacters(raw); // the whole text: an escape sequence may be split between chunks
      if (mark?.pattern.test(output)) stop({ ok: true, why: `reached ${mark.what}` });
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', async (code, signal) => {
      clearTimeout(timer);
      await groupGone(child.pid);
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      if (!outcome) {
        outcome =
          !mark && code === 0
            ? { ok: true, why: 'exited 0' }
            : { ok: false, why: `exited (${signal ?? `code ${code}`}) before ${mark ? mark.what : 'finishing'}` };
      }
      resolve({ ...outcome, seconds, output });
    });
  });
}

const { values: args } = parseArgs({
  options: { timeout: { type: 'string', default: '600' }, keep: { type: 'boolean', default: false } },
});
const timeoutS = Number(args.timeout);
const work = mkdtempSync(join(tmpdir(), 'kindling-quick-start-'));
const cloneOf = (name) => {
  const clone = join(work, name);
  execFileSync('git', ['clone', '--quiet', root, clone]);
  return clone;
};
let failed = 0;
let lines = [];
const checkStarted = Date.now();
try {
  lines = quickStartLines(readFileSync(join(cloneOf('readme'), 'README.md'), 'utf8'));
  for (const [index, written] of lines.entries()) {
    const clone = cloneOf(`line-${index + 1}`);
    const line = /\bnpm run train\b/.test(written) ? `${written} -- --port ${await freePort()}` : written;
    console.log(`== ${line}   (fresh clone of HEAD: ${clone})`);
    const result = await runLine(line, clone, markFor(line), timeoutS);
    console.log(`${result.ok ? 'ok' : 'FAILED'}: ${result.why} after ${result.seconds} s`);
    if (!result.ok) {
      failed += 1;
      console.log(result.output.trim().split('\n').slice(-30).join('\n'));
    }
  }
} finally {
  if (args.keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true, maxRetries: 5 });
}
if (failed > 0) {
  console.error(`check-quick-start: ${failed} of ${lines.length} Quick start lines did not start in a fresh clone.`);
  process.exit(1);
}
console.log(
  `check-quick-start: all ${lines.length} Quick start lines start in a fresh clone (${((Date.now() - checkStarted) / 1000).toFixed(0)} s).`,
);
