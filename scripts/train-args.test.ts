// The runner's command line and its messages (scripts/train-args.mjs), without launching a browser.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alreadyTrainedMessage, parseTrainArgs, TrainArgsError, usage } from './train-args.mjs';

const DEFAULTS = {
  backend: undefined,
  epochs: 5,
  seed: 42,
  model: 'mlp',
  every: 10,
  worker: false,
  fresh: false,
  timeout: 900,
  port: 5177,
};

const error = (argv: string[]) => {
  try {
    parseTrainArgs(argv);
  } catch (caught) {
    expect(caught).toBeInstanceOf(TrainArgsError);
    return (caught as Error).message;
  }
  throw new Error(`parseTrainArgs(${JSON.stringify(argv)}) did not throw`);
};

describe('npm run train: arguments', () => {
  it('applies the defaults and reads every option', () => {
    expect(parseTrainArgs([])).toEqual({ help: false, options: DEFAULTS });
    expect(
      parseTrainArgs([
        '--backend',
        'cpu',
        '--epochs',
        '8',
        '--seed=0',
        '--model',
        'cnn',
        '--every',
        '3',
        '--worker',
        '--fresh',
        '--timeout',
        '60',
        '--port',
        '5297',
      ]),
    ).toEqual({
      help: false,
      options: {
        backend: 'cpu',
        epochs: 8,
        seed: 0,
        model: 'cnn',
        every: 3,
        worker: true,
        fresh: true,
        timeout: 60,
        port: 5297,
      },
    });
    expect(parseTrainArgs(['--help'])).toEqual({ help: true });
    expect(parseTrainArgs(['-h'])).toEqual({ help: true });
  });

  it('says what is wrong with a number in the runner’s words, negative numbers included', () => {
    expect(error(['--epochs', '-2'])).toBe("--epochs should be an integer >= 1, got '-2'.");
    expect(error(['--epochs=-2'])).toBe("--epochs should be an integer >= 1, got '-2'.");
    expect(error(['--epochs', '2.5'])).toBe("--epochs should be an integer >= 1, got '2.5'.");
    expect(error(['--epochs', 'ten'])).toBe("--epochs should be an integer >= 1, got 'ten'.");
    expect(error(['--seed', '-1'])).toBe("--seed should be an integer >= 0, got '-1'.");
    expect(error(['--port', '70000'])).toBe("--port should be an integer from 1 to 65535, got '70000'.");
    expect(error(['--every', ''])).toBe("--every should be an integer >= 1, got ''.");
  });

  it('names the option meant, a missing or unexpected value, and a stray argument', () => {
    expect(error(['--epoch', '3'])).toBe(
      'unknown option --epoch. Did you mean --epochs? (npm run train -- --help lists the options)',
    );
    expect(error(['--lr', '0.1'])).toBe('unknown option --lr. (npm run train -- --help lists the options)');
    expect(error(['--epochs'])).toBe('--epochs needs a value, e.g. --epochs 5.');
    expect(error(['--backend'])).toBe('--backend needs a value, e.g. --backend webgpu.');
    expect(error(['--fresh=yes'])).toBe('--fresh takes no value: write --fresh alone.');
    expect(error(['8'])).toBe(
      "unexpected argument '8'. Options start with --, e.g. --epochs 10. (npm run train -- --help lists the options)",
    );
    expect(error(['--backend', 'wasm'])).toBe("--backend should be webgpu, webgl or cpu, got 'wasm'.");
    expect(error(['--model', 'resnet'])).toBe("--model should be mlp or cnn, got 'resnet'.");
  });

  it('the help lists every option', () => {
    for (const name of Object.keys(DEFAULTS)) expect(usage).toContain(`--${name}`);
  });
});

describe('npm run train: after resuming', () => {
  it('names the epoch the stored run reached, and an --epochs that trains on from there', () => {
    // A 5-epoch run, then --epochs 3: it reached 5, not 3.
    expect(alreadyTrainedMessage(5, 3)).toBe(
      'the stored run already reached epoch 5 (--epochs 3 asks for fewer): nothing to train. Pass --epochs 10 to ' +
        'train 5 more epochs, or --fresh to start over.',
    );
    expect(alreadyTrainedMessage(5, 5)).toBe(
      'the stored run already reached epoch 5: nothing to train. Pass --epochs 10 to train 5 more epochs, or --fresh ' +
        'to start over.',
    );
    expect(alreadyTrainedMessage(5, 8)).toBeNull();
    expect(alreadyTrainedMessage(0, 5)).toBeNull();
  });
});

describe('scripts/train.mjs', () => {
  const train = fileURLToPath(new URL('./train.mjs', import.meta.url));
  const run = (argv: string[]) => {
    try {
      return {
        status: 0,
        stdout: execFileSync(process.execPath, [train, ...argv], { encoding: 'utf8', stdio: 'pipe' }),
        stderr: '',
      };
    } catch (caught) {
      const { status, stdout, stderr } = caught as { status: number; stdout: string; stderr: string };
      return { status, stdout, stderr };
    }
  };

  it('prints the help and exits 0; prints one line and exits 1 on a bad argument, before starting anything', () => {
    expect(run(['--help'])).toEqual({ status: 0, stdout: `${usage}\n`, stderr: '' });
    expect(run(['--epochs', '-2'])).toEqual({
      status: 1,
      stdout: '',
      stderr: "train: --epochs should be an integer >= 1, got '-2'.\n",
    });
  });
});
