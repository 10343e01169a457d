#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { checkpointsCommand } from './commands/checkpoints.js';
import { processIo } from './commands/common.js';
import { listCommand } from './commands/list.js';
import { machineCommand } from './commands/machine.js';
import { renderCommand } from './commands/render.js';
import { replayCommand } from './commands/replay.js';
import { runCommand } from './commands/run.js';
import { ERRORS, formatError } from './runner/errors.js';
import { COMMAND_OPTIONS, type CommandName, checkOptions } from './runner/schemas/cli-args.js';

const USAGE = `usage:
  book list    [--book DIR] [--json]
  book run     [--book DIR] [--target NAME] [--from CH] [--to CH] [--only CH] [--step]
               [--reporter tui|plain|json|junit] [--junit FILE] [--ci] [--force]
               [--record] [--transcript FILE] [--no-tree]
  book render  [--book DIR] [--out DIR] [--transcript FILE]
  book replay  [--book DIR] [--transcript FILE] [--to CH] [--reporter plain|json|junit] [--junit FILE] [--ci] [--no-tree]
  book checkpoints [--book DIR] [--target NAME] [--json]
  book machine up|status|down [--target NAME]
  book machine shell [--target NAME] [--node NAME] [-- CMD ARGS...]
`;

type Reporter = 'tui' | 'plain' | 'json' | 'junit';

/** Argument parsing only: every command lives in src/commands. Exit 2 for bad arguments. */
export async function main(argv: string[]): Promise<number> {
  const dashDash = argv.indexOf('--');
  const own = dashDash >= 0 ? argv.slice(0, dashDash) : argv;
  const passthrough = dashDash >= 0 ? argv.slice(dashDash + 1) : [];
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        book: { type: 'string' },
        target: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        only: { type: 'string' },
        step: { type: 'boolean' },
        reporter: { type: 'string' },
        junit: { type: 'string' },
        ci: { type: 'boolean' },
        force: { type: 'boolean' },
        record: { type: 'boolean' },
        transcript: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
        node: { type: 'string' },
        'no-tree': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`${formatError('ARGUMENTS_INVALID', (error as Error).message)}${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  const [command, action] = positionals;
  const str = (k: string) => values[k] as string | undefined;
  if (values.help || !command) {
    (values.help ? process.stdout : process.stderr).write(USAGE);
    return values.help ? 0 : 2;
  }
  if (command in COMMAND_OPTIONS) {
    const defined = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    const wrong = checkOptions(command as CommandName, defined);
    if (wrong) {
      process.stderr.write(`${formatError('ARGUMENTS_INVALID', wrong)}${USAGE}`);
      return 2;
    }
  }
  switch (command) {
    case 'list':
      return listCommand({ book: str('book'), json: Boolean(values.json) }, processIo);
    case 'run': {
      const reporter = str('reporter');
      return runCommand(
        {
          book: str('book'),
          target: str('target'),
          from: str('from'),
          to: str('to'),
          only: str('only'),
          step: Boolean(values.step),
          reporter: reporter as Reporter | undefined,
          junit: str('junit'),
          ci: Boolean(values.ci),
          force: Boolean(values.force),
          record: Boolean(values.record),
          transcript: str('transcript'),
          tree: !values['no-tree'],
        },
        processIo,
      );
    }
    case 'render':
      return renderCommand({ book: str('book'), out: str('out'), transcript: str('transcript') }, processIo);
    case 'replay': {
      const reporter = str('reporter');
      return replayCommand(
        {
          book: str('book'),
          transcript: str('transcript'),
          to: str('to'),
          reporter: reporter as 'plain' | 'json' | 'junit' | undefined,
          junit: str('junit'),
          ci: Boolean(values.ci),
          tree: !values['no-tree'],
        },
        processIo,
      );
    }
    case 'checkpoints':
      return checkpointsCommand({ book: str('book'), target: str('target'), json: Boolean(values.json) }, processIo);
    case 'machine':
      if (!action || !['up', 'status', 'down', 'shell'].includes(action)) {
        process.stderr.write(`${formatError('ARGUMENTS_INVALID', 'machine needs up, status, down or shell')}${USAGE}`);
        return 2;
      }
      if (str('node') !== undefined && action !== 'shell') {
        process.stderr.write(`${formatError('ARGUMENTS_INVALID', '--node goes with machine shell (up, status and down handle every node)')}${USAGE}`);
        return 2;
      }
      return machineCommand(action, { book: str('book'), target: str('target'), node: str('node'), command: passthrough }, processIo);
    default:
      process.stderr.write(`${formatError('ARGUMENTS_INVALID', `unknown command "${command}"`)}${USAGE}`);
      return 2;
  }
}

// `book list | head`: a reader that stops reading is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

// A command whose promise never settles while nothing else keeps the process alive would end with
// exit 0 and no verdict: a false pass. Say so and fail instead.
let settled = false;
process.on('beforeExit', () => {
  if (settled) return;
  process.stderr.write(formatError('INTERNAL', 'the command stopped with nothing left to wait for (a promise that never settles)', ERRORS.INTERNAL.todo));
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
    // Clients may keep sockets alive; the run is over.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (error: Error) => {
    settled = true;
    process.stderr.write(formatError('INTERNAL', error.message, ERRORS.INTERNAL.todo));
    if (process.env.BOOK_DEBUG) process.stderr.write(`${error.stack ?? ''}\n`);
    process.exit(1);
  },
);
