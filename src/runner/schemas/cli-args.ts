import { z } from 'zod';
import { echoed } from '../echo.js';
import { plainMessage } from './problem.js';

// What each command takes on its command line, said once (zod): an option another command takes
// is refused by name instead of being ignored, and a bad value names the option.

const REPORTERS = ['tui', 'plain', 'json', 'junit'] as const;
const path = z.string().min(1, 'needs a path');
/** `3`, `03` or `03-api-server`; whether the book has it is checked against the book. */
const chapter = z.string().regex(/^\d+(-[a-z0-9][a-z0-9-]*)?$/, 'takes a chapter number or name, e.g. 3 or 03-api-server');
const flag = z.boolean().optional();
const common = { book: path.optional(), help: flag };

export const COMMAND_OPTIONS = {
  list: z.strictObject({ ...common, json: flag }),
  run: z.strictObject({
    ...common,
    target: z.string().min(1).optional(),
    from: chapter.optional(),
    to: chapter.optional(),
    only: chapter.optional(),
    step: flag,
    reporter: z.enum(REPORTERS, { error: `takes ${REPORTERS.join(', ')}` }).optional(),
    junit: path.optional(),
    ci: flag,
    force: flag,
    record: flag,
    transcript: path.optional(),
    'no-tree': flag,
  }),
  render: z.strictObject({ ...common, out: path.optional(), transcript: path.optional(), force: flag }),
  replay: z.strictObject({
    ...common,
    transcript: path.optional(),
    to: chapter.optional(),
    reporter: z.enum(['plain', 'json', 'junit'], { error: 'takes plain, json or junit (a replay has no terminal UI)' }).optional(),
    junit: path.optional(),
    ci: flag,
    'no-tree': flag,
  }),
  checkpoints: z.strictObject({ ...common, target: z.string().min(1).optional(), json: flag }),
  conformance: z.strictObject({
    ...common,
    target: z.string().min(1).optional(),
    all: flag,
    focus: z.string().min(1, 'needs a regular expression').optional(),
    out: path.optional(),
  }),
  machine: z.strictObject({ ...common, target: z.string().min(1).optional(), node: z.string().min(1).optional() }),
} as const;

export type CommandName = keyof typeof COMMAND_OPTIONS;

/** The command's options, or what is wrong with them in one line (for ARGUMENTS_INVALID). */
export function checkOptions(command: CommandName, values: Record<string, unknown>): string | undefined {
  const schema = COMMAND_OPTIONS[command];
  const result = schema.safeParse(values, { error: plainMessage });
  if (result.success) return undefined;
  const takes = Object.keys(schema.shape)
    .filter((k) => k !== 'help')
    .map((k) => `--${k}`)
    .join(', ');
  return result.error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') return `book ${command} does not take ${issue.keys.map((k) => `--${k}`).join(', ')} (it takes ${takes})`;
      const option = `--${String(issue.path[0])}`;
      return `${option} ${issue.message}${typeof values[String(issue.path[0])] === 'string' ? ` (got ${echoed(values[String(issue.path[0])])})` : ''}`;
    })
    .join('; ');
}
