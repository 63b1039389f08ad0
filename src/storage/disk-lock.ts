// Node only: the lock file that keeps two processes from writing checkpoints into one directory (used by DiskSaver).
//
// The lock is per process and per directory: every DiskSaver of one process shares it (Ignite users often give two
// Checkpoints two savers on one directory), and it is released when the last of them lets go, or when the process
// exits. The file holds who took it (pid, host, time, a random token). A lock whose process is gone (same host, pid
// not running) is taken over with a warning; one from another host is never guessed stale.
import { randomBytes } from 'node:crypto';
import { linkSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from './errors';

/** The lock file's name inside a checkpoint directory. */
export const LOCK_NAME = '.kindling.lock';
/** Every temporary file DiskSaver makes: `.kindling-` + 12 hex digits + `.tmp`, short whatever the checkpoint's name. */
const TEMP_PATTERN = /^\.kindling-[0-9a-f]{12}\.tmp$/;

/** A fresh temporary file name (26 characters). */
export const tempName = (): string => `.kindling-${randomBytes(6).toString('hex')}.tmp`;

/** True for the names of DiskSaver's temporary files. */
export const isTempName = (name: string): boolean => TEMP_PATTERN.test(name);

/** What a lock file says. */
interface LockInfo {
  pid: number;
  host: string;
  /** ISO time at which the lock was taken. */
  startedAt: string;
  token: string;
}

/** Locks this process holds: real path of the directory → its token and the savers sharing it. */
const held = new Map<string, { token: string; lockPath: string; holders: Set<object> }>();
let exitHookInstalled = false;

const errorCode = (error: unknown): string | undefined => (error as { code?: string } | null)?.code;

/** The key of a directory in {@link held}: its real path, so that two spellings of one directory share a lock. */
function keyOf(dirname: string): string {
  try {
    return realpathSync(dirname);
  } catch {
    return dirname;
  }
}

function readLock(path: string): LockInfo | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'missing';
    return 'unreadable';
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (
      Number.isSafeInteger(info.pid) &&
      info.pid > 0 &&
      typeof info.host === 'string' &&
      typeof info.startedAt === 'string' &&
      typeof info.token === 'string'
    ) {
      return info;
    }
  } catch {
    // reported below
  }
  return 'unreadable';
}

/** Whether process `pid` of this host is running (a zombie is not). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return errorCode(error) === 'EPERM'; // it exists, under another user
  }
  try {
    // Linux: a killed child its parent has not reaped yet still answers kill(pid, 0); its state is Z.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

const ownedByThisProcess = (info: LockInfo): boolean =>
  info.pid === process.pid && [...held.values()].some((entry) => entry.token === info.token);

/** A lock left by a process of this host that is gone (or by an earlier process with this very pid). */
const isStale = (info: LockInfo): boolean =>
  info.host === hostname() && (info.pid === process.pid ? !ownedByThisProcess(info) : !isRunning(info.pid));

const describeHolder = (info: LockInfo): string =>
  `process ${info.pid} on host '${info.host}' (since ${info.startedAt})`;

function lockedError(dirname: string, lockPath: string, info: LockInfo | 'unreadable'): CheckpointError {
  if (info === 'unreadable') {
    return new CheckpointError(
      `DiskSaver: the lock file '${lockPath}' of checkpoint directory '${dirname}' cannot be read, so kindling cannot tell whether another process writes checkpoints there. If no other process trains into this directory, delete '${lockPath}' and start again.`,
      { code: 'LOCKED' },
    );
  }
  const elsewhere =
    info.host === hostname()
      ? `If that process is not a training run (its pid was reused), delete '${lockPath}'.`
      : `kindling cannot check processes of another host: if that process is no longer running, delete '${lockPath}'.`;
  return new CheckpointError(
    `DiskSaver: the checkpoint directory '${dirname}' is in use by ${describeHolder(info)}, which holds its lock file '${lockPath}'. Only one process may write checkpoints into a directory: stop the other process, or give this run its own directory, e.g. new DiskSaver('${dirname}-2'). ${elsewhere}`,
    { code: 'LOCKED' },
  );
}

/** Creates the lock file with its whole content at once (hard link of a finished temporary file); false if it exists. */
function tryCreate(dirname: string, lockPath: string, info: LockInfo): boolean {
  const text = `${JSON.stringify(info)}\n`;
  const temp = join(dirname, tempName());
  writeFileSync(temp, text, { flag: 'wx' });
  try {
    linkSync(temp, lockPath);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(errorCode(error) ?? '')) throw error;
    // A file system without hard links (FAT, some network shares): exclusive create, then write.
    try {
      writeFileSync(lockPath, text, { flag: 'wx' });
      return true;
    } catch (fallbackError) {
      if (errorCode(fallbackError) === 'EEXIST') return false;
      throw fallbackError;
    }
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Deletes DiskSaver's temporary files in `dirname`; only called while holding its lock. Returns their names. */
function removeTempFiles(dirname: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dirname)) {
    if (!isTempName(name)) continue;
    rmSync(join(dirname, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const entry of held.values()) {
      const info = readLock(entry.lockPath);
      if (typeof info === 'object' && info.token === entry.token) rmSync(entry.lockPath, { force: true });
    }
    held.clear();
  });
}

