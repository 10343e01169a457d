import { Chalk, type ChalkInstance } from 'chalk';
import type Token from 'markdown-it/lib/token.mjs';
import wrapAnsi from 'wrap-ansi';
import { createMarkdown } from '../markdown/markdown.js';
import type { Block, Chapter } from '../runner/types.js';
import { highlightLines } from './highlight.js';

/**
 * Reading mode's text: a chapter's prose rendered for the terminal from the markdown-it tokens the
 * site renders too: headings, paragraphs wrapped to the width, emphasis, inline code, lists,
 * quotes and code, highlighted. Without colour (NO_COLOR, a pipe, a screen reader) it is plain
 * text that still reads well: `code` keeps its backticks, headings are underlined with `=`/`-`.
 */

export interface ProseOptions {
  width: number;
  color: boolean;
}

const markdown = createMarkdown();

/** Before each executable block, the tokens since the previous one; `end`: what follows the last. */
export interface ChapterProse {
  before: Map<string, Token[]>;
  end: Token[];
}

/** Splits a chapter's tokens at its executable blocks and predictions (the fences the parser made blocks of). */
export function chapterProse(chapter: Chapter): ChapterProse {
  const tokens = markdown.parse(chapter.source, {});
  const runAt = new Map(chapter.blocks.filter((b) => b.kind !== 'prose').map((b) => [b.line, b]));
  const before = new Map<string, Token[]>();
  let pending: Token[] = [];
  for (const token of tokens) {
    const block = token.type === 'fence' && token.map ? runAt.get(token.map[0] + 1) : undefined;
    if (block) {
      before.set(block.id, pending);
      pending = [];
    } else pending.push(token);
  }
  return { before, end: pending };
}

function inline(tokens: Token[], chalk: ChalkInstance): string {
  let out = '';
  const styles: ((s: string) => string)[] = [];
  const links: string[] = [];
  const styled = (text: string) => styles.reduce((s, style) => style(s), text);
  const colour = chalk.level > 0;
  for (const t of tokens) {
    switch (t.type) {
      case 'text':
        out += styled(t.content);
        break;
      case 'code_inline':
        out += colour ? chalk.cyan(t.content) : `\`${t.content}\``;
        break;
      case 'strong_open':
        styles.push(colour ? chalk.bold : (s) => s);
        break;
      case 'em_open':
        styles.push(colour ? chalk.italic : (s) => s);
        break;
      case 'strong_close':
      case 'em_close':
        styles.pop();
        break;
      case 'link_open':
        links.push(t.attrGet('href') ?? '');
        break;
      case 'link_close': {
        // A web address is said after the link's text; the book's own links need none.
        const href = links.pop();
        if (href && /^https?:/.test(href)) out += colour ? chalk.dim(` (${href})`) : ` (${href})`;
        break;
      }
      case 'softbreak':
        out += ' ';
        break;
      case 'hardbreak':
        out += '\n';
        break;
      case 'image':
        out += `[image: ${t.content}]`;
        break;
      default:
        if (t.content) out += styled(t.content);
    }
  }
  return out;
}

const wrap = (text: string, width: number) => wrapAnsi(text, Math.max(20, width), { hard: true, trim: true }).split('\n');

