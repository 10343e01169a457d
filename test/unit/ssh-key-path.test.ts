// docs/targets.md's ssh example names its key `~/.ssh/id_ed25519`: the runner reads it, and hands it
// to `ssh -i`, from the home folder, as ssh itself would.
import { homedir } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBookConfig } from '../../src/runner/book-config.js';
import { expandHome } from '../../src/runner/targets/ssh.js';

describe('an ssh key path', () => {
  it('a leading ~/ is the home folder; any other path is left as written', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._/-]{0,30}$/), (rest) => {
        expect(expandHome(`~/${rest}`)).toBe(`${homedir()}/${rest}`);
        expect(expandHome(`/abs/${rest}`)).toBe(`/abs/${rest}`);
        expect(expandHome(`rel/~/${rest}`)).toBe(`rel/~/${rest}`);
        expect(expandHome(`~user/${rest}`)).toBe(`~user/${rest}`);
      }),
    );
  });

  it('book.yaml takes the example of docs/targets.md', () => {
    const { issues } = parseBookConfig('book.yaml', 'targets:\n  lab: { type: ssh, host: 10.0.0.5, user: ubuntu, key: ~/.ssh/id_ed25519 }\n');
    expect(issues).toEqual([]);
  });
});
