import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `vagrant snapshot` for the checkpoints of the vagrant target: one VM snapshot per chapter. */
export function snapshotName(chapterId: string): string {
  return `book-${chapterId}`;
}

export async function vagrantSnapshotSave(dir: string, chapterId: string): Promise<string> {
  const name = snapshotName(chapterId);
  await run('vagrant', ['snapshot', 'save', '--force', name], { cwd: dir, timeout: 10 * 60_000 });
  return name;
}

export async function vagrantSnapshotRestore(dir: string, name: string): Promise<void> {
  await run('vagrant', ['snapshot', 'restore', '--no-provision', name], { cwd: dir, timeout: 10 * 60_000 });
}
