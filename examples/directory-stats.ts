import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Activity, Orchestrator } from '../src/runtime/index.ts';

/** Folders that are never worth counting. */
const SKIPPED = new Set(['node_modules', '.git', '.data', '.tmp']);
/** At most this many measuring activities run for one directory. */
const MAX_PARALLEL_ACTIVITIES = 200;

export interface FileGroup {
  readonly root: string;
  readonly files: readonly string[];
}

export interface FileStats {
  readonly files: number;
  readonly lines: number;
  readonly bytes: number;
  readonly largest: { readonly path: string; readonly bytes: number } | null;
}

/** Activity: lists the regular files under a directory, relative to it, sorted. */
export const listFiles: Activity<string, string[]> = async (ctx, root) => {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (SKIPPED.has(entry.name)) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) found.push(relative(root, full));
    }
  };
  await walk(root);
  ctx.log.info({ root, files: found.length }, 'listed files');
  return found.sort();
};

/** Activity: counts lines and bytes of a group of files. */
export const measureFiles: Activity<FileGroup, FileStats> = async (_ctx, group) => {
  let lines = 0;
  let bytes = 0;
  let largest: FileStats['largest'] = null;
  for (const file of group.files) {
    const path = join(group.root, file);
    const size = (await stat(path)).size;
    const content = await readFile(path);
    let count = 0;
    for (const byte of content) if (byte === 0x0a) count++;
    if (content.length > 0 && content[content.length - 1] !== 0x0a) count++;
    lines += count;
    bytes += size;
    if (!largest || size > largest.bytes) largest = { path: file, bytes: size };
  }
  return { files: group.files.length, lines, bytes, largest };
};

/**
 * Fan-out / fan-in: lists the files of a directory, measures them in parallel
 * activities (one per file, or per group of files for large trees), and
 * combines the results.
 */
export const directoryStats: Orchestrator<string, FileStats> = function* (ctx, root) {
  const files: string[] = yield ctx.callActivity('ListFiles', root);
  const groupSize = Math.max(1, Math.ceil(files.length / MAX_PARALLEL_ACTIVITIES));
  const groups: FileGroup[] = [];
  for (let i = 0; i < files.length; i += groupSize) {
    groups.push({ root, files: files.slice(i, i + groupSize) });
  }
  ctx.setCustomStatus({ files: files.length, activities: groups.length });

  const parts: FileStats[] = yield ctx.whenAll(
    groups.map((group) => ctx.callActivity<FileStats>('MeasureFiles', group)),
  );
  return parts.reduce<FileStats>(
    (total, part) => ({
      files: total.files + part.files,
      lines: total.lines + part.lines,
      bytes: total.bytes + part.bytes,
      largest:
        !total.largest || (part.largest && part.largest.bytes > total.largest.bytes)
          ? part.largest
          : total.largest,
    }),
    { files: 0, lines: 0, bytes: 0, largest: null },
  );
};
