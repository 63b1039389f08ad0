/** The options of `npm run train`, with their defaults applied. */
export interface TrainOptions {
  backend: 'webgpu' | 'webgl' | 'cpu' | undefined;
  epochs: number;
  seed: number;
  model: 'mlp' | 'cnn';
  every: number;
  worker: boolean;
  fresh: boolean;
  timeout: number;
  port: number;
}
export declare const usage: string;
export declare class TrainArgsError extends Error {}
export declare function parseTrainArgs(
  argv: readonly string[],
): { help: true } | { help: false; options: TrainOptions };
export declare function alreadyTrainedMessage(reachedEpoch: number, epochs: number): string | null;
