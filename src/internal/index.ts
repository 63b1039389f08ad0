// Internal helpers shared by every folder: value descriptions, type guards and argument checks.
// Not exported from the package. Imports nothing outside this folder, so engine/ can use it too.
export * from './checks';
export * from './describe';
export * from './is';
export * from './plain-data';
export * from './plan-load';
export * from './yield';
