import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'bench/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['src/**/*.browser.test.ts', 'node_modules', 'dist'],
    environment: 'node',
    // The memory tests compare heaps after a real collection.
    execArgv: ['--expose-gc'],
    // tfjs's CPU backend prints "Hi, looks like you are running TensorFlow.js in Node.js ..." on its first tensor in
    // each process, and Vitest runs each test file in a process of its own: drop that one message. Every other log,
    // tfjs's other warnings included, still shows (tf.enableProdMode() would hide those too).
    onConsoleLog: (log) => !log.includes('looks like you are running TensorFlow.js in Node.js'),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
