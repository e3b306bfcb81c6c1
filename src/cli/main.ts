#!/usr/bin/env -S node --import tsx
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isDurableTaskError } from '../core/errors.ts';
import { defaultLogger } from '../logging/logger.ts';
import { quietOnBrokenPipe } from './broken-pipe.ts';
import { COMMANDS, extraArguments, MACHINES } from './commands.ts';
import { runDemo } from './demo.ts';

const USAGE = `usage: durabletask-nats <command> [arguments] [options]

  demo [directory]            run the example orchestrations on an embedded nats-server
                              (or on $NATS_URL); the fan-out measures [directory]
                              (default: this repository)
  diagram <machine>           print a machine as a Mermaid state diagram, generated
                              from its definition: ${Object.keys(MACHINES).join(', ')}

  commands on a task hub (--server URL or NATS_URL, --hub NAME or DT_HUB); start creates
  the hub when it is absent, the others need an existing hub and leave the server as it is:
  start <name> [--id ID] [--input JSON]     create an instance, print its ids
  raise <id> <event> [--data JSON]          raise an external event
  terminate <id> [--reason R] [--recursive]
  suspend <id> [--reason R]   resume <id> [--reason R]
  status <id>                 the instance's status record
  wait <id> [--timeout MS]    wait until it finishes (exit 0 when Completed);
                              MS: whole milliseconds, default 60000
  history <id> [--execution E]  its history as a timeline with the machine's states
  explain <id>                why it is waiting: open activities, children, timers
  query [--status S,S] [--prefix P]         list instances
  purge <id> [--recursive]    remove a finished instance

  LOG_LEVEL=debug shows the library's structured logs on stderr.`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      server: { type: 'string' },
      hub: { type: 'string' },
      id: { type: 'string' },
      input: { type: 'string' },
      data: { type: 'string' },
      reason: { type: 'string' },
      execution: { type: 'string' },
      timeout: { type: 'string' },
      status: { type: 'string' },
      prefix: { type: 'string' },
      recursive: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  if (values.help || command === undefined) {
    out(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const extra = extraArguments(command, rest);
  if (extra !== undefined) {
    process.stderr.write(`usage error: ${extra}\n`);
    return 2;
  }
  const logger = defaultLogger(process.env['LOG_LEVEL'] ?? 'warn');
  if (command === 'demo') {
    const directory = rest[0] ?? resolve(import.meta.dirname, '../..');
    const natsUrl = process.env['NATS_URL'];
    return runDemo({ directory, logger, ...(natsUrl ? { natsUrl } : {}) });
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
    return 2;
  }
  return run({ positionals: rest, flags: values, logger, out });
}

quietOnBrokenPipe();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = isDurableTaskError(err) ? ` [${err.code}]` : '';
    process.stderr.write(`error${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
