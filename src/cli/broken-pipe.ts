/**
 * A reader that goes away early (`durabletask-nats query | head -1`) breaks the
 * pipe under stdout or stderr. Node reports that as an 'error' event on the
 * stream, which, unhandled, ends the process with a stack trace.
 *
 * Once the reader of stdout has left, nothing the command still prints can reach
 * anyone: exit 0 at once (the work the output reports on is already done).
 * Once stderr is gone, the command finishes with the exit code it would have
 * had; only its messages are lost. Any other stream error keeps Node's default.
 */
export function quietOnBrokenPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}
