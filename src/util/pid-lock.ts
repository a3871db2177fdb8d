import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';

/**
 * One process per resource through a file that holds the owning process's id: a node's home
 * (HOME/data/node.pid), a devnet's folder (supervisor.pid), a home's anchor service
 * (anchor-service.pid). A file left by a process that is gone is replaced.
 *
 * The claim is a hard link of a staged file that already holds this process's id, so the file appears
 * with its content: an exclusive create followed by a write left a moment in which another process
 * read an empty file, took it for stale, removed it and claimed the resource as well. A stale file is
 * moved aside before it is removed, and put back when what was moved is not what was seen (another
 * process replaced it meanwhile).
 */

/** Whether a process with this id exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The id a lock file names, or null (no file, or no valid id in it). */
export function readPidFile(path: string): number | null {
  const text = readLock(path);
  const pid = text === undefined ? NaN : Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export interface PidLockOptions {
  /** Whether the process a lock names still holds it (default: it exists). */
  holds?: (pid: number) => boolean;
  /** The error for a lock held by another process (its id), or one that could not be taken (null). */
  refused: (holder: number | null) => Error;
}

const ATTEMPTS = 5;

/**
 * Claims PATH for this process (its folder must exist) or throws `refused`. Returns the release,
 * which removes the file while it still names this process.
 */
export function claimPidLock(path: string, options: PidLockOptions): () => void {
  const holds = options.holds ?? processAlive;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (linkClaim(path)) return () => releasePidLock(path);
    const seen = readLock(path);
    if (seen === undefined) continue; // released meanwhile
    const pid = Number(seen.trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && holds(pid)) throw options.refused(pid);
    removeStaleLock(path, seen);
  }
  throw options.refused(null);
}

/** Removes PATH if it still names this process. */
export function releasePidLock(path: string): void {
  if (readPidFile(path) !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * Removes a stale lock whose text was SEEN: moved aside first (an atomic step); what was moved is
 * put back when it is not what was seen (another process claimed the resource meanwhile).
 */
export function removeStaleLock(path: string, seen: string): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return; // another process removed it first
  }
  try {
    if (readFileSync(aside, 'utf8') !== seen) linkSync(aside, path);
  } catch {
    // A third process claimed it between the move and the put-back: that claim stands, and the one
    // moved aside is lost (a dead holder and three claims within microseconds; nothing closer exists
    // on a file system without locks).
  } finally {
    unlinkSync(aside);
  }
}

/** Links PATH to a staged file holding this process's id; false when PATH exists. */
function linkClaim(path: string): boolean {
  const staged = `${path}.${process.pid}.tmp`;
  writeFileSync(staged, `${process.pid}\n`);
  try {
    linkSync(staged, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    unlinkSync(staged);
  }
}

function readLock(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