/**
 * Takes the lock of `dirname` for `holder` (a DiskSaver), sharing it with other holders of this process. When this
 * process did not hold it yet, takes over a stale lock and (unless `removeLeftovers` is false) deletes temporary
 * files left by interrupted saves.
 * Throws a CheckpointError (`LOCKED`) when another running process holds it.
 */
export function acquireDirectoryLock(
  dirname: string,
  holder: object,
  warn: (message: string) => void,
  removeLeftovers = true,
): void {
  const key = keyOf(dirname);
  const entry = held.get(key);
  if (entry !== undefined) {
    entry.holders.add(holder);
    return;
  }
  const lockPath = join(dirname, LOCK_NAME);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(dirname, lockPath, info)) {
      held.set(key, { token: info.token, lockPath, holders: new Set([holder]) });
      installExitHook();
      const removed = removeLeftovers ? removeTempFiles(dirname) : [];
      if (removed.length > 0) {
        warn(
          `DiskSaver: removed ${removed.length} temporary file${removed.length === 1 ? '' : 's'} left in '${dirname}' by an interrupted save (${removed.join(', ')}); the checkpoints saved before it are intact.`,
        );
      }
      return;
    }
    const current = readLock(lockPath);
    if (current === 'missing') continue; // released meanwhile: try again
    if (current === 'unreadable' || !isStale(current)) throw lockedError(dirname, lockPath, current);
    // Take the stale lock over. Move it aside first, then check that what was moved is the stale lock and not a
    // fresh one another process took meanwhile (two processes may find the same stale lock at once).
    const aside = join(dirname, tempName());
    try {
      renameSync(lockPath, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue;
      throw error;
    }
    const moved = readLock(aside);
    if (typeof moved === 'object' && moved.token === current.token) {
      rmSync(aside, { force: true });
      warn(
        `DiskSaver: took over the lock of checkpoint directory '${dirname}' left by ${describeHolder(current)}, which is no longer running.`,
      );
      continue;
    }
    try {
      linkSync(aside, lockPath); // put the other process's lock back
    } catch {
      // a third process holds it now; that one keeps it
    }
    rmSync(aside, { force: true });
    throw lockedError(dirname, lockPath, moved === 'missing' ? 'unreadable' : moved);
  }
  throw new CheckpointError(
    `DiskSaver: could not take the lock of checkpoint directory '${dirname}' after 5 attempts: other processes keep taking and releasing it. Give each process its own directory.`,
    { code: 'LOCKED' },
  );
}

/** Lets `holder` go; the lock file is deleted when the last holder of this process lets go. */
export function releaseDirectoryLock(dirname: string, holder: object): void {
  const key = keyOf(dirname);
  const entry = held.get(key);
  if (entry === undefined || !entry.holders.delete(holder) || entry.holders.size > 0) return;
  held.delete(key);
  const info = readLock(entry.lockPath);
  if (typeof info === 'object' && info.token === entry.token) rmSync(entry.lockPath, { force: true });
}

/** Whether `holder` holds the lock of `dirname`. */
export function holdsDirectoryLock(dirname: string, holder: object): boolean {
  return held.get(keyOf(dirname))?.holders.has(holder) ?? false;
}

/**
 * Checks, before a write, that this process still holds the lock of `dirname`. A deleted lock file is taken again
 * (with a warning); a lock now held by another process is a CheckpointError (`LOCKED`) and the write must not happen.
 */
export function checkDirectoryLock(
  dirname: string,
  holder: object,
  where: string,
  warn: (message: string) => void,
): void {
  const key = keyOf(dirname);
  const entry = held.get(key);
  if (entry === undefined || !entry.holders.has(holder)) {
    acquireDirectoryLock(dirname, holder, warn);
    return;
  }
  const info = readLock(entry.lockPath);
  if (typeof info === 'object' && info.token === entry.token) return;
  const holders = [...entry.holders];
  held.delete(key);
  if (info === 'missing') {
    warn(`${where}: the lock file '${entry.lockPath}' was deleted while this process held it; took the lock again.`);
    acquireDirectoryLock(dirname, holder, warn, false); // this process's saves may be in flight: keep their files
    for (const other of holders) held.get(key)?.holders.add(other);
    return;
  }
  throw new CheckpointError(
    `${where}: this process no longer holds the lock of checkpoint directory '${dirname}': its lock file '${entry.lockPath}' now belongs to ${info === 'unreadable' ? 'someone else (it cannot be read)' : describeHolder(info)}. Nothing was written, so that two runs do not mix their checkpoints. Stop the other process, or give each run its own directory.`,
    { code: 'LOCKED' },
  );
}
