import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * CPU profiling of this process around one measured run (the V8 sampling
 * profiler through the inspector), so start-up and warm-up stay out of it.
 * Writes `<dir>/<name>.cpuprofile`, loadable in Chrome DevTools.
 */
export class RunProfiler {
  private session: Session | undefined;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  async start(): Promise<void> {
    const s = new Session();
    s.connect();
    await s.post('Profiler.enable');
    await s.post('Profiler.setSamplingInterval', { interval: 250 });
    await s.post('Profiler.start');
    this.session = s;
  }

  /** Stops and writes the profile; returns its path and the parsed profile. */
  async stop(name: string): Promise<{ path: string; profile: unknown }> {
    const s = this.session;
    if (!s) throw new Error('The profiler was not started.');
    this.session = undefined;
    const { profile } = await s.post('Profiler.stop');
    await s.post('Profiler.disable');
    s.disconnect();
    const path = join(this.dir, `${name}.cpuprofile`);
    writeFileSync(path, JSON.stringify(profile));
    return { path, profile };
  }
}
