import type { BookIssue } from './types.js';

/** How many problems a report lists: a generated book.yaml of 100,000 bad entries must not print 100,000. */
export const MAX_ISSUES = 50;

/** The number of problems each "and N more" line stands for. */
const folded = new WeakMap<BookIssue, number>();

/** How many problems `issues` stand for, counting what "and N more" lines fold in. */
export function countIssues(issues: readonly BookIssue[]): number {
  let count = 0;
  for (const issue of issues) count += folded.get(issue) ?? 1;
  return count;
}

/**
 * The first `max` problems, then one line saying how many more there are (at the first one left
 * out, so it still points into the file). Folding twice (book.yaml's, then the book's) counts right.
 * `unlisted`: problems found but not even made into issues (past the first ones, to save the work).
 */
export function limitIssues(issues: BookIssue[], unlisted = 0, max = MAX_ISSUES): BookIssue[] {
  const listed = issues.filter((issue) => !folded.has(issue));
  const total = countIssues(issues) + unlisted;
  if (total === listed.length && listed.length <= max) return issues;
  const kept = listed.slice(0, max);
  const more = total - kept.length;
  const at = listed[max] ?? issues.find((issue) => folded.has(issue)) ?? kept.at(-1) ?? { file: 'book.yaml', line: 1 };
  const summary: BookIssue = {
    file: at.file,
    line: at.line,
    message: `and ${more} more problem${more === 1 ? '' : 's'} (${total} in all; the first ${kept.length} are listed)`,
    hint: 'fix these first; running again lists the rest',
  };
  folded.set(summary, more);
  return [...kept, summary];
}
