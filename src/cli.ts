#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { exitCodeFor, processIo } from './commands/common.js';
import { ERRORS, exitCodeOf, formatError } from './runner/errors.js';
import { COMMAND_OPTIONS, type CommandName, checkOptions } from './runner/schemas/cli-args.js';

const USAGE = `usage:
  book list    [--book DIR] [--json]
  book run     [--book DIR] [--target NAME] [--from CH] [--to CH] [--only CH] [--step]
               [--reporter tui|plain|json|junit] [--junit FILE] [--ci] [--force]
               [--record] [--transcript FILE] [--no-tree]
  book render  [--book DIR] [--out DIR] [--transcript FILE] [--force]
  book replay  [--book DIR] [--transcript FILE] [--to CH] [--reporter plain|json|junit] [--junit FILE] [--ci] [--no-tree]
  book checkpoints [--book DIR] [--target NAME] [--json]
  book machine up|status|down [--target NAME]
  book machine shell [--target NAME] [--node NAME] [-- CMD ARGS...]
  book conformance [--target NAME] [--all | --focus RE] [--out DIR]
`;

type Reporter = 'tui' | 'plain' | 'json' | 'junit';

const KNOWN_COMMANDS = ['list', 'run', 'render', 'replay', 'checkpoints', 'machine', 'conformance'];

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
        all: { type: 'boolean' },
        focus: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`${formatError('ARGUMENTS_INVALID', (error as Error).message)}${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  const [command, action, ...extra] = positionals;
  const str = (k: string) => values[k] as string | undefined;
  // An unknown command is an error even with --help: a typo must not look like success.
  if (command !== undefined && !KNOWN_COMMANDS.includes(command)) {
    process.stderr.write(`${formatError('ARGUMENTS_INVALID', `unknown command "${command}"`)}${USAGE}`);
    return 2;
  }
  if (values.help || !command) {
    (values.help ? process.stdout : process.stderr).write(USAGE);
    return values.help ? 0 : 2;
  }
  // Words the command does not take are refused, never dropped: only `machine` takes an action,
  // and only `machine shell` takes a command after --.
  const takes = command === 'machine' ? 1 : 0;
  const stray = [...(takes === 0 && action !== undefined ? [action] : []), ...extra];
  if (stray.length > 0) {
    process.stderr.write(`${formatError('ARGUMENTS_INVALID', `book ${command} takes no argument ${stray.map((w) => `"${w}"`).join(' ')}`)}${USAGE}`);
    return 2;
  }
  if (passthrough.length > 0 && !(command === 'machine' && action === 'shell')) {
    process.stderr.write(
      `${formatError('ARGUMENTS_INVALID', `book ${[command, action].filter(Boolean).join(' ')} takes nothing after --, but was given ${passthrough.map((w) => `"${w}"`).join(' ')} (only book machine shell runs a command given there)`)}${USAGE}`,
    );
    return 2;
  }
  if (command in COMMAND_OPTIONS) {
    const defined = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    const wrong = checkOptions(command as CommandName, defined);
    if (wrong) {
      process.stderr.write(`${formatError('ARGUMENTS_INVALID', wrong)}${USAGE}`);
      return 2;
    }
  }
  // Each command's module is imported when it runs: `book list` or a mistyped flag does not load
  // the Kubernetes client, Ink, the renderer and ssh2 (each costs start-up time).
  switch (command) {
    case 'list':
      return (await import('./commands/list.js')).listCommand({ book: str('book'), json: Boolean(values.json) }, processIo);
    case 'run': {
      const reporter = str('reporter');
      return (await import('./commands/run.js')).runCommand(
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
      return (await import('./commands/render.js')).renderCommand(
        { book: str('book'), out: str('out'), transcript: str('transcript'), force: Boolean(values.force) },
        processIo,
      );
    case 'replay': {
      const reporter = str('reporter');
      return (await import('./commands/replay.js')).replayCommand(
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
      return (await import('./commands/checkpoints.js')).checkpointsCommand(
        { book: str('book'), target: str('target'), json: Boolean(values.json) },
        processIo,
      );
    case 'conformance':
      return (await import('./commands/conformance.js')).conformanceCommand(
        { book: str('book'), target: str('target'), all: Boolean(values.all), focus: str('focus'), out: str('out') },
        processIo,
      );
    case 'machine':
      if (!action || !['up', 'status', 'down', 'shell'].includes(action)) {
        process.stderr.write(`${formatError('ARGUMENTS_INVALID', 'machine needs up, status, down or shell')}${USAGE}`);
        return 2;
      }
      if (str('node') !== undefined && action !== 'shell') {
        process.stderr.write(`${formatError('ARGUMENTS_INVALID', '--node goes with machine shell (up, status and down handle every node)')}${USAGE}`);
        return 2;
      }
      return (await import('./commands/machine.js')).machineCommand(
        action,
        { book: str('book'), target: str('target'), node: str('node'), command: passthrough },
        processIo,
      );
    default:
      process.stderr.write(`${formatError('ARGUMENTS_INVALID', `unknown command "${command}"`)}${USAGE}`);
      return 2;
  }
}

// stdout or stderr failing. A reader that stopped reading (`book list | head`, EPIPE) is not an
// error: the rest of that stream's output is dropped and the command still ends with its own
// verdict. Any other failure (ENOSPC, EIO) loses output: the command finishes, then exits 3.
let lostOutput: NodeJS.ErrnoException | undefined;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') lostOutput ??= error;
    // Later writes to a failed stream go nowhere instead of raising again.
    stream.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') done();
      return true;
    }) as typeof stream.write;
  });
}

// Checked as the process exits: a failed write is reported after the command's promise settled.
process.on('exit', (code) => {
  if (!lostOutput) return;
  const which = lostOutput.syscall ? `${lostOutput.syscall}: ` : '';
  // stderr may be the stream that failed: the exit status says it either way.
  process.stderr.write(
    formatError(
      'OUTPUT_UNWRITABLE',
      `the output could not be written (${which}${lostOutput.code ?? lostOutput.message}); the command's own verdict was exit ${code}`,
      ERRORS.OUTPUT_UNWRITABLE.todo,
    ),
  );
  process.exitCode = exitCodeOf('OUTPUT_UNWRITABLE');
});

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
    // The commands' own account of an error: a known code, the host's trouble, or a runner bug.
    process.exit(exitCodeFor(error, processIo));
  },
);
