import { visible } from '../errors.js';
import type { RunEvent } from '../events.js';
import type { Prediction } from '../types.js';

/** How every reporter words a prediction (the plain lines, the line prompts, the Ink UI), without colour. */

/** The question and its numbered answers: the reader picks by number or by key. */
export function questionLines(prediction: Prediction): string[] {
  return [`Predict: ${visible(prediction.question)}`, ...prediction.answers.map((a, i) => `  ${i + 1}. ${visible(a.text)}  [${a.key}]`)];
}

/** The reader's answer to the question: a number of the list or a key; '' (Enter) is no prediction; undefined: neither. */
export function readPick(prediction: Prediction, typed: string): string | null | undefined {
  const text = typed.trim().toLowerCase();
  if (text === '') return null;
  const byNumber = /^\d+$/.test(text) ? prediction.answers[Number(text) - 1] : undefined;
  return (byNumber ?? prediction.answers.find((a) => a.key === text))?.key;
}

export interface Verdict {
  /** right/wrong: the reader's pick against the cluster's; none: no pick, or no answer. */
  tone: 'right' | 'wrong' | 'none';
  head: string;
  /** For the reader who was asked: the answer the cluster gave, and why. */
  details: string[];
}

/** What a `prediction:result` says: the cluster's answer, the reader's pick against it, and why. */
export function verdict(event: Extract<RunEvent, { type: 'prediction:result' }>): Verdict {
  const { prediction, answer, chosen, asked } = event;
  const name = `prediction ${prediction.id}`;
  if (answer === undefined) return { tone: 'none', head: `${name}: the block failed before the cluster answered`, details: [] };
  const did = `the cluster did "${answer}"`;
  if (!asked) return { tone: 'none', head: `${name}: ${did}`, details: [] };
  const text = prediction.answers.find((a) => a.key === answer)?.text;
  const details = [...(text ? [`${answer}: ${visible(text)}`] : []), ...(prediction.why ? [`why: ${visible(prediction.why)}`] : [])];
  if (chosen === undefined) return { tone: 'none', head: `${name}: you made no prediction; ${did}`, details };
  const right = chosen === answer;
  return { tone: right ? 'right' : 'wrong', head: `${name}: you said "${chosen}"; ${did} — ${right ? 'right' : 'wrong'}`, details };
}
