import path from 'node:path';
import type { InkUi } from '../ink-ui/index.js';
import { definedTarget } from '../runner/book-config.js';
import { EventBus, listenerWarning, type RunEvent } from '../runner/events.js';
import { compileChapters, type RunOptions, runBook } from '../runner/execute.js';
import { bookStateDir, checkStateDir } from '../runner/files.js';
import { checkNodeAttributes } from '../runner/node-set.js';
import { defaultTranscriptPath, Redactor, redactingRelay, registeringInstrument, startRecording } from '../runner/record/index.js';
import { readResumeCheckpoint } from '../runner/resume.js';
import { selectChapters } from '../runner/select.js';
import { createTarget, resolveTargetName, targetConfig } from '../runner/targets/index.js';
import { FIRST_NODE, nodeTargets } from '../runner/targets/nodes.js';
import type { Chapter } from '../runner/types.js';
import { exitCodeFor, type Io, machineVersions, openBook } from './common.js';
import { checkOutputFiles } from './output-paths.js';
import { attachReporters } from './reporting.js';
import { openSession } from './session.js';
import { onStopSignals } from './stop-signals.js';

export interface RunCommandOptions {
  book?: string;
  target?: string;
  from?: string;
  to?: string;
  only?: string;
  step?: boolean;
  reporter?: 'tui' | 'plain' | 'json' | 'junit';
  junit?: string;
  ci?: boolean;
  /** Resume although the machine drifted or earlier chapters changed. */
  force?: boolean;
  /** Write a transcript (commands, outputs, calls, state; secrets redacted) for `book render` and `book replay`. */
  record?: boolean;
  /** Where the transcript goes (implies --record); default book/../.book/transcript.json. */
  transcript?: string;
  /** Draw the cluster as a tree after each chapter (default true; --no-tree). */
  tree?: boolean;
}

export function defaultReporter(stdoutIsTty: boolean): 'tui' | 'plain' {
  return stdoutIsTty && !process.env.CI ? 'tui' : 'plain';
}

/**
 * `book run`. `openTarget` reaches the machine the book names (tests of the checkpoint logic
 * pass a FAKE machine here; everything else is the command as the CLI runs it).
 */
