// Issue 28: the machine's lock is released when the session cannot be opened after taking it
// (src/commands/session.ts): here, the later chapters' checkpoints cannot be removed. On the FAKE
// machine (test/fakes/fake-target.ts), with the real `book run` command.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/commands/run.js';
import { FakeTarget } from '../fakes/fake-target.js';
import { writeBook } from '../helpers/book.js';

const machines: FakeTarget[] = [];
afterAll(() => {
  for (const m of machines) m.remove();
});

const YAML = 'title: Fake book\ntarget: fake\ntargets:\n  fake:\n    type: ssh\n    host: fake.invalid\n';

describe('the machine lock', () => {
  it('is released when the checkpoints of the chapters about to run cannot be removed, so the next run is not refused as busy', async () => {
    const dir = writeBook({ 'book.yaml': YAML, '01-one.md': '# One\n\n```sh run name=one\ntrue\n```\n' });
    const machine = new FakeTarget();
    machines.push(machine);
    const run = async () => {
      let err = '';
      const code = await runCommand({ book: dir, reporter: 'plain' }, { out: () => {}, err: (t) => (err += t) }, async () => machine);
      return { code, err };
    };
    // A folder with a file in it where chapter 1's checkpoint goes: removing it fails.
    const checkpoint = path.join(dir, '..', '.book', 'checkpoints', 'fake', '01-one.json');
    mkdirSync(checkpoint, { recursive: true });
    writeFileSync(path.join(checkpoint, 'in-the-way'), '');
    const first = await run();
    expect(first.code).not.toBe(0);
    expect(first.err).not.toMatch(/MACHINE_BUSY/);
    expect(existsSync(machine.local('/run/book-fake/book-run.lock'))).toBe(false);
    rmSync(checkpoint, { recursive: true });
    const second = await run();
    expect(second.err).not.toMatch(/MACHINE_BUSY/);
    expect(second.code, second.err).toBe(0);
  });
});
