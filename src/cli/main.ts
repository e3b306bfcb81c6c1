#!/usr/bin/env -S node --import tsx
import { resolve } from 'node:path';
import { defaultLogger } from '../logging/logger.ts';
import { runDemo } from './demo.ts';

const USAGE = `usage: durabletask-nats <command>

commands:
  demo [directory]   run the example orchestrations on an embedded nats-server
                     (or on $NATS_URL); the fan-out measures [directory]
                     (default: this repository)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo': {
      const directory = rest[0] ?? resolve(import.meta.dirname, '../..');
      const logger = defaultLogger(process.env['LOG_LEVEL'] ?? 'warn');
      const natsUrl = process.env['NATS_URL'];
      return runDemo({ directory, logger, ...(natsUrl ? { natsUrl } : {}) });
    }
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
