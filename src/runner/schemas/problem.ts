import type { z } from 'zod';

/** The first thing wrong, as `chapters[2].blocks[0].hash: expected string`. */
export function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'not a transcript';
  const where = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  return `${where || '(top)'}: ${issue.message}`;
}
