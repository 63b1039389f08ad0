// Public exports of `kindling`. Each folder's index.ts lists what it makes public.
export * from './browser';
export * from './common';
export * from './data';
export * from './engine';
export * from './handlers';
export * from './loggers';
export * from './metrics';
export * from './storage';
export * from './supervised';
