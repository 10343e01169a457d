import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localTargetYaml, writeBook } from '../helpers/book.js';
import { canUseNetns, createNetns } from '../helpers/netns.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
const NETNS = `book-ckpt-${process.pid}`;
const RUNTIME = `/run/book-ckpt-${process.pid}`;
/** A slow command of this test's own (60 s and its pid in ms): killing it kills no one else's `sleep 60`. */
const SLEEP = `sleep 60.${String(process.pid).padStart(7, '0')}`;

function book(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const chapters = (slow = 'true') => ({
  'book.yaml': localTargetYaml(NETNS, RUNTIME),
  '01-one.md': "# One\n\n```ts run name=one\nstate.greeting = 'hello'\nawait machine.daemon('keeper', ['sleep', '900'])\n```\n",
  '02-two.md': `# Two\n\nProse.\n\n\`\`\`sh run name=two\n${slow}\n\`\`\`\n`,
  '03-three.md': "# Three\n\n```ts run name=three\nassert.equal(state.greeting, 'hello')\n```\n",
});

describe.skipIf(!canUseNetns)('checkpoints and --from, with drift detection', () => {
  let ns: ReturnType<typeof createNetns>;
  let dir: string;
  const ckpt = (id: string) => path.join(dir, '..', '.book', 'checkpoints', 't', `${id}.json`);
  const killDaemons = () =>
    spawnSync('bash', ['-c', `for p in ${RUNTIME}/daemons/*.pid; do [ -e "$p" ] && kill -KILL -- -"$(cat "$p")"; done; rm -rf ${RUNTIME}/daemons; true`]);

  beforeAll(() => {
    ns = createNetns(NETNS);
  });
  afterAll(() => {
    killDaemons();
    ns.remove();
    rmSync(RUNTIME, { recursive: true, force: true });
  });
  beforeEach(() => {
    killDaemons();
    dir = writeBook(chapters());
  });

  it('writes a checksummed checkpoint per passed chapter and resumes from one with state restored', () => {
    expect(book(['run', '--book', dir]).code).toBe(0);
    for (const id of ['01-one', '02-two', '03-three']) expect(statSync(ckpt(id)).mode & 0o777).toBe(0o600);
    const listed = JSON.parse(book(['checkpoints', '--book', dir, '--json']).stdout);
    expect(listed.checkpoints.map((c: { chapter: string; ok: boolean }) => [c.chapter, c.ok])).toEqual([
      ['01-one', true],
      ['02-two', true],
      ['03-three', true],
    ]);
    const saved = JSON.parse(readFileSync(ckpt('01-one'), 'utf8')).body;
    expect(saved.state).toEqual({ greeting: 'hello' });
    expect(saved.snapshot.sources.daemons.items['daemon keeper']).toBeDefined();
    const resumed = book(['run', '--book', dir, '--from', '3']);
    expect(resumed.stdout + resumed.stderr).toContain('1 passed, 0 failed');
    expect(resumed.code).toBe(0);
  });

  it('names a truncated or edited checkpoint and refuses to use it', () => {
    expect(book(['run', '--book', dir]).code).toBe(0);
    const good = readFileSync(ckpt('02-two'), 'utf8');
    // Cut in the middle (never just after a closing brace: that is the 'edited' case below).
    writeFileSync(ckpt('02-two'), good.slice(0, good.length / 2).replace(/[}\s]+$/, ''));
    let r = book(['run', '--book', dir, '--from', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${ckpt('02-two')} cannot be used: it is truncated`);
    writeFileSync(ckpt('02-two'), good.replace('"hello"', '"hellO"'));
    r = book(['run', '--book', dir, '--from', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('its checksum does not match');
    expect(book(['checkpoints', '--book', dir]).stdout).toContain('unusable — its checksum does not match');
    rmSync(ckpt('02-two'));
    r = book(['run', '--book', dir, '--from', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no checkpoint for 02-two on target t');
    expect(r.stderr).toContain('book run --to 2');
  });

  it('reports drift with a diff and writes nothing, unless --force', () => {
    expect(book(['run', '--book', dir, '--to', '2']).code).toBe(0);
    const before = readFileSync(ckpt('02-two'), 'utf8');
    killDaemons();
    const r = book(['run', '--book', dir, '--from', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the machine drifted since the checkpoint of 02-two');
    expect(r.stderr).toMatch(/[~-] daemon keeper/);
    // The summary line, once.
    expect(r.stderr.match(/\d+ to add, \d+ to change, \d+ to remove/g)).toHaveLength(1);
    expect(readFileSync(ckpt('02-two'), 'utf8')).toBe(before);
    expect(() => statSync(ckpt('03-three'))).toThrow();
    expect(book(['run', '--book', dir, '--from', '3', '--force']).code).toBe(0);
  });

  it('notices chapters whose code changed after their checkpoint; prose edits only get a note', () => {
    expect(book(['run', '--book', dir, '--to', '2']).code).toBe(0);
    writeFileSync(path.join(dir, '02-two.md'), readFileSync(path.join(dir, '02-two.md'), 'utf8').replace('Prose.', 'Better prose.'));
    let r = book(['run', '--book', dir, '--from', '3']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('the prose of 02-two changed since its checkpoint');
    expect(book(['run', '--book', dir, '--to', '2']).code).toBe(0);
    writeFileSync(path.join(dir, '02-two.md'), readFileSync(path.join(dir, '02-two.md'), 'utf8').replace('true', 'echo changed'));
    r = book(['run', '--book', dir, '--from', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('02-two changed since the checkpoint');
  });

  it('notices a machine recreated under its checkpoint', () => {
    expect(book(['run', '--book', dir, '--to', '2']).code).toBe(0);
    ns.remove();
    ns = createNetns(NETNS);
    const r = book(['run', '--book', dir, '--from', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('it was recreated');
  });

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`${signal} mid-block leaves earlier checkpoints readable, and --from works next`, async () => {
      // A sleep of this test's own (its pid in the duration), so only its own is killed below.
      dir = writeBook(chapters(SLEEP));
      const child = spawn(process.execPath, [BIN, 'run', '--book', dir], { env: { ...process.env, CI: 'true' } });
      let out = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('… two')) resolve();
        });
      });
      // A second run on the same machine meanwhile: refused, naming the holder.
      const second = book(['run', '--book', dir]);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`another book run (pid ${child.pid}`);
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      child.kill(signal);
      const code = await exited;
      if (signal === 'SIGINT') expect(code).toBe(130);
      spawnSync('pkill', ['-x', '-f', SLEEP]);
      expect(
        JSON.parse(book(['checkpoints', '--book', dir, '--json']).stdout).checkpoints.map((c: { chapter: string; ok: boolean }) => [c.chapter, c.ok]),
      ).toEqual([['01-one', true]]);
      writeFileSync(path.join(dir, '02-two.md'), '# Two\n\nProse.\n\n```sh run name=two\ntrue\n```\n');
      const resumed = book(['run', '--book', dir, '--from', '2']);
      expect(resumed.stderr).not.toContain('another book run');
      expect(resumed.code).toBe(0);
    });
  }
});
