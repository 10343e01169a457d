// A transcript's credentials are blanked again as it is read (render publishes it, replay prints
// it): one written by hand or by an older runner may still hold one. The runner's own comes back
// unchanged. Secrets of every shape the redactor knows are generated and put where a reader sees
// them: a block's output, a command's stdout, a recorded call's result.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactShapes } from '../../src/runner/record/redact-shapes.js';
import { readTranscript, type Transcript } from '../../src/runner/record/transcript.js';

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'transcript', 'book.json');
const text = readFileSync(FIXTURE, 'utf8');

const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{24,60}$/);
/** A secret in one of the shapes a reader's output shows it, and the part of it that must not be shown. */
const secret = fc.oneof(
  fc.constant(null).map(() => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return { shown: pem, body: pem.split('\n')[1] as string };
  }),
  base64url.map((s) => ({ shown: `token: ${s}\n`, body: s })),
  base64url.map((s) => ({ shown: `Authorization: Bearer ${s}\n`, body: s })),
  fc.tuple(base64url, base64url).map(([claims, sig]) => ({ shown: `eyJhbGciOiJSUzI1NiJ9.eyJ${claims}.${sig}\n`, body: sig })),
  base64url.map((s) => ({ shown: `kubeadm join --token=${s}\n`, body: s })),
);

describe('reading a transcript', () => {
  it("gives back the runner's own transcript unchanged", async () => {
    expect(await readTranscript(FIXTURE)).toEqual(JSON.parse(text) as Transcript);
  }, 60_000);

  it('blanks a credential that a hand-edited transcript shows, wherever a reader would see it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'book-transcript-redact-'));
    const data = JSON.parse(text) as Transcript;
    const blocks = data.chapters.flatMap((c) => c.blocks);
    await fc.assert(
      fc.asyncProperty(secret, fc.nat(blocks.length - 1), fc.constantFrom('output', 'command', 'call'), async ({ shown, body }, at, where) => {
        const copy = JSON.parse(text) as Transcript;
        const block = copy.chapters.flatMap((c) => c.blocks)[at];
        if (!block) return;
        const command = block.commands[0];
        // A call whose result a reader sees as text: a file read (a string) or a command's output.
        const call = block.calls.find((c) => typeof c.result === 'string' || typeof (c.result as { stdout?: unknown } | undefined)?.stdout === 'string');
        if (where === 'output' || (where === 'command' && !command) || (where === 'call' && !call)) block.output.push({ stream: 'stdout', text: shown });
        else if (where === 'command' && command) command.stdout += shown;
        else if (call && typeof call.result === 'string') call.result += shown;
        else if (call) (call.result as { stdout: string }).stdout += shown;
        const file = path.join(dir, 'edited.json');
        writeFileSync(file, JSON.stringify(copy));
        const read = JSON.stringify(await readTranscript(file));
        expect(read).not.toContain(body);
      }),
      { numRuns: 12 },
    );
  }, 240_000);

  it('blanks by shape idempotently: a text redacted once is not changed by a second pass (a replay compares keys redacted once with keys read back)', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9+/_-]{8,40}={0,2}$/);
    const fragment = fc.oneof(
      token.map((t) => `Authorization: Bearer ${t}`),
      token.map((t) => `authorization: Basic ${t}`),
      token.map((t) => `Proxy-Authorization: ${t}`),
      token.map((t) => `Bearer ${t}`),
      token.map((t) => `token: ${t}`),
      token.map((t) => `"client-key-data": "${t}"`),
      token.map((t) => `--token=${t}`),
      token.map((t) => `--password ${t}`),
      token.map((t) => `docker login -u me -p ${t} reg`),
      token.map((t) => `sshpass -p ${t} ssh host`),
      token.map((t) => `DB_PASSWORD=${t}`),
      token.map((t) => `curl -u admin:${t} http://x/`),
      token.map((t) => `https://me:${t}@host/`),
      fc.tuple(token, token).map(([a, b]) => `eyJ${a}.eyJ${b}.${b}${a}`),
      token.map((t) => `${t}${t},admin,uid,"system:masters"`),
      fc.constant('-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n'),
      fc.constantFrom('echo hi', 'Basic usage', 'token', ' ', '\n', '"', "'", '«redacted»'),
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 6 }), fc.constantFrom(' ', '\n', '; ', '"', ''), (parts, glue) => {
        const once = redactShapes(parts.join(glue));
        expect(redactShapes(once)).toBe(once);
      }),
      { numRuns: 3000 },
    );
  });
});
