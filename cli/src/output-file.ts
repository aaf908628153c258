// `export --output FILE`: written under a temporary name next to FILE and renamed into place only once the export
// completed, so FILE is either the whole export or, after a failure, exactly what it was before.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { type FileHandle, lstat, open, readlink, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { InterruptedError } from './command.js';

/** The output file cannot be created or written (the message names the file and why). */
export class OutputFileError extends Error {
  override name = 'OutputFileError';
}

function reason(error: unknown, dir: string): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return `directory ${dir} does not exist`;
  if (code === 'ENOTDIR') return `${dir} is not a directory`;
  if (code === 'EACCES' || code === 'EPERM') return `no permission to write in ${dir}`;
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EFBIG') return 'file too large (file size limit reached)';
  return (error as Error).message ?? String(error);
}

// SIGHUP: a closed terminal or SSH session; SIGQUIT: Ctrl-\\. Each would otherwise end the process with the
// temporary file left behind.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * The file a rename onto `target` should replace: the target with its symlinks resolved, also when the last link
 * points to a file that does not exist yet (it is created there; the link stays a link).
 */
async function destinationOf(target: string): Promise<string> {
  let path = resolve(target);
  for (let hops = 0; hops < 40; hops++) {
    const real = await realpath(path).catch(() => undefined);
    if (real !== undefined) return real;
    const link = await lstat(path).catch(() => undefined);
    if (!link?.isSymbolicLink()) return path;
    // Relative to the directory the link is really in (a link inside a symlinked directory).
    const dir = await realpath(dirname(path)).catch(() => dirname(path));
    path = resolve(dir, await readlink(path));
  }
  throw new OutputFileError(`cannot write ${target}: too many levels of symbolic links`);
}

/**
 * The rule of Linux's fs.protected_symlinks, applied here because the rename below replaces the symlink's target
 * itself (the kernel only checks following a link on open): a symlink in a sticky, world-writable directory (/tmp)
 * is followed only when it belongs to this user or to the directory's owner. Otherwise another user could plant
 * `audit.csv -> ~/.bashrc` and have an export overwrite it.
 */
async function refuseForeignSymlink(target: string): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  // Every component, as the kernel checks each link it follows: `/tmp/reports -> ~victim` counts as much as
  // `/tmp/audit.csv -> ~/.bashrc`. Links are checked where they are found, after resolving the ones above.
  let path = resolve(target);
  for (let hops = 0; hops < 40; hops++) {
    const parts = path.split(sep);
    let here = parts[0] === '' ? sep : (parts[0] as string);
    let resolved = true;
    for (let i = 1; i < parts.length; i++) {
      const part = parts[i] as string;
      if (part === '') continue;
      const next = join(here, part);
      const link = await lstat(next).catch(() => undefined);
      if (!link?.isSymbolicLink()) {
        here = next;
        continue;
      }
      if (link.uid !== uid) {
        const dir = await stat(here).catch(() => undefined);
        const stickyWorldWritable = dir !== undefined && (dir.mode & 0o1002) === 0o1002;
        if (stickyWorldWritable && dir.uid !== link.uid)
          throw new OutputFileError(
            `cannot write ${target}: ${next} is a symlink owned by another user (uid ${link.uid}) in the shared ` +
              `directory ${here}; not following it (give the real path if you mean it)`,
          );
      }
      // Follow this link and check the rest of the path from where it leads.
      const rest = parts.slice(i + 1);
      path = resolve(here, await readlink(next), ...rest);
      resolved = false;
      break;
    }
    if (resolved) return;
  }
}

/**
 * The temporary file until commit() renames it onto the target or discard() removes it. Meanwhile SIGINT and
 * SIGTERM do not kill the process (that would leave the temporary file behind): the next write() or commit()
 * fails with InterruptedError, so the command unwinds, closes its store and discards the file. A second signal
 * removes the file and ends the process at once.
 */
export class OutputFile {
  private signal: NodeJS.Signals | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.signal === undefined) {
      this.signal = signal;
      return;
    }
    this.stopListening();
    rmSync(this.temp, { force: true });
    process.kill(process.pid, signal); // no listener left: the default action ends the process
  };
  private handle: FileHandle | undefined;
  private mode = 0o600;

  private constructor(
    readonly target: string,
    readonly temp: string,
    /** The file the rename replaces: the target with symlinks resolved, so a symlink stays a symlink. */
    private readonly destination: string,
  ) {}

  /** Creates the temporary file; fails with OutputFileError when the target's directory cannot take it. */
  static async create(target: string): Promise<OutputFile> {
    await refuseForeignSymlink(target);
    const path = await destinationOf(target);
    const dir = dirname(path);
    const existing = await stat(path).catch(() => undefined);
    if (existing?.isDirectory()) throw new OutputFileError(`cannot write ${target}: it is a directory`);
    // A rename would replace a device, pipe or socket (/dev/stdout's terminal) with a plain file.
    if (existing !== undefined && !existing.isFile())
      throw new OutputFileError(
        `cannot write ${target}: it is not a regular file (to write to a pipe or the terminal, leave out --output)`,
      );
    const file = new OutputFile(
      target,
      join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`),
      path,
    );
    // Listening before the file exists: a signal never finds a temporary file nobody will remove.
    for (const s of SIGNALS) process.on(s, file.onSignal);
    try {
      // Created 0600; an existing file's mode is kept (exports often hold personal data), a new one gets the
      // usual mode (0666 minus the umask) only at commit, when it is complete.
      file.handle = await open(file.temp, 'wx', 0o600);
      file.mode = existing ? existing.mode & 0o7777 : 0o666 & ~process.umask();
      return file;
    } catch (error) {
      file.stopListening();
      throw new OutputFileError(`cannot write ${target}: ${reason(error, dir)}`, { cause: error });
    }
  }

  private stopListening(): void {
    for (const s of SIGNALS) process.off(s, this.onSignal);
  }

  private opened(): FileHandle {
    if (this.handle === undefined) throw new Error('OutputFile used before create() finished');
    return this.handle;
  }

  private checkSignal(): void {
    if (this.signal !== undefined)
      throw new InterruptedError(
        this.signal,
        `interrupted (${this.signal}): ${this.target} was left as it was`,
      );
  }

  async write(chunk: string): Promise<void> {
    this.checkSignal();
    try {
      // appendFile writes the whole chunk (write() may write part of it).
      await this.opened().appendFile(chunk, 'utf8');
    } catch (error) {
      throw new OutputFileError(`cannot write ${this.target}: ${reason(error, dirname(this.temp))}`, {
        cause: error,
      });
    }
  }

  /** Flushes, closes and renames the temporary file onto the target (replacing it). */
  async commit(): Promise<void> {
    this.checkSignal();
    try {
      await this.opened().chmod(this.mode);
      await this.opened().sync();
      await this.opened().close();
      await rename(this.temp, this.destination);
      this.stopListening();
    } catch (error) {
      await this.discard();
      throw new OutputFileError(`cannot write ${this.target}: ${reason(error, dirname(this.temp))}`, {
        cause: error,
      });
    }
  }

  /** Closes and removes the temporary file; the target is left as it was. Never throws. */
  async discard(): Promise<void> {
    this.stopListening();
    await this.handle?.close().catch(() => undefined);
    await rm(this.temp, { force: true }).catch(() => undefined);
  }
}
