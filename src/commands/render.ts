import { lstatSync } from 'node:fs';
import path from 'node:path';
import { renderSite } from '../render/index.js';
import { EXIT } from '../runner/execute.js';
import { bookStateDir, checkStateDir } from '../runner/files.js';
import { checkTranscriptOfBook, defaultTranscriptPath, readTranscript, type Transcript } from '../runner/record/transcript.js';
import { exitCodeFor, type Io, openBook } from './common.js';
import { checkOutputFolder } from './output-paths.js';
import { onStopSignals } from './stop-signals.js';

export interface RenderCommandOptions {
  book?: string;
  /** Default: book/../.book/site. */
  out?: string;
  /** Default: book/../.book/transcript.json when it exists (code only otherwise). */
  transcript?: string;
  /** Render into a folder that holds files the renderer did not write (they are kept). */
  force?: boolean;
}

export async function renderCommand(options: RenderCommandOptions, io: Io): Promise<number> {
  try {
    const book = await openBook(options.book);
    await checkOutputFolder('--out', options.out);
    if (options.out === undefined) await checkStateDir(book, 'site');
    const file = options.transcript ?? defaultTranscriptPath(book);
    let transcript: Transcript | undefined;
    // Anything named like the default transcript is read (a dangling link there is an error, not "no transcript").
    if (options.transcript || lstatSync(file, { throwIfNoEntry: false })) {
      transcript = await readTranscript(file);
      checkTranscriptOfBook(file, transcript, book);
    }
    const outDir = options.out ?? path.join(bookStateDir(book), 'site');
    // Ctrl-C stops the build before the swap: the folder keeps its previous site.
    const interrupt = new AbortController();
    const stopListening = onStopSignals(() => interrupt.abort());
    const result = await renderSite({
      book,
      transcript,
      outDir,
      force: options.force,
      signal: interrupt.signal,
      inputs: transcript ? [file] : [],
    }).finally(stopListening);
    const shown = path.relative(process.cwd(), result.outDir) || '.';
    io.out(
      `rendered ${result.pages.length} pages to ${shown}/ (open ${shown}/index.html)${transcript ? '' : '; no transcript, so code only (book run --record)'}\n`,
    );
    if (result.stale.length > 0)
      io.err(
        `book: ${result.stale.length} block(s) changed since the transcript was recorded (${result.stale.join(', ')}): re-record with book run --record\n`,
      );
    return EXIT.ok;
  } catch (error) {
    return exitCodeFor(error, io);
  }
}
