import readline from 'node:readline';
import type { BlockFailure } from '../runner/events.js';
import type { Block } from '../runner/types.js';

export interface LinePrompts {
  beforeBlock: (block: Block) => Promise<'run' | 'skip' | 'quit'>;
  afterFailure: (block: Block, failure: BlockFailure) => Promise<'retry' | 'quit'>;
  close(): void;
}

/**
 * `--step` without the Ink UI (`--reporter plain` in a terminal): a line per question, answered
 * with Enter. Ctrl-C is SIGINT as usual (the run stops); a pending question is answered "quit".
 */
export function linePrompts(options: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; signal?: AbortSignal }): LinePrompts {
  const rl = readline.createInterface({ input: options.input, output: options.output, terminal: false });
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  rl.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  const end = () => {
    for (const next of waiting.splice(0)) next(undefined);
  };
  rl.on('close', end);
  options.signal?.addEventListener('abort', end, { once: true });
  const ask = async <T>(question: string, choose: (answer: string) => T | undefined, otherwise: T): Promise<T> => {
    for (;;) {
      if (options.signal?.aborted) return otherwise;
      options.output.write(question);
      const line = lines.shift() ?? (await new Promise<string | undefined>((resolve) => waiting.push(resolve)));
      if (line === undefined) return otherwise;
      const choice = choose(line.trim().toLowerCase());
      if (choice !== undefined) return choice;
    }
  };
  return {
    beforeBlock: (block) =>
      ask(
        `  ? next: ${block.id} (${block.file}:${block.line}) — Enter runs, s skips, q quits: `,
        (a) => (a === '' ? 'run' : a === 's' ? 'skip' : a === 'q' ? 'quit' : undefined),
        'quit',
      ),
    afterFailure: (block) => ask(`  ? ${block.id} failed — r retries, q quits: `, (a) => (a === 'r' ? 'retry' : a === 'q' ? 'quit' : undefined), 'quit'),
    close: () => {
      options.signal?.removeEventListener('abort', end);
      rl.close();
    },
  };
}
