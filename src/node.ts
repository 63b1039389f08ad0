// Node-only exports of `kindling/node`.
export { DiskSaver, type DiskSaverOptions } from './storage/disk-saver';
