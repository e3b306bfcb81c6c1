import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { silentLogger } from '../../src/logging/logger.ts';
import { runDemo } from '../../src/cli/demo.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats-server.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

describe('examples', () => {
  let server: TestNatsServer;
  let dir: string;

  before(async () => {
    server = await startTestNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'dt-demo-input-'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'a.txt'), 'one\ntwo\n');
    await writeFile(join(dir, 'sub', 'b.txt'), 'three');
  });

  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('should run the README quick start program to a Completed instance', async () => {
    const { stdout } = await run('node', ['--import', 'tsx', 'examples/quickstart.ts'], {
      cwd: ROOT,
      timeout: 60_000,
    });
    assert.equal(stdout.trim(), 'Completed "Hello Tokyo! Hello Seattle! Hello London!"');
  });

  it('should end the demo with every instance as expected and exit code 0', async () => {
    const lines: string[] = [];
    const code = await runDemo({
      directory: dir,
      natsUrl: server.url,
      logger: silentLogger(),
      out: (line) => lines.push(line),
    });
    assert.equal(code, 0, lines.join('\n'));
    assert.ok(lines.some((l) => /"files":2,"lines":3,"bytes":13/.test(l)), lines.join('\n'));
    assert.equal(lines.filter((l) => l.startsWith('done ')).length, 5, lines.join('\n'));
  });
});
