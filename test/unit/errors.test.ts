import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOf, ERROR_CODES, ERRORS, formatError } from '../../src/runner/errors.js';

const page = readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');

describe('error codes', () => {
  it('docs/errors.md lists every code with its exit status, and no other', () => {
    const listed = new Map([...page.matchAll(/^\| `([A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]));
    expect([...listed.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) expect(listed.get(code), code).toBe(ERRORS[code].exit);
  });

  it("an error's code is its own, else what it is, else BLOCK_FAILED", () => {
    expect(codeOf(Object.assign(new Error('x'), { code: 'MACHINE_BUSY' }))).toBe('MACHINE_BUSY');
    expect(codeOf(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('BLOCK_FAILED');
    expect(codeOf(Object.assign(new Error('x'), { name: 'WaitTimeout' }))).toBe('WAIT_TIMEOUT');
    expect(codeOf(undefined)).toBe('BLOCK_FAILED');
    expect(formatError('MACHINE_BUSY', 'held', 'wait')).toBe('book: [MACHINE_BUSY] held\n  → wait\n');
  });
});
