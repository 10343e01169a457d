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
        fc
          .oneof(
            fc.tuple(fc.constant(10), fc.integer({ min: 0, max: 255 })),
            fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 })),
            fc.tuple(fc.constant(192), fc.constant(168)),
          )
          .filter(([a, b]) => takenBy(a, b) === undefined),
        fc.integer({ min: 0, max: 255 }),
        fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/).filter((m) => !DOCKER_NETWORKS.includes(m)),
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

/** The ranges the cluster uses, as the test knows them: the Service /12, the pod /16, the nodes' docker0. */
const takenBy = (a: number, b: number) =>
  a === 10 && b >= 96 && b <= 111 ? 'the Service range' : a === 10 && b === 244 ? 'the pod range' : a === 172 && b === 17 ? 'Docker bridge' : undefined;
const DOCKER_NETWORKS = ['bridge', 'host', 'none', 'default'];

describe('the docker target in book.yaml: what would clash', () => {
  it('refuses, at its line, a subnet inside a range the cluster uses, and one written with leading zeros', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.tuple(fc.constant(10), fc.integer({ min: 0, max: 255 })), fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }))),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        ([a, b], c, zeros) => {
          const written = zeros ? `${a}.${String(b).padStart(3, '0')}.${c}.0/24` : `${a}.${b}.${c}.0/24`;
          const parsed = config(`title: t\ntargets:\n  d:\n    type: docker\n    subnet: "${written}"\n`);
          const refused = (zeros && b < 100) || takenBy(a, b) !== undefined;
          expect(parsed.issues.map((i) => i.line)).toEqual(refused ? [5] : []);
          if (refused && !(zeros && b < 100)) expect(parsed.issues[0]?.message).toMatch(new RegExp(`overlaps .*${takenBy(a, b)}`));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("refuses the names of Docker's own networks as a machine", () => {
    for (const machine of DOCKER_NETWORKS) {
      const parsed = config(`title: t\ntargets:\n  d:\n    type: docker\n    machine: ${machine}\n`);
      expect(parsed.issues.map((i) => [i.line, i.message])).toEqual([[5, expect.stringMatching(/a network Docker makes itself/)]]);
    }
  });

  it('refuses two docker targets that would share a network with different addresses, at the second', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('m1', 'm2'),
        fc.constantFrom('m1', 'm2'),
        fc.constantFrom('192.168.60.0/24', '192.168.61.0/24'),
        fc.constantFrom('192.168.60.0/24', '192.168.61.0/24'),
        (m1, m2, s1, s2) => {
          const parsed = config(
            `title: t\ntargets:\n  a: { type: docker, machine: ${m1}, subnet: "${s1}" }\n  b:\n    type: docker\n    machine: ${m2}\n    subnet: "${s2}"\n`,
          );
          const clash = (m1 === m2) !== (s1 === s2);
          expect(parsed.issues.map((i) => i.line)).toEqual(clash ? [m1 === m2 ? 7 : 6] : []);
        },
      ),
    );
  });
});

describe('target: auto', () => {
  // What dockerAnswers says of the default socket (a Docker the reader did not choose).
  const place = { shown: 'unix:///var/run/docker.sock', from: 'the default socket', chosen: false };
  const yes = async () => ({ answers: true, place });
  const no = async () => ({ answers: false, place, why: 'connect ENOENT /var/run/docker.sock' });
  const yaml = 'targets:\n  mine: { type: docker, machine: m }\n  here: { type: local, netns: here }\n';

  it('is the default, and a target may be named auto on purpose', async () => {
    expect(bookOf('title: t\n').config.target).toBe('auto');
    const named = bookOf('target: auto\ntargets:\n  auto: { type: ssh, host: h }\n');
    expect(await resolveTargetName(named, undefined, yes)).toBe('auto');
  });

  it('picks the docker target where a Docker daemon answers', async () => {
    expect(await resolveTargetName(bookOf(yaml), undefined, yes)).toBe('mine');
  });

  it.skipIf(!rootOnLinux)('picks the local target where none answers and this is Linux as root', async () => {
    expect(await resolveTargetName(bookOf(yaml), undefined, no)).toBe('here');
  });

  it('otherwise says what to install', async () => {
    const noLocal = bookOf('target: auto\ntargets:\n  mine: { type: docker }\n');
    const local = noLocal.config.targets.local;
    delete noLocal.config.targets.local;
    await expect(resolveTargetName(noLocal, undefined, no)).rejects.toThrow(MachineUnreachable);
    await expect(resolveTargetName(noLocal, undefined, no)).rejects.toMatchObject({
      hint: expect.stringMatching(/install and start Docker/),
    });
    expect(local?.type).toBe('local');
  });

  it('leaves a named target alone, without asking Docker', async () => {
    let asked = false;
    const answers = async () => {
      asked = true;
      return { answers: true, place };
    };
    expect(await resolveTargetName(bookOf(yaml), 'here', answers)).toBe('here');
    expect(asked).toBe(false);
  });
});

describe('target: auto, the book’s own targets', () => {
  const place = { shown: 'unix:///var/run/docker.sock', from: 'the default socket', chosen: false };
  it('prefers a target of the book over the built-in one of the same type, whatever its name', async () => {
    const own = bookOf('targets:\n  local: { type: docker, machine: lm }\n');
    expect(await resolveTargetName(own, undefined, async () => ({ answers: true, place }))).toBe('local');
  });

  it('refuses, instead of falling back to this host, when the reader chose a Docker that does not answer', async () => {
    const chosen = { shown: 'tcp://127.0.0.1:1', from: 'DOCKER_HOST', chosen: true };
    const book = bookOf('title: t\n');
    await expect(resolveTargetName(book, undefined, async () => ({ answers: false, place: chosen, why: 'connect ECONNREFUSED' }))).rejects.toMatchObject({
      message: expect.stringMatching(/DOCKER_HOST names the Docker at tcp:\/\/127\.0\.0\.1:1, and it does not answer \(connect ECONNREFUSED\)/),
      hint: expect.stringMatching(/unset DOCKER_HOST/),
    });
  });
});