/** Tokens → terminal lines, wrapped to `width`; consecutive blank lines never appear. */
export function renderProse(tokens: Token[], options: ProseOptions): string[] {
  const chalk = new Chalk({ level: options.color ? 1 : 0 });
  const lines: string[] = [];
  const blank = () => {
    if (lines.length > 0 && lines.at(-1) !== '') lines.push('');
  };
  // Where text starts: list items and quotes indent what is inside them.
  const lists: { ordered: boolean; n: number }[] = [];
  let quote = 0;
  let marker: string | undefined;
  const indent = () => '  '.repeat(Math.max(0, lists.length - 1)) + (lists.length > 0 ? '  ' : '') + (quote > 0 ? '│ '.repeat(quote) : '');
  const put = (text: string) => {
    const pad = indent();
    const first = marker ? pad.slice(0, Math.max(0, pad.length - marker.length)) + marker : pad;
    wrap(text, options.width - pad.length).forEach((line, i) => {
      lines.push((i === 0 ? first : pad) + line);
    });
    marker = undefined;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    switch (t.type) {
      case 'heading_open': {
        const text = inline(tokens[i + 1]?.children ?? [], chalk);
        blank();
        if (chalk.level > 0) lines.push(t.tag === 'h1' ? chalk.bold.underline(text) : chalk.bold(text));
        else {
          lines.push(text);
          if (t.tag === 'h1' || t.tag === 'h2') lines.push((t.tag === 'h1' ? '=' : '-').repeat(Math.min(text.length, options.width)));
        }
        lines.push('');
        i += 2;
        break;
      }
      case 'paragraph_open': {
        put(inline(tokens[i + 1]?.children ?? [], chalk));
        // A tight list's paragraphs are hidden: no blank line between its items.
        if (!t.hidden) lines.push('');
        i += 2;
        break;
      }
      case 'bullet_list_open':
      case 'ordered_list_open':
        lists.push({ ordered: t.type === 'ordered_list_open', n: Number(t.attrGet('start') ?? 1) });
        break;
      case 'bullet_list_close':
      case 'ordered_list_close':
        lists.pop();
        blank();
        break;
      case 'list_item_open': {
        const list = lists.at(-1);
        if (list) marker = list.ordered ? `${list.n++}. ` : '• ';
        break;
      }
      case 'blockquote_open':
        quote++;
        break;
      case 'blockquote_close':
        quote--;
        break;
      case 'fence':
      case 'code_block': {
        const lang = t.info.trim().split(/\s+/)[0] ?? '';
        blank();
        for (const line of highlightLines(t.content, lang, chalk)) lines.push(`${indent()}    ${line}`);
        lines.push('');
        break;
      }
      case 'hr':
        blank();
        lines.push(chalk.dim('─'.repeat(Math.min(40, options.width))));
        lines.push('');
        break;
      case 'table_open': {
        const rows: string[][] = [];
        for (i++; i < tokens.length && tokens[i]?.type !== 'table_close'; i++) {
          const cell = tokens[i] as Token;
          if (cell.type === 'tr_open') rows.push([]);
          if (cell.type === 'inline') rows.at(-1)?.push(inline(cell.children ?? [], chalk));
        }
        blank();
        for (const row of rows) put(row.join(chalk.dim(' │ ')));
        lines.push('');
        break;
      }
    }
  }
  while (lines.at(-1) === '') lines.pop();
  return lines;
}

/** A block's code as reading mode shows it: its .md line numbers and the code, highlighted. */
export function blockCodeLines(block: Block, options: ProseOptions): string[] {
  const chalk = new Chalk({ level: options.color ? 1 : 0 });
  const code = highlightLines(block.code, block.lang, chalk);
  const width = String(block.codeLine + code.length).length;
  return code.map((line, i) => `${chalk.dim(`${String(block.codeLine + i).padStart(width)} │`)} ${line}`);
}

/** The prose before each block of the chapters a run reads, rendered once per chapter when first asked. */
export class BookReader {
  private readonly chapters = new Map<string, ChapterProse>();

  constructor(private readonly options: () => ProseOptions) {}

  private prose(chapter: Chapter): ChapterProse {
    let prose = this.chapters.get(chapter.id);
    if (!prose) {
      prose = chapterProse(chapter);
      this.chapters.set(chapter.id, prose);
    }
    return prose;
  }

  /** The prose since the previous block, alone (before a prediction: its question is asked, not shown as YAML). */
  leading(chapter: Chapter, block: Block): string[] {
    return renderProse(this.prose(chapter).before.get(block.id) ?? [], this.options());
  }

  /** What leads to `block`: the prose since the previous block, then the block's code. */
  before(chapter: Chapter, block: Block): string[] {
    const options = this.options();
    const text = renderProse(this.prose(chapter).before.get(block.id) ?? [], options);
    return [...text, ...(text.length > 0 ? [''] : []), ...blockCodeLines(block, options)];
  }

  /** The prose after a chapter's last block. */
  end(chapter: Chapter): string[] {
    return renderProse(this.prose(chapter).end, this.options());
  }
}
