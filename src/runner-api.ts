/** The runner's public surface, for benchmarks and programmatic use. */

export { parseBookConfig } from './runner/book-config.js';
export { EventBus } from './runner/events.js';
export { compileChapters, runBook } from './runner/execute.js';
export { parseInfo, tokenize } from './runner/info-string.js';
export { loadBook } from './runner/load-book.js';
export { parseChapter } from './runner/parse.js';
export { createTarget } from './runner/targets/index.js';
export { BookError } from './runner/types.js';
