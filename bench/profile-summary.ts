/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by
 * function, and by area (our src/ folders, nats client packages, node
 * internals, GC, idle). Usage:
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [topN]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** Where a frame's code lives: `src/nats`, `@nats-io/jetstream`, `node:internal`, ... */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return '(gc)';
  if (functionName === '(program)') return '(program)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const ours = /\/work\/main\/((?:src|actors|bench|examples)(?:\/[^/]+)?)\//.exec(url);
  if (ours) return ours[1] as string;
  const oursFile = /\/work\/main\/((?:src|actors|bench|examples))\//.exec(url);
  if (oursFile) return oursFile[1] as string;
  if (url.startsWith('node:')) return 'node:internal';
  if (url === '') return '(native)';
  return url;
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\/\/work\/main\//, '').replace(/^.*node_modules\//, '');
}

export function summarise(profile: CpuProfile, top: number): string {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalUs = profile.endTime - profile.startTime;
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = (byId.get(id) as ProfileNode).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const area = areaOf(f);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const file = shortUrl(f.url) || area;
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const idle = byArea.get('(idle)') ?? 0;
  const busy = totalUs - idle;
  const pct = (us: number): string => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const lines: string[] = [];
  lines.push(`profile ${(totalUs / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s ` +
    `(${((busy / totalUs) * 100).toFixed(0)}%); shares below are of busy time`);
  lines.push('', 'by area (self time):');
  for (const [k, v] of [...byArea].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1])
    .slice(0, 25)) {
    lines.push(`  ${pct(v)}  ${k}`);
  }
  lines.push('', 'top files (self time):');
  for (const [k, v] of [...byFile].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1])
    .slice(0, 20)) {
    lines.push(`  ${pct(v)}  ${k}`);
  }
  lines.push('', `top ${top} functions (self time):`);
  for (const [k, v] of [...byFn].filter(([k]) => !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${pct(v)}  ${k}`);
  }
  return lines.join('\n');
}

const file = process.argv[2];
// Run as a script (in a bundled bench every module shares the bundle's URL: not then).
if (file && import.meta.url === `file://${process.argv[1]}` && !process.env['DT_BENCH_BUNDLED']) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${summarise(profile, Number(process.argv[3] ?? 40))}\n`);
}
