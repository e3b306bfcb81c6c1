import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliOnPendingHub } from './cli-runner.ts';

describe('command line positional arguments', () => {
  const cli = cliOnPendingHub('cliargs');

  it('should name the machines when diagram is given none', async () => {
    const result = await cli('diagram');
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stderr, /undefined/);
    assert.match(result.stderr, /diagram needs the name of a machine: one of task-hub, /);
    assert.match(result.stderr, /\borchestration\b.*\bworker\b/);
  });

  it('should name the machines and the text typed for an unknown machine', async () => {
    const result = await cli('diagram', 'nope');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /No machine "nope": diagram takes one of task-hub, /);
  });

  it('should refuse extra positional arguments with a usage error, for every command', async () => {
    const commands: string[][] = [
      ['explain', 'pending-1', 'extra'],
      ['status', 'pending-1', 'extra'],
      ['history', 'pending-1', 'extra'],
      ['wait', 'pending-1', 'extra'],
      ['purge', 'pending-1', 'extra'],
      ['terminate', 'pending-1', 'extra'],
      ['suspend', 'pending-1', 'extra'],
      ['resume', 'pending-1', 'extra'],
      ['raise', 'pending-1', 'go', 'extra'],
      ['start', 'Never', 'extra'],
      ['query', 'extra'],
      ['diagram', 'worker', 'extra'],
      ['demo', '.', 'extra'],
    ];
    for (const args of commands) {
      const result = await cli(...args);
      const what = `${args.join(' ')}: ${result.stderr}`;
      assert.equal(result.code, 2, what);
      assert.equal(result.stdout, '', what);
      assert.match(result.stderr, /^usage error: \w+ takes .*unexpected: "extra"\n$/, what);
    }
    // Nothing was done: the pending instance is still there and still pending.
    const status = await cli('status', 'pending-1');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /status +Pending/);
  });

  it('should name the form the command takes', async () => {
    const result = await cli('explain', 'pending-1', 'extra', 'more');
    assert.equal(
      result.stderr,
      'usage error: explain takes at most 1 argument (explain <id>); ' +
        'unexpected: "extra" "more"\n',
    );
    const query = await cli('query', 'x');
    assert.match(query.stderr, /query takes no arguments \(query\)/);
  });

  it('should still accept the arguments each command takes', async () => {
    const explained = await cli('explain', 'pending-1');
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /status: Pending/);
    const diagram = await cli('diagram', 'work-item');
    assert.equal(diagram.code, 0, diagram.stderr);
    assert.match(diagram.stdout, /^stateDiagram-v2/);
  });
});
