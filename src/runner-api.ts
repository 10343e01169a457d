/** The runner's public surface, for benchmarks and programmatic use. */

export { EventBus } from './runner/events.js';
export { compileChapters, runBook } from './runner/execute.js';
export { loadBook } from './runner/load-book.js';
export { parseChapter } from './runner/parse.js';
export { createTarget } from './runner/targets/index.js';
