// book.yaml's docker target and `target: auto`: what each key takes, the defaults, and which
// target auto picks (docker where a Docker daemon answers, else local as root on Linux, else a
// clear error), for generated books.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBookConfig } from '../../src/runner/book-config.js';
import { nodeAddress, nodeContainer } from '../../src/runner/targets/docker-machine.js';
import { resolveTargetName } from '../../src/runner/targets/index.js';
import { MachineUnreachable } from '../../src/runner/targets/target.js';
import type { Book, TargetConfig } from '../../src/runner/types.js';

const config = (yaml: string) => parseBookConfig('book.yaml', yaml);
const bookOf = (yaml: string): Book => {
  const parsed = config(yaml);
  expect(parsed.issues).toEqual([]);
  return { dir: '/nowhere/book', config: parsed.config, chapters: [] };
};
const rootOnLinux = process.platform === 'linux' && process.getuid?.() === 0;

describe('the docker target in book.yaml', () => {
  it('has defaults: machine book-minikube on 192.168.56.0/24, the nodes at .10 and .11', () => {
    const { config: c, issues } = config('target: d\ntargets:\n  d: { type: docker }\n');
    expect(issues).toEqual([]);
    const d = c.targets.d as Extract<TargetConfig, { type: 'docker' }>;
    expect(d).toMatchObject({ type: 'docker', machine: 'book-minikube', subnet: '192.168.56.0/24', runtimeDir: '/run/book-machine' });
    expect(nodeContainer(d, 'k8s-worker')).toBe('book-minikube-k8s-worker');
    expect(nodeAddress(d, 11)).toBe('192.168.56.11');
  });

  it('takes any private /24 and a plain machine name, and puts the nodes in it', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.constant(10), fc.integer({ min: 0, max: 255 })),
          fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 })),
          fc.tuple(fc.constant(192), fc.constant(168)),
        ),
        fc.integer({ min: 0, max: 255 }),
        fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/),
        ([a, b], c, machine) => {
          const parsed = config(`targets:\n  d: { type: docker, machine: "${machine}", subnet: "${a}.${b}.${c}.0/24" }\n`);
          expect(parsed.issues).toEqual([]);
          const d = parsed.config.targets.d as Extract<TargetConfig, { type: 'docker' }>;
          expect(nodeAddress(d, 10)).toBe(`${a}.${b}.${c}.10`);
          expect(nodeContainer(d, 'k8s-master')).toBe(`${machine}-k8s-master`);
        },
      ),
    );
  });

  it('refuses, at its line, a subnet that is not a private /24 and a machine name Docker would not take', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom('192.168.56.0/16', '192.168.56.1/24', '8.8.8.0/24', '192.168.300.0/24', '172.32.0.0/24', '192.169.1.0/24', '', 'fe80::/64', '-x'),
          fc.string().filter((s) => !/^\d+\.\d+\.\d+\.0\/24$/.test(s)),
        ),
        (subnet) => {
          const parsed = config(`title: t\ntargets:\n  d:\n    type: docker\n    subnet: ${JSON.stringify(subnet)}\n`);
          expect(parsed.issues).toHaveLength(1);
          expect(parsed.issues[0]).toMatchObject({ line: 5, hint: expect.stringContaining('subnet: 192.168.56.0/24') });
        },
      ),
    );
    for (const machine of ['Book', '-book', 'a b', 'a;rm', '']) {
      const parsed = config(`targets:\n  d: { type: docker, machine: ${JSON.stringify(machine)} }\n`);
      expect(parsed.issues.map((i) => i.line)).toEqual([2]);
    }
  });
});

describe('target: auto', () => {
  const yaml = 'targets:\n  mine: { type: docker, machine: m }\n  here: { type: local, netns: here }\n';

  it('is the default, and a target may be named auto on purpose', async () => {
    expect(bookOf('title: t\n').config.target).toBe('auto');
    const named = bookOf('target: auto\ntargets:\n  auto: { type: ssh, host: h }\n');
    expect(await resolveTargetName(named, undefined, async () => true)).toBe('auto');
  });

  it('picks the docker target where a Docker daemon answers', async () => {
    expect(await resolveTargetName(bookOf(yaml), undefined, async () => true)).toBe('mine');
  });

  it.skipIf(!rootOnLinux)('picks the local target where none answers and this is Linux as root', async () => {
    expect(await resolveTargetName(bookOf(yaml), undefined, async () => false)).toBe('here');
  });

  it('otherwise says what to install', async () => {
    const noLocal = bookOf('target: auto\ntargets:\n  mine: { type: docker }\n');
    const local = noLocal.config.targets.local;
    delete noLocal.config.targets.local;
    await expect(resolveTargetName(noLocal, undefined, async () => false)).rejects.toThrow(MachineUnreachable);
    await expect(resolveTargetName(noLocal, undefined, async () => false)).rejects.toMatchObject({
      hint: expect.stringMatching(/install and start Docker/),
    });
    expect(local?.type).toBe('local');
  });

  it('leaves a named target alone, without asking Docker', async () => {
    let asked = false;
    const answers = async () => {
      asked = true;
      return true;
    };
    expect(await resolveTargetName(bookOf(yaml), 'here', answers)).toBe('here');
    expect(asked).toBe(false);
  });
});
