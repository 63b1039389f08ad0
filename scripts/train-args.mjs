// The command line of `npm run train` (scripts/train.mjs) and the runner's messages about it, apart from the browser
// so that they can be tested: every mistake gets one line saying what was wrong and what to type instead.
import { parseArgs } from 'node:util';

/** The runner's options: type, default, and the value shown in `--help`. */
const OPTIONS = {
  backend: { type: 'string', choices: ['webgpu', 'webgl', 'cpu'] },
  epochs: { type: 'string', default: '5', min: 1 },
  seed: { type: 'string', default: '42', min: 0 },
  model: { type: 'string', default: 'mlp', choices: ['mlp', 'cnn'] },
  every: { type: 'string', default: '10', min: 1 },
  worker: { type: 'boolean', default: false },
  fresh: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '900', min: 1 },
  port: { type: 'string', default: '5177', min: 1, max: 65535 },
  help: { type: 'boolean', default: false, short: 'h' },
};

export const usage = `usage: npm run train -- [options]
  --backend webgpu|webgl|cpu  where to start in the order webgpu, webgl, cpu (default: webgpu, falling back)
  --epochs N                  epochs to train in all (default 5); more than the stored run trains it further
  --seed N                    random seed (default 42)
  --model mlp|cnn             the digit classifier (default mlp)
  --every N                   checkpoint every N iterations, and at each epoch end (default 10)
  --fresh                     delete the stored checkpoints of these settings and start over
  --worker                    train in a Web Worker instead of the page's main thread
  --timeout SECONDS           give up after this long (default 900)
  --port N                    dev-server port (default 5177); the checkpoints belong to that origin
  -h, --help                  this text
A run with the same --seed, --model and --every resumes from its latest checkpoint; other values start a fresh run
in a store of their own (the earlier run keeps its checkpoints).`;

const HELP_HINT = '(npm run train -- --help lists the options)';

/** A mistake on the command line; `message` is one line saying what to type instead. */
export class TrainArgsError extends Error {
  name = 'TrainArgsError';
}

/** `--epoch` → `--epochs`: a known option the given one starts, or that starts it. */
function likelyOption(name) {
  const known = Object.keys(OPTIONS);
  return known.find((option) => option.startsWith(name) || name.startsWith(option)) ?? null;
}

function checkInteger(name, text, { min, max = Number.MAX_SAFE_INTEGER }) {
  const value = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new TrainArgsError(`--${name} should be an integer ${range}, got '${text}'.`);
  }
  return value;
}

/**
 * Parses the runner's arguments (`process.argv.slice(2)`). Returns `{ help: true }` for `--help`, else the options
 * with their defaults; throws a {@link TrainArgsError} for an unknown option, a missing or unexpected value, a stray
 * argument, or a value out of range. A negative number is read as the option's value (`--epochs -2`), so it gets
 * the range message rather than the parser's.
 */
export function parseTrainArgs(argv) {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, tokens: true, allowPositionals: true });
  const given = {};
  let afterTerminator = false;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      afterTerminator = true;
      continue;
    }
    if (token.kind === 'positional') {
      const hint = afterTerminator ? '' : ' Options start with --, e.g. --epochs 10.';
      throw new TrainArgsError(`unexpected argument '${token.value}'.${hint} ${HELP_HINT}`);
    }
    const option = OPTIONS[token.name];
    if (option === undefined) {
      const close = likelyOption(token.name);
      throw new TrainArgsError(
        `unknown option ${token.rawName}.${close ? ` Did you mean --${close}?` : ''} ${HELP_HINT}`,
      );
    }
    if (option.type === 'string' && token.value === undefined) {
      throw new TrainArgsError(
        `--${token.name} needs a value, e.g. --${token.name} ${option.default ?? option.choices[0]}.`,
      );
    }
    if (option.type === 'boolean' && token.value !== undefined) {
      throw new TrainArgsError(`--${token.name} takes no value: write --${token.name} alone.`);
    }
    given[token.name] = token.value ?? true;
  }
  if (given.help) return { help: true };
  const options = {};
  for (const [name, option] of Object.entries(OPTIONS)) {
    if (name === 'help') continue;
    const value = given[name] ?? option.default;
    if (value === undefined) options[name] = undefined;
    else if (option.type === 'boolean') options[name] = value;
    else if (option.choices) {
      if (!option.choices.includes(value)) {
        throw new TrainArgsError(
          `--${name} should be ${option.choices.join(', ').replace(/, ([^,]*)$/, ' or $1')}, got '${value}'.`,
        );
      }
      options[name] = value;
    } else options[name] = checkInteger(name, value, option);
  }
  return { help: false, options };
}

/**
 * The runner's note after resuming from a checkpoint at `reachedEpoch` (epochs completed) when `--epochs` asked for
 * `epochs`: null when training goes on, else a line saying the stored run has nothing left to do and what to pass.
 */
export function alreadyTrainedMessage(reachedEpoch, epochs) {
  if (reachedEpoch < epochs) return null;
  const asked = reachedEpoch > epochs ? ` (--epochs ${epochs} asks for fewer)` : '';
  return (
    `the stored run already reached epoch ${reachedEpoch}${asked}: nothing to train. Pass --epochs ${reachedEpoch + 5} ` +
    'to train 5 more epochs, or --fresh to start over.'
  );
}
