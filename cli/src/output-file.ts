// `export --output FILE`: written under a temporary name next to FILE and renamed into place only once the export
// completed, so FILE is either the whole export or, after a failure, exactly what it was before.
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

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

export class OutputFile {
  private constructor(
    readonly target: string,
    readonly temp: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the temporary file; fails with OutputFileError when the target's directory cannot take it. */
  static async create(target: string): Promise<OutputFile> {
    const path = resolve(target);
    const dir = dirname(path);
    const existing = await stat(path).catch(() => undefined);
    if (existing?.isDirectory()) throw new OutputFileError(`cannot write ${target}: it is a directory`);
    const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      return new OutputFile(target, temp, await open(temp, 'wx'));
    } catch (error) {
      throw new OutputFileError(`cannot write ${target}: ${reason(error, dir)}`, { cause: error });
    }
  }

  async write(chunk: string): Promise<void> {
    try {
      // appendFile writes the whole chunk (write() may write part of it).
      await this.handle.appendFile(chunk, 'utf8');
    } catch (error) {
      throw new OutputFileError(`cannot write ${this.target}: ${reason(error, dirname(this.temp))}`, {
        cause: error,
      });
    }
  }

  /** Flushes, closes and renames the temporary file onto the target (replacing it). */
  async commit(): Promise<void> {
    try {
      await this.handle.sync();
      await this.handle.close();
      await rename(this.temp, this.target);
    } catch (error) {
      await this.discard();
      throw new OutputFileError(`cannot write ${this.target}: ${reason(error, dirname(this.temp))}`, {
        cause: error,
      });
    }
  }

  /** Closes and removes the temporary file; the target is left as it was. Never throws. */
  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.temp, { force: true }).catch(() => undefined);
  }
}
