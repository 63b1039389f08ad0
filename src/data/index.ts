export {
  DataLoader,
  type DataLoaderOptions,
  type DataLoaderPass,
  type Dataset,
  type IndexedSource,
  type IterateOptions,
} from './data-loader';
export { DeterministicEngine } from './deterministic-engine';
export {
  createGenerator,
  type GeneratorState,
  getRandomState,
  keepRandomState,
  manualSeed,
  type RandomState,
  SeededGenerator,
  setRandomState,
} from './random';
export { TensorDataset } from './tensor-dataset';
