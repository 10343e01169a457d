import { describe, expect, it } from 'vitest';
import { createMarkdown } from '../../src/markdown/markdown.js';
import { parseChapter } from '../../src/runner/parse.js';
import { BookReader, chapterProse, renderProse } from '../../src/terminal/prose.js';

const chapter = (source: string) => parseChapter('book/01-x.md', '01-x', 1, source, { timeoutMs: 1000, retries: 0 }).chapter;
const plain = (markdown: string, width = 60) => renderProse(createMarkdown().parse(markdown, {}), { width, color: false });
const strip = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

describe('reading mode: a chapter rendered for the terminal', () => {
  it('splits the prose at the executable blocks; a shown-only fence stays in the prose', () => {
    const c = chapter(
      '# T\n\nfirst words\n\n```text\nshown only\n```\n\n```sh run name=a\necho a\n```\n\nbetween\n\n```sh run name=b\necho b\n```\n\nthe end\n',
    );
    expect([...chapterProse(c).before.keys()]).toEqual(['a', 'b']);
    const reader = new BookReader(() => ({ width: 60, color: false }));
    const a = reader.before(c, c.blocks.find((b) => b.id === 'a') as never).join('\n');
    expect(a).toContain('first words');
    expect(a).toContain('    shown only');
    expect(a).toMatch(/10 │ echo a$/);
    expect(a).not.toContain('between');
    const b = reader.before(c, c.blocks.find((b) => b.id === 'b') as never).join('\n');
    expect(b).toBe('between\n\n16 │ echo b');
    expect(reader.end(c)).toEqual(['the end']);
  });

  it('wraps paragraphs and list items to the width, with hanging indents', () => {
    const lines = plain('- one two three four five six seven eight nine ten eleven twelve\n- short\n\n1. first\n2. second\n', 30);
    expect(lines).toEqual(['• one two three four five six', '  seven eight nine ten eleven', '  twelve', '• short', '', '1. first', '2. second']);
    for (const line of plain('word '.repeat(100), 33)) expect(line.length).toBeLessThanOrEqual(33);
  });

  it('without colour: headings underlined, code in backticks, web links spelled out, quotes marked', () => {
    const lines = plain('# Title\n\n## Part\n\nSee `kubectl` and [the docs](https://kubernetes.io/docs/) or [chapter 2](02-api.md).\n\n> a quote\n', 80);
    expect(lines).toEqual([
      'Title',
      '=====',
      '',
      'Part',
      '----',
      '',
      'See `kubectl` and the docs (https://kubernetes.io/docs/) or chapter 2.',
      '',
      '│ a quote',
    ]);
  });

  it('with colour: emphasis and inline code are styled, code is highlighted, the text is the same', () => {
    const tokens = createMarkdown().parse('Run **this** with `sh`:\n\n```sh\necho "hi" # greet\n```\n', {});
    const coloured = renderProse(tokens, { width: 60, color: true });
    expect(coloured.join('\n')).toMatch(/\u001b\[1mthis\u001b\[22m/);
    expect(coloured.join('\n')).toMatch(/\u001b\[36msh\u001b\[39m/);
    expect(coloured.some((l) => /\u001b\[32m"hi"/.test(l))).toBe(true);
    expect(coloured.map(strip)).toEqual(['Run this with sh:', '', '    echo "hi" # greet']);
  });

  it('a table becomes one line per row', () => {
    expect(plain('| a | b |\n|---|---|\n| 1 | 2 |\n')).toEqual(['a │ b', '1 │ 2']);
  });
});
