import type { BlockFailure } from '../events.js';
import type { Block, Prediction } from '../types.js';

/** What `answer()` knows of the prediction a block answers: enough to check a key, and to say where it is. */
export interface PredictionKeys {
  id: string;
  file: string;
  line: number;
  keys: string[];
}

/** One attempt of one block, as `answer()` sees it: the prediction it answers (if any), and the key it said. */
export interface AnswerSlot {
  block: string;
  prediction?: PredictionKeys;
  said?: string;
}

export function predictionKeys(prediction: Prediction): PredictionKeys {
  return { id: prediction.id, file: prediction.file, line: prediction.line, keys: prediction.answers.map((a) => a.key) };
}

/** A slot for an attempt of `block`: a new one each attempt, so a retry says its answer again. */
export function answerSlot(block: Pick<Block, 'id' | 'answering'>): AnswerSlot {
  return { block: block.id, ...(block.answering ? { prediction: predictionKeys(block.answering) } : {}) };
}

/** A wrong call of `answer()`: the block's mistake, at the line of the call. */
export class AnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnswerError';
  }
}

/** `answer('pending'|'refused'|'anyway')`: how a block says which answer held, for messages. */
export function answerCall(prediction: Pick<Prediction, 'answers'>): string {
  return `answer(${prediction.answers.map((a) => `'${a.key}'`).join('|')})`;
}

const keyList = (keys: string[]) => keys.map((k) => `'${k}'`).join(', ');

/**
 * The `answer(key)` global of `ts run` blocks: says which answer of the prediction before the
 * block held. Checked where it is called (the error points at that line): a block that follows no
 * prediction, a key that is not one of its answers, a second call with another key. `told` hears
 * each key said (the kernel thread sends it to the runner).
 */
export function makeAnswer(running: () => AnswerSlot | undefined, told: (key: string) => void = () => {}): (key: string) => void {
  return function answer(key: string): void {
    const slot = running();
    if (!slot) throw new AnswerError('answer() was called after its block ended: call it, and await what it needs, inside the block');
    const prediction = slot.prediction;
    if (!prediction)
      throw new AnswerError(
        `answer() says which answer of a prediction held, and block ${slot.block} follows no prediction: put a \`\`\`yaml predict block right before it, or remove the call`,
      );
    if (typeof key !== 'string' || !prediction.keys.includes(key))
      throw new AnswerError(
        `answer(${shown(key)}): the prediction at ${prediction.file}:${prediction.line} has no such answer; its answers are ${keyList(prediction.keys)}`,
      );
    if (slot.said !== undefined && slot.said !== key)
      throw new AnswerError(`answer('${key}') after answer('${slot.said}'): a block says once which answer held`);
    slot.said = key;
    told(key);
  };
}

function shown(key: unknown): string {
  if (typeof key === 'string') return `'${key}'`;
  try {
    return JSON.stringify(key) ?? String(key);
  } catch {
    return String(key);
  }
}

/** The failure of an answering block that ended well but never called `answer()`. */
export function unanswered(block: Block): BlockFailure {
  const prediction = block.answering as Prediction;
  return {
    code: 'BLOCK_FAILED',
    message: `block ${block.id} follows the prediction at ${prediction.file}:${prediction.line} and never said which answer held: call ${answerCall(prediction)}`,
    file: block.file,
    line: block.line,
  };
}
