// Runs one property-based fuzz (fast-check) over the runner's parsers, in a worker thread so the
// test can end it when an input makes the code under test spin: before each case the input is
// posted to the test, which names it if the case never finishes. `api` is src/runner-api.ts as the
// test bundled it (test/unit/fuzz.test.ts), so the cases run the code as it is now.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { stringify } from 'yaml';

const { property, runs, seed, api } = workerData;
const { BookError, loadBook, parseBookConfig, parseChapter, parseInfo } = await import(pathToFileURL(api).href);
const seen = (input) => parentPort.postMessage({ type: 'case', input: typeof input === 'string' ? input : JSON.stringify(input) });

/** What a web page, a keyboard and a hex editor put in an info string. */
const infoUnit = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      ' ',
      '\t',
      '=',
      '"',
      "'",
      '\\',
      'run',
      'ts',
      'sh',
      'yaml',
      'name',
      'file',
      'fails',
      'timeout',
      'retries',
      'mode',
      'node',
      'predict',
      '90s',
      '/etc/x',
      '0600',
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom('\u00a0', '\u200b', '\u2009', '\u3000', '\ufeff', '\r', '\0', '\u0085', '\u2028', '\ufffd', '\u001b') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
);
const infoString = fc.array(infoUnit, { maxLength: 12 }).map((parts) => parts.join(''));

/** A chapter of random structure: fences opened and closed (or not), prose, headings, noise. */
const chapterLine = fc.oneof(
  infoString.map((info) => `\`\`\`${info}`),
  fc.constantFrom('```', '~~~', '````', '> ```', '  ```', '# Title', '## Section', '', '- item', '> quote'),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  // A file block's version names, one misspelled (the parser names its line).
  fc.constantFrom('$' + '{K8S_VERSOIN}', '$' + '{K8S_VERSION}', '<!-- comment', '-->', '<div>', '\t\tcode'),
  // A prediction's body, whole or in pieces (docs/predictions.md).
  fc.constantFrom('```yaml predict', 'question: Q?', 'answers:', '  a: A', '  b: B', '  B: x', 'why: W', 'why: [', '```ts run\nanswer("a")\n```'),
);
const chapter = fc.array(chapterLine, { maxLength: 40 }).map((lines) => lines.join('\n'));

/** book.yaml: random YAML of any shape, and near-valid configs with wrong values in them. */
const value = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('90s', '99999999m', '-1', '/run/x', 'v1.35.4', 'local', 'ssh', 'vagrant', 'docker', 'auto', '192.168.57.0/24', 'book-x'),
);
const targetYaml = fc.dictionary(
  fc.constantFrom('type', 'netns', 'runtimeDir', 'dockerSocket', 'host', 'port', 'user', 'key', 'hostKey', 'nodes', 'dir', 'netnz', 'machine', 'subnet'),
  value,
);
const configYaml = fc.oneof(
  fc.anything().map((v) => stringify(v) ?? ''),
  fc
    .record(
      {
        title: value,
        chapters: fc.oneof(value, fc.array(value, { maxLength: 3 })),
        defaults: fc.oneof(value, fc.dictionary(fc.constantFrom('timeout', 'retries', 'other'), value)),
        kubeconfig: value,
        kubernetes: value,
        target: fc.oneof(value, fc.constantFrom('t', 'local', 'auto', 'docker')),
        targets: fc.oneof(value, fc.dictionary(fc.constantFrom('t', 'local', 'x y'), fc.oneof(value, targetYaml), { maxKeys: 2 })),
      },
      { requiredKeys: [] },
    )
    .map((v) => stringify(v)),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

const isIssue = (issue, maxLine) =>
  typeof issue.file === 'string' &&
  Number.isInteger(issue.line) &&
  issue.line >= 1 &&
  issue.line <= maxLine &&
  typeof issue.message === 'string' &&
  issue.message.length > 0;

const properties = {
  'info string': fc.property(infoString, (info) => {
    seen(info);
    const parsed = parseInfo(info, { file: 'f.md', line: 7 });
    return Array.isArray(parsed)
      ? parsed.length > 0 && parsed.every((i) => isIssue(i, 7) && i.line === 7)
      : ['ts', 'sh', 'file', 'prose', 'predict'].includes(parsed.kind);
  }),
  chapter: fc.property(chapter, (text) => {
    seen(text);
    const lines = text.split(/\r\n?|\n/).length;
    const { chapter: parsed, issues } = parseChapter('01-a.md', '01-a', 1, text, { timeoutMs: 60_000, retries: 0 });
    return issues.every((i) => isIssue(i, lines + 1)) && parsed.blocks.every((b) => b.line >= 1 && b.line <= lines);
  }),
  'book.yaml': fc.property(configYaml, (text) => {
    seen(text);
    const { config, issues } = parseBookConfig('book.yaml', text);
    if (issues.length > 0) return issues.every((i) => isIssue(i, text.split('\n').length + 1));
    // auto is resolved when a command needs the machine (targets/index.ts resolveTargetName).
    return (config.target === 'auto' || Boolean(config.targets[config.target])) && config.defaults.timeoutMs <= 2 ** 31 - 1 && config.defaults.retries <= 20;
  }),
  'chapter bytes': fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
    seen(Buffer.from(bytes).toString('base64'));
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'book-fuzz-')), 'book');
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, '01-a.md'), bytes);
      await loadBook(dir);
      return true;
    } catch (error) {
      return error instanceof BookError && error.issues.every((i) => isIssue(i, Buffer.from(bytes).toString('utf8').split('\n').length + 1));
    } finally {
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  }),
};

const started = performance.now();
try {
  await fc.assert(properties[property], { numRuns: runs, seed });
  parentPort.postMessage({ type: 'done', runs, ms: performance.now() - started });
} catch (error) {
  parentPort.postMessage({ type: 'failed', message: String(error?.message ?? error).slice(0, 4000) });
}
