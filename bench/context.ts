import type { BenchArgs } from './args.ts';

/** What every section of a benchmark run shares. */
export interface BenchContext {
  readonly args: BenchArgs;
  /** Writes one JSON result line on stdout (and keeps it for the closing table). */
  emit(line: Record<string, unknown>): void;
  /** Progress and tables on stderr. */
  note(text: string): void;
  /** False once the run's time budget is used up; later measurements are skipped or cut. */
  withinBudget(): boolean;
  /** Milliseconds left of the time budget. */
  budgetLeftMs(): number;
  /** Where `--profile` writes its files, when asked for. */
  readonly profileDir: string | undefined;
}

/** The experiment overrides of a run, as `openHub` takes them. */
export function overrides(ctx: BenchContext): {
  backendOptions: Readonly<Record<string, unknown>>;
  workerOptions: Readonly<Record<string, unknown>>;
} {
  return { backendOptions: ctx.args.backendOptions, workerOptions: ctx.args.workerOptions };
}
