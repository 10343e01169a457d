import type { RunEvent } from '../events.js';

/** One JSON object per line; blocks and chapters are referred to by id, not repeated whole. */
export function jsonReporter(write: (text: string) => void): (event: RunEvent) => void {
  return (event) => {
    const { block, chapter, ...rest } = event as RunEvent & { block?: { id: string; file: string; line: number }; chapter?: { id: string; title: string } };
    const shaped = {
      ...rest,
      ...(block ? { block: block.id, file: block.file, line: block.line } : {}),
      ...(chapter ? { chapter: chapter.id, title: chapter.title } : {}),
    };
    write(`${JSON.stringify(shaped)}\n`);
  };
}
