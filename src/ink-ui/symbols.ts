import type { RowStatus } from './model.js';

/** The symbols carry the meaning (NO_COLOR, screen readers, copy-paste); colour only decorates. */
export const SYMBOL: Record<RowStatus, string> = { pending: '○', running: '▶', passed: '✓', failed: '✗', skipped: '-' };
export const COLOR: Record<RowStatus, string | undefined> = { pending: 'gray', running: 'cyan', passed: 'green', failed: 'red', skipped: 'gray' };
export const CHECKPOINT = '⚑';
