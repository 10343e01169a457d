import { z } from 'zod';

// The shape of a transcript as the renderer and the replay read it (zod). Loose objects: a later
// runner may add fields; what is read must be there with its type, or the file is refused whole.

const call = z.looseObject({
  kind: z.enum(['target', 'docker', 'k8s']),
  path: z.string(),
  args: z.array(z.unknown()),
  error: z.looseObject({ name: z.string(), message: z.string() }).optional(),
  durationMs: z.number(),
  repeat: z.number().int().min(2).optional(),
});

const block = z.looseObject({
  id: z.string().min(1),
  kind: z.enum(['ts', 'sh', 'file', 'prose']),
  line: z.number().int().min(1),
  hash: z.string().min(1),
  status: z.enum(['passed', 'failed', 'skipped']),
  durationMs: z.number(),
  attempts: z.number().int().min(0),
  commands: z.array(z.looseObject({ command: z.string(), exitCode: z.number().nullable(), stdout: z.string(), stderr: z.string() })),
  output: z.array(z.looseObject({ stream: z.enum(['stdout', 'stderr', 'log']), text: z.string() })),
  waits: z.array(z.looseObject({ polls: z.number() })),
  daemons: z.array(z.looseObject({ name: z.string(), action: z.string() })),
  calls: z.array(call),
  answer: z.string().optional(),
  diagnostics: z.array(z.looseObject({ title: z.string(), lines: z.array(z.string()) })).optional(),
  state: z
    .looseObject({ snapshot: z.looseObject({ sources: z.record(z.string(), z.unknown()) }), diff: z.looseObject({ changes: z.array(z.unknown()) }) })
    .optional(),
});

export const transcriptSchema = z.looseObject({
  format: z.string(),
  title: z.string(),
  recordedAt: z.string(),
  target: z.looseObject({
    name: z.string(),
    type: z.string(),
    nodes: z.array(z.looseObject({ name: z.string(), runtimeDir: z.string(), dockerSocket: z.string() })).optional(),
  }),
  runner: z.looseObject({ node: z.string(), platform: z.string() }),
  versions: z.record(z.string(), z.string()).optional(),
  baseline: z.looseObject({ sources: z.record(z.string(), z.unknown()) }).nullable(),
  chapters: z.array(
    z.looseObject({ id: z.string().min(1), number: z.number(), title: z.string(), file: z.string(), hash: z.string(), blocks: z.array(block) }),
  ),
  finalState: z.record(z.string(), z.unknown()),
});