export async function runCommand(options: RunCommandOptions, io: Io, openTarget: typeof createTarget = createTarget): Promise<number> {
  try {
    const book = await openBook(options.book);
    book.versions = machineVersions(book);
    const chapters = selectChapters(book, options);
    await compileChapters(chapters);
    // target: auto becomes the target it picks (docker where a Docker daemon answers, else local).
    options = { ...options, target: await resolveTargetName(book, options.target) };
    targetConfig(book, options.target);
    // The outputs, defaults included (--ci's JUnit file, --record's transcript): checked as one set.
    const recordTo = options.record || options.transcript ? (options.transcript ?? defaultTranscriptPath(book)) : undefined;
    const [junitFile, transcriptFile] = await checkOutputFiles([
      { flag: '--junit', file: options.junit ?? (options.ci ? path.join(bookStateDir(book), 'junit.xml') : undefined), kind: 'junit' },
      { flag: options.transcript ? '--transcript' : '--record', file: recordTo, kind: 'transcript' },
    ]);
    // Every node= names a node of the target: before the machine is touched (a BookError, exit 2).
    const nodes = nodeTargets(book, options.target);
    checkNodeAttributes(chapters, [FIRST_NODE, ...nodes.names]);
    // The state folder, and --from's checkpoint (missing, damaged, chapters changed): no machine needed.
    const targetName = options.target as string;
    await checkStateDir(book, path.join('checkpoints', targetName));
    const snapshots = definedTarget(book.config, targetName)?.type === 'vagrant';
    await readResumeCheckpoint(book, targetName, chapters[0] as Chapter, { allowChanged: options.force || snapshots });
    // The runner (and the recorder) hear `bus`; reporters, the UI and prompts hear `shown`, its
    // events with secrets blanked (a CI log is a log).
    // A reporter's or the recorder's error is a warning, never a block's failure (events.ts).
    const onListenerError = (error: unknown, event: RunEvent) => io.err(listenerWarning(error, event));
    const bus = new EventBus({ onListenerError });
    const shown = new EventBus({ onListenerError, bound: false });
    const redactor = new Redactor();
    const relay = redactingRelay(redactor, (event) => shown.emit(event));
    bus.on(relay.listener);
    const reporter: string = options.reporter ?? (options.ci ? 'plain' : defaultReporter(Boolean(process.stdout.isTTY)));
    // Loading Ink (React, the yoga layout engine) takes ~0.4 s: start it now, overlapping the setup below.
    // React's production build: its development build costs ~40 MB and checks every render.
    if (reporter === 'tui') process.env.NODE_ENV ??= 'production';
    const inkUi = reporter === 'tui' ? import('../ink-ui/index.js') : undefined;
    inkUi?.catch(() => {});
    const reporting = attachReporters(shown, {
      reporter,
      io,
      junitFile,
      color: !process.env.NO_COLOR && Boolean(process.stdout.isTTY),
      tree: options.tree,
    });

    const target = await openTarget(book, options.target);
    const session = await openSession({ book, chapters, target, nodes, bus, io, force: options.force });
    if (typeof session === 'number') {
      await target.close();
      return session;
    }
    const recording = transcriptFile ? startRecording(book, target, { nodes, redactor }) : undefined;
    const interrupt = new AbortController();
    // The Ink UI is loaded only when used: React and Ink stay out of plain, json and junit runs.
    // The run does not wait for it: events are kept until it is ready and then handed over, so
    // loading Ink overlaps the first blocks. Its questions (--step, retry) wait for it.
    let ui: InkUi | undefined;
    const early: RunEvent[] = [];
    const uiReady = inkUi?.then((module) => {
      ui = module.startInkUi({ step: Boolean(options.step), onInterrupt: () => interrupt.abort(), tree: options.tree });
      for (const event of early.splice(0)) ui.listener(event);
    });
    if (uiReady) shown.on((event) => (ui ? ui.listener(event) : early.push(event)));
    const uiHooks: Pick<RunOptions, 'beforeBlock' | 'afterFailure' | 'predict'> = uiReady
      ? {
          beforeBlock: options.step
            ? async (block) => {
                await uiReady;
                return ui?.beforeBlock ? ui.beforeBlock(block) : 'run';
              }
            : undefined,
          predict: options.step
            ? async (block) => {
                await uiReady;
                return ui?.predict ? ui.predict(block) : undefined;
              }
            : undefined,
          afterFailure: async (block, failure) => {
            await uiReady;
            return ui?.afterFailure ? ui.afterFailure(block, failure) : 'quit';
          },
        }
      : {};
    // --step without the Ink UI: the prose and a question per line, on a terminal or a pipe.
    const prompts =
      !uiReady && options.step
        ? (await import('../ink-ui/line-prompt.js')).linePrompts({
            input: io.input ?? process.stdin,
            // JSON and JUnit on stdout stay machine-readable: the reading goes to stderr.
            output: { write: reporter === 'plain' ? io.out : io.err },
            signal: interrupt.signal,
            // The reader (markdown-it rendering, highlight.js) is loaded only for --step.
            reader: new (await import('../terminal/prose.js')).BookReader(() => ({
              width: Math.max(40, (process.stdout.columns || 80) - 2),
              color: !process.env.NO_COLOR && Boolean(process.stdout.isTTY),
            })),
          })
        : undefined;
    if (prompts) shown.on(prompts.listener);
    // The reader is asked about a failure as the reporters showed it: its output so far, and
    // its message, redacted.
    const shownFailure = (ask: RunOptions['afterFailure']): RunOptions['afterFailure'] =>
      ask &&
      ((block, failure) => {
        relay.releaseBlock(block.id);
        return ask(block, redactor.redactDeep(failure));
      });
    const stopListening = onStopSignals(() => interrupt.abort());
    try {
      const result = await runBook({
        book,
        chapters,
        target,
        nodes,
        bus,
        signal: interrupt.signal,
        instrument: registeringInstrument(recording?.instrument, redactor),
        state: session.state,
        baseline: session.baseline,
        afterChapter: session.afterChapter,
        beforeBlock: uiHooks.beforeBlock ?? prompts?.beforeBlock,
        predict: uiHooks.predict ?? prompts?.predict,
        afterFailure: shownFailure(uiHooks.afterFailure ?? prompts?.afterFailure),
      });
      // The transcript first: a JUnit file that cannot be written must not cost the recording.
      if (recording && transcriptFile) await recording.save(transcriptFile, result.state);
      await reporting.finish();
      if (transcriptFile && reporter !== 'tui') io.err(`transcript: ${path.relative(process.cwd(), transcriptFile) || transcriptFile}\n`);
      return result.exitCode;
    } finally {
      await uiReady?.catch(() => {});
      await ui?.stop();
      prompts?.close();
      await session.release();
      stopListening();
      await target.close();
    }
  } catch (error) {
    return exitCodeFor(error, io);
  }
}
