import MarkdownIt from 'markdown-it';

/**
 * The book's Markdown, one way for every reader of it: the parser (blocks), the site (HTML) and
 * the terminal (reading mode) take their tokens from here, and their highlighting from
 * `highlight.ts` (kept apart so that parsing a book does not load highlight.js).
 */

/** Raw HTML off, no linkify or typographer: what the chapter says is what every reader sees. */
export function createMarkdown(): MarkdownIt {
  return new MarkdownIt({ html: false, linkify: false, typographer: false });
}
