// A one-line progress bar on a terminal, a line per 10 % elsewhere (CI logs, pipes). Ten lines of code:
// not worth a dependency.

export interface ProgressBar {
  update(done: number, total: number): void;
  done(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const width = 30;
  let lastDecile = -1;
  return {
    update(done, total) {
      const ratio = total === 0 ? 1 : done / total;
      if (stream.isTTY) {
        const filled = Math.round(ratio * width);
        stream.write(
          `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} (${Math.floor(ratio * 100)}%)`,
        );
        return;
      }
      const decile = Math.floor(ratio * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        stream.write(`${label} ${done}/${total} (${decile * 10}%)\n`);
      }
    },
    done() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}
