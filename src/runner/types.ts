import { redactShapes } from './record/redact-shapes.js';

/** The shapes shared by the parser, the runner and the renderer. */

/** `predict`: a question the reader answers before the next block runs (docs/predictions.md); it does not run itself. */
export type BlockKind = 'ts' | 'sh' | 'file' | 'prose' | 'predict';

export interface BlockAttrs {
  run: boolean;
  name?: string;
  file?: string;
  mode?: number;
  timeoutMs?: number;
  retries?: number;
  /** `fails` alone → `{}`; `fails="text"` → `{ text }`. */
  fails?: { text?: string };
  /** `node=NAME`: the node an sh or file= block runs on (default: the first, k8s-master). */
  node?: string;
  /** `yaml predict`: the block asks a question that the `ts run` block right after it answers. */
  predict?: boolean;
}

/** A `yaml predict` block: a question, its possible answers, and why the cluster does what it does. */
export interface Prediction {
  /** The predict block's id: `name=` or `<chapter>#predict-<n>`. */
  id: string;
  file: string;
  /** 1-based line of the predict block's opening fence. */
  line: number;
  question: string;
  /** In the order the chapter lists them; keys match /^[a-z][a-z0-9-]*$/. */
  answers: { key: string; text: string }[];
  why?: string;
}

export interface Block {
  /** Unique in the book: `name=` or `<chapter>#<n>`. */
  id: string;
  chapterId: string;
  /** 1-based position among the chapter's executable blocks (run or file); 0 for prose. */
  index: number;
  kind: BlockKind;
  lang: string;
  info: string;
  code: string;
  /** The chapter file, relative to the book's parent directory (as the reader sees it). */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** 1-based line of the first line of code (fence + 1). */
  codeLine: number;
  attrs: BlockAttrs;
  timeoutMs: number;
  retries: number;
  /** A `predict` block's question and answers. */
  prediction?: Prediction;
  /** A `ts run` block right after a `predict` block: the prediction it answers with `answer(key)`. */
  answering?: Prediction;
}

/** Whether a block does something when the run reaches it (runs, or writes its file); prose and predictions do not. */
export function executable(block: Pick<Block, 'kind'>): boolean {
  return block.kind === 'ts' || block.kind === 'sh' || block.kind === 'file';
}

export interface Chapter {
  /** File stem, e.g. `03-api-server`. */
  id: string;
  number: number;
  title: string;
  file: string;
  source: string;
  /** Every fenced block, prose included, in document order. */
  blocks: Block[];
  /** sha256 of the file's text: noticed when a chapter changes after a checkpoint. */
  hash: string;
}

export interface BookConfig {
  title: string;
  /** Chapter stems in order; empty means order by number. */
  chapters: string[];
  defaults: { timeoutMs: number; retries: number };
  kubeconfig: string;
  /** The Kubernetes version to build the machine with; unset: the one vagrant/versions.sh pins. */
  kubernetes?: string;
  target: string;
  targets: Record<string, TargetConfig>;
}

/** A further node of an ssh target: its own host; port, user and key default to the target's. */
export interface SshNodeConfig {
  host: string;
  port: number;
  user: string;
  key?: string;
  /** The host key's pinned fingerprint (`SHA256:…`); unset: learned once into known_hosts. */
  hostKey?: string;
}

export type TargetConfig =
  | { type: 'local'; netns: string; runtimeDir: string; dockerSocket: string }
  | {
      type: 'ssh';
      host: string;
      port: number;
      user: string;
      key?: string;
      /** The host key's pinned fingerprint (`SHA256:…`); unset: learned once into known_hosts. */
      hostKey?: string;
      dockerSocket: string;
      runtimeDir: string;
      /** The other nodes of the cluster, a host each (docs/two-nodes.md); the target's host is k8s-master. */
      nodes?: Record<string, SshNodeConfig>;
    }
  | { type: 'vagrant'; dir: string; runtimeDir: string; dockerSocket: string }
  /** Nodes as containers on the reader's Docker (docs/docker-target.md). */
  | { type: 'docker'; machine: string; subnet: string; runtimeDir: string; dockerSocket: string };

export interface Book {
  dir: string;
  config: BookConfig;
  chapters: Chapter[];
  /** The machine's versions (src/runner/versions.ts): `${NAME}` in file blocks, env in sh blocks. */
  versions?: Partial<Record<string, string>>;
}

/** A mistake in the book, reported before anything runs on the machine. */
export interface BookIssue {
  file: string;
  line: number;
  message: string;
  /** What to write instead. */
  hint?: string;
}

export class BookError extends Error {
  readonly code = 'BOOK_INVALID';
  constructor(readonly issues: BookIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'BookError';
  }
}

export function formatIssue(issue: BookIssue): string {
  return `${issue.file}:${issue.line}: ${redactShapes(issue.message)}${issue.hint ? `\n  → ${redactShapes(issue.hint)}` : ''}`;
}
