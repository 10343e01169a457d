import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTargetYaml, writeBook } from '../helpers/book.js';
import { canUseNetns, createNetns } from '../helpers/netns.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
const NETNS = `book-rec-${process.pid}`;
const RUNTIME = `/run/book-rec-${process.pid}`;
const WORK = `/tmp/book-rec-${process.pid}`;

function book(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const CHAPTER = `# Secrets and polls

\`\`\`ts run name=write-secrets
import { randomBytes } from 'node:crypto'
const token = randomBytes(24).toString('hex')
await machine.writeFile('${WORK}/tokens.csv', \`\${token},admin,admin,system:masters\\n\`, { mode: 0o600 })
await machine.writeFile('${WORK}/admin.kubeconfig', \`users:\\n- name: admin\\n  user:\\n    token: \${token}\\n\`, { mode: 0o600 })
await machine.writeFile('${WORK}/public.txt', 'nothing secret here\\n')
await $.quiet\`test -n \${token}\`
\`\`\`

\`\`\`sh run name=leak
cat ${WORK}/tokens.csv
echo "Authorization: Bearer $(cut -d, -f1 ${WORK}/tokens.csv)"
printf -- '-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n'
echo "secret again: $(cut -d, -f1 ${WORK}/tokens.csv) at 10.0.0.7"
\`\`\`

\`\`\`ts run name=poll
let n = 0
await waitFor(async () => String(await $.quiet\`echo \${++n}\`) === '3', { timeout: '10s' })
console.log(String(await $\`echo started at \${new Date().toISOString()}\`))
\`\`\`

\`\`\`sh run name=must-fail fails="no such thing"
echo "no such thing" >&2; exit 4
\`\`\`

\`\`\`yaml file=${WORK}/manifest.yaml
kind: Pod
\`\`\`
`;

describe.skipIf(!canUseNetns)('book run --record on a real (namespaced) machine, then book replay', () => {
  let dir: string;
  let transcriptFile: string;
  let remove: () => void;

  beforeAll(() => {
    remove = createNetns(NETNS).remove;
    dir = writeBook({ 'book.yaml': localTargetYaml(NETNS, RUNTIME), '01-secrets.md': CHAPTER });
    transcriptFile = path.join(dir, '..', 'out', 'transcript.json');
  });

  afterAll(() => {
    remove?.();
    rmSync(WORK, { recursive: true, force: true });
    rmSync(RUNTIME, { recursive: true, force: true });
  });

  it('writes the transcript atomically, mode 0600, with every secret redacted', () => {
    const run = book(['run', '--book', dir, '--record', '--transcript', transcriptFile, '--reporter', 'plain']);
    expect(run.stderr).toContain('transcript:');
    expect(run.code).toBe(0);
    expect(statSync(transcriptFile).mode & 0o777).toBe(0o600);
    const text = readFileSync(transcriptFile, 'utf8');
    const token = readFileSync(`${WORK}/tokens.csv`, 'utf8').split(',')[0] as string;
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(text).not.toContain(token);
    expect(text).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    // What the reporter printed (a CI log) is blanked the same way.
    expect(run.stdout).not.toContain(token);
    expect(run.stdout).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    expect(run.stdout).toContain('Authorization: Bearer «redacted»');
    expect(run.stdout).toContain('secret again: «redacted» at 10.0.0.7');
    const transcript = JSON.parse(text);
    const blocks = Object.fromEntries(transcript.chapters[0].blocks.map((b: { id: string }) => [b.id, b]));
    expect(blocks['write-secrets'].calls.map((c: { path: string; args: unknown[] }) => c.args[1])).toEqual([
      '«redacted»',
      '«redacted»',
      'nothing secret here\n',
      undefined,
    ]);
    // Each target call carries the book's own call as its key, redacted as everything else.
    expect(blocks['write-secrets'].calls.map((c: { key: string }) => c.key)).toEqual([
      `writeFile ${WORK}/tokens.csv`,
      `writeFile ${WORK}/admin.kubeconfig`,
      `writeFile ${WORK}/public.txt`,
      '$ test -n «redacted»',
    ]);
    expect(blocks.leak.calls.map((c: { key: string }) => c.key)).toEqual([`sh ${blocks.leak.commands[0].command}`]);
    const out = blocks.leak.output.map((o: { text: string }) => o.text).join('');
    // The private file's whole content is the secret.
    expect(out.startsWith('«redacted»\nAuthorization')).toBe(true);
    expect(out).toContain('Authorization: Bearer «redacted»');
    expect(out).toContain('-----BEGIN PRIVATE KEY-----\n«redacted»\n-----END PRIVATE KEY-----');
    expect(out).toContain('secret again: «redacted» at 10.0.0.7');
    // The polls that said "not yet" are in the record, in order, with the one that said yes.
    const polls = blocks.poll.calls.filter((c: { path: string }) => c.path === 'exec');
    expect(polls.map((c: { key: string }) => c.key)).toEqual(['$ echo 1', '$ echo 2', '$ echo 3', expect.stringMatching(/^\$ echo started at /)]);
    // The runner's text around them is kept for the reader, not compared.
    expect(polls.map((c: { args: string[] }) => c.args[0])).toEqual([
      'set -o pipefail; echo 1',
      'set -o pipefail; echo 2',
      'set -o pipefail; echo 3',
      expect.stringMatching(/^set -o pipefail; echo started at /),
    ]);
    expect(blocks['must-fail'].expectedFailure).toContain('exit code 4');
    expect(blocks.poll.state?.diff).toBeDefined();
  });

  it('blanks the secrets in what the json reporter prints and in the JUnit file, with no --record, of a block that fails on them', () => {
    const failing = writeBook({
      'book.yaml': localTargetYaml(NETNS, RUNTIME),
      '01-fails.md': `# Fails

\`\`\`ts run name=write-key
import { randomBytes } from 'node:crypto'
await machine.writeFile('${WORK}/private.env', \`API_KEY=\${randomBytes(20).toString('base64url')}\\n\`, { mode: 0o600 })
\`\`\`

\`\`\`sh run name=fails-loudly
cat ${WORK}/private.env
cat ${WORK}/private.env >&2
exit 3
\`\`\`
`,
    });
    const junit = path.join(failing, '..', 'junit.xml');
    const run = book(['run', '--book', failing, '--reporter', 'json', '--junit', junit]);
    expect(run.code).toBe(1);
    const secret = readFileSync(`${WORK}/private.env`, 'utf8').trim().split('=')[1] as string;
    expect(secret.length).toBeGreaterThan(20);
    const xml = readFileSync(junit, 'utf8');
    expect(run.stderr).not.toContain(secret);
    for (const shown of [run.stdout, xml]) {
      expect(shown).not.toContain(secret);
      expect(shown).toContain('«redacted»');
    }
  });

  it('replays with no machine: new random token, new timestamp, same checks, same outcome', () => {
    remove();
    const replay = book(['replay', '--book', dir, '--transcript', transcriptFile, '--reporter', 'plain']);
    expect(replay.stdout).toContain('5 passed, 0 failed, 0 skipped');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('Authorization: Bearer «redacted»');
    remove = createNetns(NETNS).remove;
  });

  it('blanks, in what book replay prints, the secrets a replayed block prints afresh (a token in its code, a password in its error)', () => {
    // Generated credentials of two shapes, written into the book's code: the transcript holds them
    // blanked, but a replay runs the code again, so what it prints must pass the same relay.
    const b64 = (n: number) => randomBytes(n).toString('base64url');
    const jwt = `eyJ${b64(12)}.eyJ${b64(24)}.${b64(32)}`;
    const password = b64(18);
    const leaky = writeBook({
      'book.yaml': localTargetYaml(NETNS, RUNTIME),
      '01-leaky.md': `# Leaky\n\n\`\`\`ts run name=prints-token\nconsole.log('Authorization: Bearer ${jwt}')\nconsole.log(String(await $\`echo token=${jwt}\`))\n\`\`\`\n\n\`\`\`ts run name=throws-password fails="login"\nthrow new Error('login failed for password=${password}')\n\`\`\`\n`,
    });
    const recorded = path.join(leaky, '..', 'leaky.json');
    const run = book(['run', '--book', leaky, '--reporter', 'plain', '--transcript', recorded]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const reporter of ['plain', 'json']) {
      const replay = book(['replay', '--book', leaky, '--transcript', recorded, '--reporter', reporter]);
      expect(replay.code, replay.stdout + replay.stderr).toBe(0);
      for (const printed of [run.stdout, run.stderr, replay.stdout, replay.stderr]) {
        expect(printed).not.toContain(jwt);
        expect(printed).not.toContain(password);
      }
      expect(replay.stdout).toContain('«redacted»');
    }
  });

  it('fails the block whose call differs from the recording, and names it by its key', () => {
    const transcript = JSON.parse(readFileSync(transcriptFile, 'utf8'));
    const leak = transcript.chapters[0].blocks.find((b: { id: string }) => b.id === 'leak');
    leak.calls[0].key = leak.calls[0].key.replace('cat ', 'head ');
    const changed = `${transcriptFile}.changed.json`;
    writeFileSync(changed, JSON.stringify(transcript));
    const replay = book(['replay', '--book', dir, '--transcript', changed, '--reporter', 'plain']);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toMatch(
      /block leak \(.*01-secrets\.md:\d+\) made a call the transcript does not hold: exec: sh cat .*; the recording's next call was exec: sh head .*book run --record/s,
    );
  });

  it('replays when only the runner’s text around a call differs from the recording (its wrapper is not compared)', () => {
    const transcript = JSON.parse(readFileSync(transcriptFile, 'utf8'));
    for (const block of transcript.chapters[0].blocks)
      for (const call of block.calls)
        if (call.path === 'exec') call.args[0] = `# another runner's wrapper\n${call.args[0].replaceAll('set -o pipefail;', 'set -eu;')}`;
    const changed = `${transcriptFile}.rewrapped.json`;
    writeFileSync(changed, JSON.stringify(transcript));
    const replay = book(['replay', '--book', dir, '--transcript', changed, '--reporter', 'plain']);
    expect(replay.stdout).toContain('5 passed, 0 failed, 0 skipped');
    expect(replay.code).toBe(0);
  });
});
