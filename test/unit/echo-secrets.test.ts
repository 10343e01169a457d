// An error about book.yaml quotes what the reader wrote. A private key or a token pasted where a
// path goes (`key:`, `kubeconfig:`) must not come back whole in the error, nor a line of another
// file read as book.yaml (a link to the wrong file) as an "unknown key". Secrets and places are
// generated; the check is on the printed issue, as the reader sees it.
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { echoed, echoedKey } from '../../src/runner/echo.js';
import { formatError } from '../../src/runner/errors.js';
import { loadBook } from '../../src/runner/load-book.js';
import { BookError, formatIssue } from '../../src/runner/types.js';
import { writeBook } from '../helpers/book.js';

const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{24,60}$/);
/** A credential as a reader would paste it, and the part that must not be printed. */
const secret = fc.oneof(
  fc.constantFrom('ec', 'ed25519').map((type) => {
    const pem =
      type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
        : generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return { value: pem, body: pem.split('\n')[1] as string };
  }),
  fc.tuple(base64url, base64url).map(([claims, sig]) => ({ value: `eyJhbGciOiJSUzI1NiJ9.eyJ${claims}.${sig}`, body: sig })),
  base64url.map((s) => ({ value: `token: ${s}`, body: s })),
);

/** The printed issues of a book.yaml, as `book run` shows them. */
async function printed(yaml: string): Promise<string> {
  const dir = writeBook({ 'book.yaml': yaml, '01-a.md': '# A\n\n```sh run\ntrue\n```\n' });
  try {
    await loadBook(dir);
  } catch (error) {
    if (error instanceof BookError) return error.issues.map(formatIssue).join('\n');
    throw error;
  }
  throw new Error('book.yaml was accepted');
}

const block = (text: string, indent: string) =>
  `|\n${text
    .trimEnd()
    .split('\n')
    .map((l) => indent + l)
    .join('\n')}\n`;

describe('errors that quote book.yaml', () => {
  it('never print a credential pasted where a path goes, and still name the line', async () => {
    await fc.assert(
      fc.asyncProperty(secret, fc.constantFrom('ssh key', 'docker kubeconfig', 'title'), async ({ value, body }, place) => {
        const yaml =
          place === 'ssh key'
            ? `title: T\ntarget: s\ntargets:\n  s:\n    type: ssh\n    host: 127.0.0.1\n    port: 1\n    key: ${block(value, '      ')}`
            : place === 'docker kubeconfig'
              ? `title: T\ntarget: s\ntargets:\n  s:\n    type: ssh\n    host: 127.0.0.1\n    kubeconfig: ${block(value, '      ')}`
              : `title: [${JSON.stringify(value)}]\n`;
        const shown = await printed(yaml);
        expect(shown).toMatch(/book\.yaml:\d+: /);
        expect(shown).not.toContain(body);
      }),
      { numRuns: 30 },
    );
  });

  it('name unknown keys that are names, and only count the others', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/), base64url, async (name, hash) => {
        fc.pre(!['title', 'target', 'targets', 'defaults', 'chapters', 'kubernetes', 'nodes'].includes(name));
        // A line of /etc/shadow read as a key: `root:$y$j9T$SALT$HASH:19000:0:99999:7:::`.
        const shown = await printed(`title: T\n${name}: 1\n"root:$y$j9T$${hash}:19000:0:99999:7:::": 2\n`);
        expect(shown).toContain(`"${name}"`);
        expect(shown).not.toContain(hash);
        expect(shown).toMatch(/a key that is not a name/);
      }),
      { numRuns: 30 },
    );
  });

  it('echoed values are short, and blank credentials; every error message is blanked the same way', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fc.string()), fc.dictionary(fc.string(), fc.string())), (value) => {
        expect(echoed(value).length).toBeLessThanOrEqual(60 + ' (N characters)'.length + 8);
      }),
    );
    fc.assert(
      fc.property(secret, ({ value, body }) => {
        expect(echoed(value)).not.toContain(body);
        expect(formatError('BOOK_INVALID', `a message quoting ${value}`, `a hint quoting ${value}`)).not.toContain(body);
      }),
      { numRuns: 30 },
    );
    expect(echoedKey('kubeconfig')).toBe('"kubeconfig"');
    expect(echoedKey('a b')).toMatch(/not a name/);
  });
});
