import type { EventBus } from '../runner/events.js';
import { writeAtomic } from '../runner/files.js';
import { jsonReporter } from '../runner/reporters/json.js';
import { junitReporter } from '../runner/reporters/junit.js';
import { plainReporter } from '../runner/reporters/plain.js';
import type { Io } from './common.js';

/**
 * The text reporters of `book run` and `book replay`: plain, json, and JUnit (on stdout with
 * `--reporter junit`, or into `junitFile`). `finish` writes the JUnit XML once the run is over.
 */
export function attachReporters(
  bus: EventBus,
  options: { reporter: string; io: Io; junitFile?: string; color: boolean; tree?: boolean },
): { finish(): Promise<void> } {
  const { reporter, io, junitFile } = options;
  if (reporter === 'plain') bus.on(plainReporter({ write: io.out, github: Boolean(process.env.GITHUB_ACTIONS), color: options.color, tree: options.tree }));
  if (reporter === 'json') bus.on(jsonReporter(io.out));
  const junit = reporter === 'junit' || junitFile ? junitReporter() : undefined;
  if (junit) bus.on(junit.listener);
  return {
    async finish() {
      if (!junit) return;
      if (junitFile) await writeAtomic(junitFile, junit.xml(), 0o644);
      else io.out(junit.xml());
    },
  };
}
