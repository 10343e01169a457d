import readline from 'node:readline';
import { commandLine, onNewLine } from '../runner/command-output.js';
import type { BlockFailure, RunEvent } from '../runner/events.js';
import { questionLines, readPick, verdict } from '../runner/reporters/prediction-lines.js';
import type { Block, Chapter } from '../runner/types.js';
import type { BookReader } from '../terminal/prose.js';

export interface LinePrompts {
  beforeBlock: (block: Block) => Promise<'run' | 'skip' | 'quit'>;
  /** Before a block that answers a prediction: its question, then the reader's pick (a number or a key; Enter: none). */
  predict: (block: Block) => Promise<string | undefined>;
  afterFailure: (block: Block, failure: BlockFailure) => Promise<'retry' | 'quit'>;
  /** Follows the run: a chapter's closing prose, the last block's output for `o`, and what a prediction came to. */
  listener: (event: RunEvent) => void;
  close(): void;
}

export interface LinePromptOptions {
  input: NodeJS.ReadableStream;
  output: { write(text: string): unknown };
  signal?: AbortSignal;
  /** Reading mode: the prose before each block and after each chapter. */
  reader?: BookReader;
}

/**
 * `--step` without the Ink UI (`--reporter plain`, a pipe, a screen reader): the prose, then a
 * line per question, answered with a line (Enter alone runs). Works on a pipe too: the end of the
 * input answers "quit". Ctrl-C is SIGINT as usual; a pending question is answered "quit".
 */
export function linePrompts(options: LinePromptOptions): LinePrompts {
  // No output for readline: the questions are written here, and a pipe is not echoed.
  const rl = readline.createInterface({ input: options.input, terminal: false });
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  const write = (text: string) => options.output.write(text);
  let chapter: Chapter | undefined;
  let current: { id: string; output: string } | undefined;
  let last: { id: string; output: string } | undefined;
  rl.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  /** The input ended (or Ctrl-C): every question from now on gets its `otherwise`, not a wait that never ends. */
  let ended = false;
  const end = () => {
    ended = true;
    for (const next of waiting.splice(0)) next(undefined);
  };
  rl.on('close', end);
  options.signal?.addEventListener('abort', end, { once: true });
  const showLast = () => {
    if (!last) write('  (no block has printed anything yet)\n');
    else write(`  full output of ${last.id}:\n${last.output.replace(/\n?$/, '\n')}`);
  };
  const ask = async <T>(question: string, choose: (answer: string) => T | undefined, otherwise: T): Promise<T> => {
    for (;;) {
      if (options.signal?.aborted) return otherwise;
      write(question);
      const line = lines.shift() ?? (ended ? undefined : await new Promise<string | undefined>((resolve) => waiting.push(resolve)));
      if (line === undefined) return otherwise;
      // A pipe does not echo the answer: end the question's line ourselves.
      if (!(options.input as NodeJS.ReadStream).isTTY) write('\n');
      const answer = line.trim().toLowerCase();
      const choice = choose(answer);
      if (choice !== undefined) return choice;
      if (answer === 'o') showLast();
    }
  };
  const prose = (text: string[]) => {
    if (text.length > 0) write(`\n${text.map((l) => `  ${l}`.trimEnd()).join('\n')}\n\n`);
  };
  return {
    beforeBlock: (block) => {
      if (options.reader && chapter?.id === block.chapterId) prose(options.reader.before(chapter, block));
      return ask(
        `  ? next: ${block.id} (${block.file}:${block.line}) — Enter runs, s skips, q quits, o shows the last output: `,
        (a) => (a === '' ? 'run' : a === 's' ? 'skip' : a === 'q' ? 'quit' : undefined),
        'quit',
      );
    },
    predict: async (block) => {
      const prediction = block.answering;
      if (!prediction) return undefined;
      // The prose up to the prediction; the code comes after the pick (it would tell).
      const at = chapter?.blocks.find((b) => b.id === prediction.id);
      if (options.reader && chapter && at) prose(options.reader.leading(chapter, at));
      write(
        `${questionLines(prediction)
          .map((l) => `  ${l}`)
          .join('\n')}\n`,
      );
      const last = prediction.answers.length;
      // The end of the input (or Ctrl-C) is no prediction; the step question after it then quits.
      const pick = await ask(`  ? your prediction: 1–${last} or a key, Enter for none: `, (a) => readPick(prediction, a), null);
      write(pick ? `  you predicted "${pick}"\n` : '  no prediction\n');
      return pick ?? undefined;
    },
    afterFailure: (block) =>
      ask(`  ? ${block.id} failed — r retries, q quits, o shows its output: `, (a) => (a === 'r' ? 'retry' : a === 'q' ? 'quit' : undefined), 'quit'),
    listener: (event) => {
      if (event.type === 'chapter:start') chapter = event.chapter;
      if (event.type === 'block:start') current = { id: event.block.id, output: '' };
      // `o` shows the block's output with its commands' unfolded, each under its `$` line.
      if (event.type === 'block:output' && current?.id === event.block.id) current.output += event.text;
      if (event.type === 'command:start' && event.block.kind === 'ts' && current?.id === event.block.id)
        current.output += onNewLine(current.output, `${commandLine(event)}\n`);
      if (event.type === 'command:output' && current?.id === event.block.id) current.output += event.text;
      if (event.type === 'block:end' && current?.id === event.block.id) {
        if (current.output) last = current;
        current = undefined;
      }
      if (event.type === 'prediction:result' && event.asked) {
        const said = verdict(event);
        write(`  ${said.head}\n${said.details.map((l) => `    ${l}\n`).join('')}`);
      }
      if (event.type === 'chapter:end' && event.status === 'passed' && options.reader) prose(options.reader.end(event.chapter));
    },
    close: () => {
      options.signal?.removeEventListener('abort', end);
      rl.close();
    },
  };
}
