import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Machine } from '../../src/runner/machine.js';
import { machineFilesScript, parseMachineFiles } from '../../src/runner/state/machine-files.js';
import { readDaemonsNative, readMachineFilesNative } from '../../src/runner/state/machine-files-native.js';
import type { Target } from '../../src/runner/targets/target.js';

/** The local target reads the machine's files with node:fs; the scripts serve ssh and vagrant. Both must agree. */
describe('native reads of the machine files agree with the scripts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'state-native-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(`${dir}/manifests`);
  mkdirSync(`${dir}/run/daemons`, { recursive: true });
  mkdirSync(`${dir}/run/logs`);
  writeFileSync(`${dir}/manifests/nginx.yaml`, 'kind: Pod\n');
  writeFileSync(`${dir}/manifests/kube-apiserver.yaml`, 'kind: Pod\nmetadata: {name: kube-apiserver}\n');
  writeFileSync(`${dir}/manifests/.nginx.yaml.book-1.tmp`, 'hidden: the kubelet ignores it, so do we\n');
  writeFileSync(`${dir}/run/dockerd.pid`, `${process.pid}\n`);
  writeFileSync(`${dir}/run/cri-dockerd.pid`, '999999999\n');
  writeFileSync(`${dir}/run/daemons/kubelet.log`, `${Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n')}\nthree\r\n\nfour\n`);
  writeFileSync(
    `${dir}/run/daemons/kubelet.json`,
    JSON.stringify({ name: 'kubelet', argv: ['kubelet', '--v=2'], env: {}, restarts: 3, startedAt: '2026-11-27T00:00:00Z' }),
  );
  writeFileSync(`${dir}/run/daemons/kubelet.pid`, `${process.pid}\n`);
  writeFileSync(
    `${dir}/run/daemons/gone.json`,
    JSON.stringify({ name: 'gone', argv: ['sleep', '1'], env: {}, restarts: 0, startedAt: '2026-11-27T00:00:00Z' }),
  );
  writeFileSync(`${dir}/run/logs/dockerd.log`, 'level=info msg="API listen"\n');

  it('manifests, provisioned daemons and log tails', async () => {
    const fromScript = parseMachineFiles(execFileSync('bash', ['-c', machineFilesScript(`${dir}/run`, `${dir}/manifests`)], { encoding: 'utf8' }));
    const native = await readMachineFilesNative(`${dir}/run`, `${dir}/manifests`);
    expect(native).toEqual(fromScript);
    expect(Object.keys(native.manifests)).toEqual(['manifest kube-apiserver.yaml', 'manifest nginx.yaml']);
    expect(native.logs.kubelet).toEqual(['three', 'four']);
  });

  it("the runner's daemon records", async () => {
    const bash: Target = {
      exec: async (command: string) => ({ ...(await promisify(execFile)('bash', ['-c', command])), exitCode: 0 }),
      runtimeDir: `${dir}/run`,
    } as unknown as Target;
    const fromScript = await new Machine(bash, { onDaemon: () => {}, signal: () => undefined }).daemons();
    const native = await readDaemonsNative(`${dir}/run`);
    expect(native).toEqual(fromScript);
    expect(native.map((d) => [d.name, d.running, d.restarts])).toEqual([
      ['gone', false, 0],
      ['kubelet', true, 3],
    ]);
  });
});
