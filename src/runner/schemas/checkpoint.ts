import { z } from 'zod';
import { snapshotSchema } from './snapshot.js';

// A checkpoint's body as resume reads it (zod). The checksum proves the file is as written; this
// proves it was written by a runner that wrote what resume needs.

const fingerprint = z.looseObject({ id: z.string().min(1), hash: z.string(), codeHash: z.string() });

export const checkpointSchema = z.looseObject({
  book: z.string(),
  target: z.string(),
  chapter: fingerprint.extend({ number: z.number(), title: z.string() }),
  chapters: z.array(fingerprint),
  state: z.record(z.string(), z.unknown()),
  results: z.array(z.looseObject({ block: z.string(), chapter: z.string(), status: z.enum(['passed', 'failed', 'skipped']), durationMs: z.number() })),
  // Whole: the drift check walks every source and item of it.
  snapshot: snapshotSchema.nullable(),
  machine: z.looseObject({ target: z.string(), hostname: z.string(), instance: z.string() }),
  machineSnapshot: z.looseObject({ type: z.literal('vagrant'), name: z.string() }).nullable(),
  createdAt: z.string(),
});
