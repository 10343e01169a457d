import { z } from 'zod';

// The body of a `yaml predict` block, said once (zod): prediction.ts turns a failure into issues at
// the line of the wrong key, with the hint below for what to write instead.

/** An answer's key: what `answer('…')` names in the block after the prediction. */
export const ANSWER_KEY = /^[a-z][a-z0-9-]*$/;
export const MIN_ANSWERS = 2;
export const MAX_ANSWERS = 6;

const TEXT = 'must be text';
/** Text a reader reads: a string with something in it (a number or `true` must be quoted to be text). */
const text = (what: string) =>
  z
    .string({ error: `${what} ${TEXT}` })
    .trim()
    .min(1, `${what} is empty`);

export const predictionSchema = z.strictObject({
  question: text('question'),
  answers: z
    .record(z.string().regex(ANSWER_KEY, 'an answer key is lowercase letters, digits and -, starting with a letter'), text('the answer'), {
      error: (issue) => (issue.input === undefined ? undefined : 'answers must be a mapping of key: text'),
    })
    .superRefine((answers, ctx) => {
      const count = Object.keys(answers).length;
      if (count < MIN_ANSWERS || count > MAX_ANSWERS)
        ctx.addIssue({ code: 'custom', message: `answers has ${count} answer${count === 1 ? '' : 's'}; a prediction offers ${MIN_ANSWERS} to ${MAX_ANSWERS}` });
    }),
  why: text('why').optional(),
});

export type PredictionBody = z.infer<typeof predictionSchema>;

/** An example body, for hints. */
export const PREDICTION_EXAMPLE = 'question: What happens to the new pods? / answers: { pending: They stay Pending, refused: The API server refuses } / why: …';

/** What to write, by the key that is wrong. */
export const PREDICTION_HINTS: Record<string, string> = {
  question: 'write the question the reader answers before the block runs, e.g. question: What happens to the new pods?',
  answers: 'write 2 to 6 answers as key: text, e.g. answers: { pending: They stay Pending, refused: The API server refuses }',
  answer: 'say what would happen, as text (quote it if it is a number or true/false), e.g. pending: They stay Pending',
  key: "name each answer with lowercase letters, digits and -, starting with a letter: the block after it calls answer('pending')",
  why: 'explain, as text, why the cluster does what it does (or leave why: out)',
};
