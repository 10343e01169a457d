import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { echoed } from './echo.js';
import { answerCall } from './run/answer.js';
import { PREDICTION_EXAMPLE, PREDICTION_HINTS, predictionSchema } from './schemas/prediction.js';
import type { Block, BookIssue, Chapter, Prediction } from './types.js';
import { YamlIndex } from './yaml-index.js';

/** Where a predict block is: its id, and the lines of its fence and of its first line of YAML. */
export interface PredictWhere {
  id: string;
  file: string;
  line: number;
  codeLine: number;
}

const ALLOWED = 'a prediction takes question:, answers: and why:';

/**
 * Pure: the YAML body of a `yaml predict` block → its Prediction, or issues at the line of each
 * wrong key (the chapter's line, not the block's), with what to write instead.
 */
export function parsePrediction(body: string, where: PredictWhere): Prediction | BookIssue[] {
  const { file, codeLine } = where;
  const at = (yamlLine: number) => codeLine + Math.max(1, yamlLine) - 1;
  const lines = new LineCounter();
  const doc = parseDocument(body, { lineCounter: lines, logLevel: 'error' });
  if (doc.errors.length > 0)
    return doc.errors.map((error) => ({
      file,
      line: at(error.linePos?.[0].line ?? 1),
      // yaml's own "at line N, column M" counts from the block's first line, not the chapter's: dropped.
      message:
        error.code === 'MULTIPLE_DOCS'
          ? 'the prediction holds a second YAML document (after a `---` line)'
          : `the prediction is not YAML: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
      hint: error.code === 'MULTIPLE_DOCS' ? 'a prediction is one YAML document: remove the `---`' : `write it as YAML: ${PREDICTION_EXAMPLE}`,
    }));
  let plain: unknown;
  try {
    plain = doc.toJS();
  } catch (error) {
    // An alias bomb or an alias to nothing: yaml refuses it here.
    return [
      {
        file,
        line: where.line,
        message: `the prediction cannot be read as YAML (${(error as Error).message})`,
        hint: 'write the values out, without anchors and aliases',
      },
    ];
  }
  if (plain === null || plain === undefined)
    return [{ file, line: where.line, message: 'the prediction is empty', hint: `write its question and answers: ${PREDICTION_EXAMPLE}` }];
  if (typeof plain !== 'object' || Array.isArray(plain))
    return [{ file, line: at(1), message: 'a prediction is a YAML mapping', hint: `write question:, answers: and why: ${PREDICTION_EXAMPLE}` }];
  const parsed = predictionSchema.safeParse(plain);
  if (!parsed.success) return schemaIssues(parsed.error, new YamlIndex(doc, lines), file, at);
  const { question, answers, why } = parsed.data;
  return {
    id: where.id,
    file,
    line: where.line,
    question,
    answers: Object.entries(answers).map(([key, text]) => ({ key, text })),
    ...(why === undefined ? {} : { why }),
  };
}

/** zod's account → an issue at the line of each wrong key, with the hint for that key. */
function schemaIssues(error: z.ZodError, yaml: YamlIndex, file: string, at: (yamlLine: number) => number): BookIssue[] {
  return error.issues.map((issue): BookIssue => {
    const line = at(yaml.lineAt(issue.path));
    if (issue.code === 'unrecognized_keys') {
      const names = issue.keys.map((k) => `"${k}"`).join(', ');
      return {
        file,
        line: at(yaml.lineAt([...issue.path, issue.keys[0] as string])),
        message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${names} in the prediction`,
        hint: ALLOWED,
      };
    }
    if (issue.code === 'invalid_key')
      return { file, line, message: `answer key "${String(issue.path.at(-1))}": ${issue.issues.map((i) => i.message).join('; ')}`, hint: PREDICTION_HINTS.key };
    const [top, key] = issue.path;
    const hint = (top === 'answers' && key !== undefined ? PREDICTION_HINTS.answer : PREDICTION_HINTS[String(top)]) ?? ALLOWED;
    if (issue.code === 'invalid_type' && !yaml.has(issue.path)) return { file, line, message: `the prediction has no ${String(top)}`, hint };
    const where = top === 'answers' && key !== undefined ? `answers.${String(key)}: ` : '';
    const got = yaml.valueAt(issue.path);
    return {
      file,
      line,
      message: `${where}${issue.message}${issue.code === 'invalid_type' && got !== undefined ? ` (got ${echoed(got)})` : ''}`,
      hint,
    };
  });
}

/**
 * Each prediction is answered by the `ts run` block right after it: links the two (`answering`),
 * or an issue at the predict block. `blocks` are one chapter's, in order.
 */
export function linkPredictions(blocks: Block[]): BookIssue[] {
  const issues: BookIssue[] = [];
  blocks.forEach((block, index) => {
    if (block.kind !== 'predict' || !block.prediction) return;
    const next = blocks[index + 1];
    if (next?.kind === 'ts') {
      next.answering = block.prediction;
      return;
    }
    const instead = next
      ? `the next block is ${next.info.trim() ? `\`${next.info.trim()}\`` : 'a fence'} at line ${next.line}`
      : 'no block follows it in this chapter';
    issues.push({
      file: block.file,
      line: block.line,
      message: `a prediction is answered by the ts run block right after it, and ${instead}`,
      hint: `put a \`\`\`ts run block that calls ${answerCall(block.prediction)} right after this one`,
    });
  });
  return issues;
}

/**
 * A top-level `answer` declared in a chapter replaces the `answer()` global for the chapter's
 * later blocks (a notebook kernel shares declarations): a block that answers a prediction after it
 * could not say its answer. `declared` gives the top-level names of a ts block.
 */
export function hiddenAnswers(chapters: Chapter[], declared: (block: Block) => string[]): BookIssue[] {
  const issues: BookIssue[] = [];
  for (const chapter of chapters) {
    let hider: Block | undefined;
    for (const block of chapter.blocks) {
      if (block.kind !== 'ts') continue;
      if (declared(block).includes('answer')) hider ??= block;
      if (!block.answering || !hider) continue;
      issues.push({
        file: hider.file,
        line: hider.line,
        message: `block ${hider.id} declares \`answer\`, which hides answer() from block ${block.id} (${block.file}:${block.line}) that answers the prediction before it`,
        hint: 'give the value another name (const reply = …): top-level names are shared by the later blocks of the chapter',
      });
      break;
    }
  }
  return issues;
}
