import { describe, expect, it } from 'vitest';
import {
  demuxDockerLog,
  eventLines,
  involvedContainers,
  isMentioned,
  logLineTime,
  mentionedWords,
  readyzLines,
  telling,
} from '../../src/runner/diagnostics.js';
import { parseLogTails } from '../../src/runner/state/machine-files.js';
import type { Block } from '../../src/runner/types.js';

const now = Date.parse('2026-12-02T10:00:00Z');
const since = now - 30_000;
const block = { code: "await k8s.apps.createNamespacedDeployment({ body: web })\nawait waitFor(() => ready('web-frontend'))" } as Block;
const failure = { code: 'WAIT_TIMEOUT' as const, message: 'waitFor timed out', file: 'book/x.md', line: 3 };
const context = { block, failure, since };

describe('diagnostics: what the machine says about a failed block', () => {
  it("an object is the block's when the block names it or the prefix of its generated name", () => {
    const words = mentionedWords(context);
    expect(isMentioned('web-frontend', words)).toBe(true);
    expect(isMentioned('web-frontend-6d4cf56db6-x7k2p', words)).toBe(true);
    expect(isMentioned('coredns-fc744fdc8-z4q59', words)).toBe(false);
    // a short word (under 5 letters) is not a prefix that claims every object
    expect(isMentioned('body-thing-x', words)).toBe(false);
  });

  it("Events: the block's window first, warnings before normal ones, then older events of a named object", () => {
    const at = (s: number) => new Date(now - s * 1000);
    const lines = eventLines(
      [
        { type: 'Normal', reason: 'Scheduled', involvedObject: { kind: 'Pod', namespace: 'default', name: 'x-1' }, lastTimestamp: at(20), message: 'assigned' },
        {
          type: 'Warning',
          reason: 'Failed',
          involvedObject: { kind: 'Pod', namespace: 'default', name: 'x-1' },
          lastTimestamp: at(5),
          count: 3,
          message: 'ErrImagePull',
        },
        { type: 'Warning', reason: 'Old', involvedObject: { kind: 'Pod', name: 'other' }, lastTimestamp: at(600), message: 'not ours' },
        {
          type: 'Warning',
          reason: 'Earlier',
          involvedObject: { kind: 'Deployment', namespace: 'default', name: 'web-frontend' },
          lastTimestamp: at(300),
          message: 'named',
        },
      ],
      context,
      now,
    );
    expect(lines).toEqual([
      'Warning Failed pod/default/x-1 (×3) 5s ago: ErrImagePull',
      'Normal Scheduled pod/default/x-1 20s ago: assigned',
      'Warning Earlier deployment/default/web-frontend 5m ago: named',
    ]);
  });

  it('containers: made since the block started or of a pod it names, stopped ones first', () => {
    const list = [
      { Id: 'a', Names: ['/k8s_etcd_etcd-k8s-master_kube-system_u_0'], State: 'running', Created: (now - 3_600_000) / 1000 },
      { Id: 'b', Names: ['/k8s_web_web-frontend-6d4cf56db6-x7k2p_default_u_2'], State: 'exited', Created: (now - 3_600_000) / 1000 },
      { Id: 'c', Names: ['/k8s_POD_new-pod_default_u_0'], State: 'running', Created: (now - 10_000) / 1000 },
    ];
    expect(involvedContainers(list, context).map((c) => c.Id)).toEqual(['b', 'c']);
  });

  it('daemon logs: since the block started, errors and warnings or lines naming its objects', () => {
    const year = new Date(now).getUTCFullYear();
    expect(logLineTime('E1202 09:59:50.123456   20984 pod_workers.go:1338] "Error syncing pod"', new Date(now))).toBe(Date.UTC(year, 11, 2, 9, 59, 50, 123));
    expect(logLineTime('time="2026-12-02T09:59:40Z" level=info msg="x"')).toBe(Date.parse('2026-12-02T09:59:40Z'));
    // a December line read on 1 January is last year's
    expect(new Date(logLineTime('I1231 23:59:59.000000 1 x] y', new Date('2027-01-01T00:00:10Z')) ?? 0).getUTCFullYear()).toBe(2026);
    const lines = [
      'E1202 09:00:00.000000 1 old.go:1] "an error before the block"',
      'I1202 09:59:50.000000 1 ok.go:1] "all fine"',
      'I1202 09:59:51.000000 1 pods.go:1] "Pod update" pod="default/web-frontend-abc"',
      'E1202 09:59:52.000000 1 pull.go:1] "Failed to pull image"',
      '\tcontentType: application/vnd.kubernetes.protobuf',
      'time="2026-12-02T09:59:53Z" level=warning msg="Error getting v2 registry"',
    ];
    expect(telling(lines, block, since, new Date(now))).toEqual([lines[2], lines[3], lines[5]]);
  });

  it('reads tail -v output, docker log frames and the readyz verdict', () => {
    expect(parseLogTails('==> /run/m/daemons/kubelet.log <==\na\nb\n\n==> /run/m/logs/dockerd.log <==\nc\n')).toEqual(
      new Map([
        ['kubelet', ['a', 'b']],
        ['dockerd', ['c']],
      ]),
    );
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(body.length, 4);
      return Buffer.concat([header, body]);
    };
    expect(demuxDockerLog(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).toBe('out\nerr\n');
    expect(readyzLines('[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\nreadyz check failed\n')).toEqual([
      '[-]etcd failed: reason withheld',
      '2 check(s) ok',
      'readyz check failed',
    ]);
  });
});
