import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandLine, commandWords } from '../../src/runner/targets/target.js';

// What `book machine shell -- …` hands to bash: locally as argv, over ssh as one line.
const words = ['printf', '%s|', 'a b', '{{.ID}} {{.Names}}', "it's", '$HOME', ''];

describe('machine shell commands', () => {
  it('keeps two or more arguments one word each, locally and as a remote line', () => {
    const [bash, ...args] = commandWords(words);
    expect(execFileSync(bash as string, args, { encoding: 'utf8' })).toBe("a b|{{.ID}} {{.Names}}|it's|$HOME||");
    expect(execFileSync('bash', ['-c', commandLine(words)], { encoding: 'utf8' })).toBe("a b|{{.ID}} {{.Names}}|it's|$HOME||");
  });

  it('takes a single argument as a command line for bash', () => {
    const [bash, ...args] = commandWords(['echo one && echo two']);
    expect(execFileSync(bash as string, args, { encoding: 'utf8' })).toBe('one\ntwo\n');
    expect(execFileSync('bash', ['-c', commandLine(['echo one && echo two'])], { encoding: 'utf8' })).toBe('one\ntwo\n');
  });
});
