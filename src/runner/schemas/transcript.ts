import { z } from 'zod';
import type { DiagnosticSection } from '../diagnostics.js';
import { ERROR_CODES } from '../errors.js';
import type { BlockFailure } from '../events.js';
import type { RecordedExec } from '../record/calls.js';
import { TRANSCRIPT_FORMAT, TRANSCRIPT_FORMAT_V1, TRANSCRIPT_FORMAT_V2 } from '../record/formats.js';
import type { RecordedBlock, RecordedCall, RecordedChapter, RecordedCommand, Transcript } from '../record/transcript.js';
import { plainMessage } from './problem.js';
import type { ShapeOf } from './shape.js';
import { snapshotSchema, stateDiffSchema } from './snapshot.js';

// The whole of a transcript as the replay, the reporters and the site read it (zod), each part
// checked against its type in record/transcript.ts (ShapeOf): a file that parses is safe to read
// everywhere. Loose objects: a later runner may add fields; the ones read must be there, with
// their type. A call's arguments and results stay `unknown`: they are the book's own data.

/** An exec's recorded answer as the replay hands it back (record/calls.ts replayExec: a field missing is empty). */
const execResult = z.looseObject({
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  exitCode: z.number().nullable().optional(),
  signal: z.string().nullable().optional(),
  durationMs: z.number().optional(),
  aborted: z.boolean().optional(),
} satisfies ShapeOf<Partial<RecordedExec>>);

/** What a machine's call answered, by its operation (`exec`, `nodes.NAME.readFile`…); a write answers nothing read. */
const targetResults: Record<string, z.ZodType> = { exec: execResult, readFile: z.string() };

const callError = z.looseObject({
  name: z.string(),
  message: z.string(),
  code: z.union([z.string(), z.number()]).optional(),
  body: z.unknown().optional(),
} satisfies ShapeOf<NonNullable<RecordedCall['error']>>);

const call = z
  .looseObject({
    kind: z.enum(['target', 'docker', 'k8s']),
    path: z.string(),
    key: z.string().optional(),
    args: z.array(z.unknown()),
    result: z.unknown().optional(),
    error: callError.optional(),
    durationMs: z.number(),
    repeat: z.number().int().min(2).optional(),
  } satisfies ShapeOf<RecordedCall>)
  .superRefine((c, ctx) => {
    // A machine's answer is read by the runner itself, not only by the book: its shape is checked too.
    const schema = c.kind === 'target' && c.result != null ? targetResults[c.path.slice(c.path.lastIndexOf('.') + 1)] : undefined;
    const checked = schema?.safeParse(c.result, { error: plainMessage });
    for (const issue of checked?.error?.issues ?? []) ctx.addIssue({ code: 'custom', message: issue.message, path: ['result', ...issue.path] });
  });

const command = z.looseObject({
  command: z.string(),
  exitCode: z.number().nullable(),
  durationMs: z.number(),
  stdout: z.string(),
  stderr: z.string(),
  node: z.string().optional(),
} satisfies ShapeOf<RecordedCommand>);

const failure = z.looseObject({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  file: z.string(),
  line: z.number(),
  exitCode: z.number().nullable().optional(),
  stderrTail: z.string().optional(),
  expectation: z.string().optional(),
} satisfies ShapeOf<BlockFailure>);

const diagnostic = z.looseObject({ title: z.string(), lines: z.array(z.string()), quiet: z.boolean().optional() } satisfies ShapeOf<DiagnosticSection>);

const status = z.enum(['passed', 'failed', 'skipped']);

/** One entry of a block's list field. */
type Item<K extends 'output' | 'waits' | 'daemons'> = RecordedBlock[K][number];

const block = z.looseObject({
  id: z.string().min(1),
  kind: z.enum(['ts', 'sh', 'file', 'prose', 'predict']),
  line: z.number().int().min(1),
  hash: z.string().min(1),
  status,
  durationMs: z.number(),
  attempts: z.number().int().min(0),
  failure: failure.optional(),
  expectedFailure: z.string().optional(),
  answer: z.string().optional(),
  diagnostics: z.array(diagnostic).optional(),
  commands: z.array(command),
  output: z.array(z.looseObject({ stream: z.enum(['stdout', 'stderr', 'log']), text: z.string() } satisfies ShapeOf<Item<'output'>>)),
  waits: z.array(z.looseObject({ message: z.string().optional(), polls: z.number() } satisfies ShapeOf<Item<'waits'>>)),
  daemons: z.array(z.looseObject({ name: z.string(), action: z.string(), node: z.string().optional() } satisfies ShapeOf<Item<'daemons'>>)),
  calls: z.array(call),
  state: z.looseObject({ snapshot: snapshotSchema, diff: stateDiffSchema }).optional(),
} satisfies ShapeOf<RecordedBlock>);

const chapter = z.looseObject({
  id: z.string().min(1),
  number: z.number(),
  title: z.string(),
  file: z.string(),
  hash: z.string(),
  status: status.optional(),
  durationMs: z.number().optional(),
  blocks: z.array(block),
} satisfies ShapeOf<RecordedChapter>);

const node = z.looseObject({ name: z.string(), runtimeDir: z.string(), dockerSocket: z.string() } satisfies ShapeOf<
  NonNullable<Transcript['target']['nodes']>[number]
>);

export const transcriptSchema = z.looseObject({
  format: z.enum([TRANSCRIPT_FORMAT, TRANSCRIPT_FORMAT_V2, TRANSCRIPT_FORMAT_V1]),
  title: z.string(),
  recordedAt: z.string(),
  target: z.looseObject({ name: z.string(), type: z.string(), nodes: z.array(node).optional() } satisfies ShapeOf<Transcript['target']>),
  runner: z.looseObject({ node: z.string(), platform: z.string() } satisfies ShapeOf<Transcript['runner']>),
  versions: z.record(z.string(), z.string()).optional(),
  status: z.enum(['passed', 'failed', 'interrupted']).optional(),
  exitCode: z.number().optional(),
  durationMs: z.number().optional(),
  baseline: snapshotSchema.nullable(),
  chapters: z.array(chapter),
  finalState: z.record(z.string(), z.unknown()),
} satisfies ShapeOf<Transcript>);
