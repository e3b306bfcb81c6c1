/**
 * Reads a Go pprof CPU profile (gzipped protobuf, as nats-server's
 * `/debug/pprof/profile` returns it) and sums flat samples by function, so the
 * benchmark can show where the server spends its time without Go tooling.
 * Only the fields needed for that are decoded.
 */
import { gunzipSync } from 'node:zlib';

interface Field {
  readonly no: number;
  readonly wire: number;
  readonly int: number;
  readonly bytes: Uint8Array | undefined;
}

function* fields(buf: Uint8Array): Generator<Field> {
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    // Bounded: a varint has at most 10 bytes.
    for (let k = 0; k < 10; k++) {
      const b = buf[i++] as number;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new Error('bad varint in pprof data');
  };
  while (i < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield { no, wire, int: varint(), bytes: undefined };
    else if (wire === 2) {
      const len = varint();
      yield { no, wire, int: 0, bytes: buf.subarray(i, i + len) };
      i += len;
    } else if (wire === 1) {
      i += 8;
    } else if (wire === 5) {
      i += 4;
    } else {
      throw new Error(`unsupported wire type ${wire} in pprof data`);
    }
  }
}

/** Packed or repeated varints of one field. */
function ints(f: Field): number[] {
  if (f.wire === 0) return [f.int];
  const out: number[] = [];
  for (const g of fields(prefixPacked(f.bytes as Uint8Array))) out.push(g.int);
  return out;
}

/** Re-frames a packed varint run as field-1 varints so `fields` can read it. */
function prefixPacked(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  let start = true;
  for (const b of bytes) {
    if (start) out.push(8);
    out.push(b);
    start = (b & 0x80) === 0;
  }
  return Uint8Array.from(out);
}

/** CPU time by function: flat (leaf) and cumulative (anywhere on the stack). */
export interface GoProfile {
  readonly flat: ReadonlyMap<string, number>;
  readonly cumulative: ReadonlyMap<string, number>;
  readonly total: number;
}

export function readGoProfile(gz: Uint8Array): GoProfile {
  const buf = gunzipSync(gz);
  const strings: string[] = [];
  const functions = new Map<number, number>();
  const locations = new Map<number, number[]>();
  const samples: { locs: number[]; value: number }[] = [];
  const dec = new TextDecoder();
  for (const f of fields(buf)) {
    if (f.no === 6) strings.push(dec.decode(f.bytes));
    else if (f.no === 5) {
      let id = 0;
      let name = 0;
      for (const g of fields(f.bytes as Uint8Array)) {
        if (g.no === 1) id = g.int;
        else if (g.no === 2) name = g.int;
      }
      functions.set(id, name);
    } else if (f.no === 4) {
      let id = 0;
      const fns: number[] = [];
      for (const g of fields(f.bytes as Uint8Array)) {
        if (g.no === 1) id = g.int;
        else if (g.no === 4) {
          for (const h of fields(g.bytes as Uint8Array)) if (h.no === 1) fns.push(h.int);
        }
      }
      // The first line is the innermost function when calls were inlined.
      locations.set(id, fns);
    } else if (f.no === 2) {
      let locs: number[] = [];
      let values: number[] = [];
      for (const g of fields(f.bytes as Uint8Array)) {
        if (g.no === 1) locs = locs.concat(ints(g));
        else if (g.no === 2) values = values.concat(ints(g));
      }
      // Value 1 is CPU nanoseconds (value 0 the sample count); the first location is the leaf.
      samples.push({ locs, value: values[1] ?? values[0] ?? 0 });
    }
  }
  const flat = new Map<string, number>();
  const cumulative = new Map<string, number>();
  let total = 0;
  const nameOf = (fn: number): string => strings[functions.get(fn) ?? 0] ?? '?';
  for (const sample of samples) {
    const leaf = locations.get(sample.locs[0] ?? 0)?.[0];
    const leafName = leaf === undefined ? '?' : nameOf(leaf);
    flat.set(leafName, (flat.get(leafName) ?? 0) + sample.value);
    const seen = new Set<string>();
    for (const loc of sample.locs) {
      for (const fn of locations.get(loc) ?? []) seen.add(nameOf(fn));
    }
    for (const name of seen) cumulative.set(name, (cumulative.get(name) ?? 0) + sample.value);
    total += sample.value;
  }
  return { flat, cumulative, total };
}

function ranked(m: ReadonlyMap<string, number>, total: number, top: number,
  keep: (name: string) => boolean = () => true): { name: string; pct: number }[] {
  return [...m].filter(([name]) => keep(name)).sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, v]) => ({ name, pct: Math.round((1000 * v) / Math.max(1, total)) / 10 }));
}

/** Groups a Go function name by receiver type or package: `server.(*stream)`, `runtime`. */
export function areaOfGo(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const m = /^([^.]+)\.(\(\*?[^)]+\))?/.exec(base);
  if (!m) return base;
  return m[2] ? `${m[1]}.${m[2]}` : (m[1] as string);
}

/** A readable summary: flat share by area, then the server's own functions by inclusive time. */
export function summariseGoProfile(p: GoProfile, top: number): string {
  const areas = new Map<string, number>();
  for (const [name, v] of p.flat) areas.set(areaOfGo(name), (areas.get(areaOfGo(name)) ?? 0) + v);
  const line = (r: { name: string; pct: number }): string =>
    `  ${r.pct.toFixed(1).padStart(5)}%  ${r.name.replace(/^.*nats-server\/(v2\/)?/, '')}`;
  return [
    `${(p.total / 1e9).toFixed(2)} CPU seconds sampled`,
    'by area (flat):',
    ...ranked(areas, p.total, 15).map(line),
    'server functions by inclusive time:',
    ...ranked(p.cumulative, p.total, top, (n) => n.includes('nats-server')).map(line),
    'top functions (flat):',
    ...ranked(p.flat, p.total, 15).map(line),
  ].join('\n');
}
