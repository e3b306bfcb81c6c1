import { existsSync } from 'node:fs';

/**
 * Finds a product module that may not have landed yet. Returns the export
 * named `exportName` from the first candidate file that exists, or a reason
 * string when none exists. A file that exists but fails to import is a real
 * failure and is rethrown: only absence counts as "not built yet".
 */
export async function probeExport<T>(
  candidates: readonly string[],
  exportName: string,
): Promise<{ value: T } | { missing: string }> {
  for (const rel of candidates) {
    const url = new URL(rel, import.meta.url);
    if (!existsSync(url)) continue;
    const mod = (await import(url.href)) as Record<string, unknown>;
    const value = mod[exportName];
    if (value !== undefined) return { value: value as T };
  }
  const dirs = [
    ...new Set(candidates.map((c) => c.replace(/^(\.\.\/)+/, '').replace(/\/[^/]*$/, ''))),
  ];
  return { missing: `no ${exportName} in ${dirs.join(', ')}` };
}
