// Issue 27, "no bad input falls through": book.yaml refuses, at their line, the values the block
// rules and the docs refuse. A timeout is one rule for a block's timeout= and defaults.timeout
// (more than 0, at most 24 days); retries one range; kubernetes: a version vagrant/versions.sh
// can build; an ssh target's host, user and key nothing that could be an option, another word or
// a shell's business on `ssh … user@host`. Properties over generated values (fast-check), over src/.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBookConfig } from '../../src/runner/book-config.js';
import { MAX_DURATION_MS, parseTimeout } from '../../src/runner/durations.js';
import { parseInfo } from '../../src/runner/info-string.js';
import { sshHost } from '../../src/runner/schemas/book-yaml.js';
import { SshTarget } from '../../src/runner/targets/ssh.js';
import { KNOWN_K8S_MINORS, resolveVersions, unknownVersion, VersionError } from '../../src/runner/versions.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** FUZZ_RUNS=N for a long run (as test/unit/fuzz.test.ts); FUZZ_SEED=N repeats one. */
const runs = (n: number) => ({ numRuns: Number(process.env.FUZZ_RUNS ?? 0) || n, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) });

/** A block's verdict on timeout=VALUE (quoted, so any text reaches the duration rule). */
function blockTimeout(value: string): number | undefined {
  const parsed = parseInfo(`sh run timeout="${value.replace(/[\\"]/g, '\\$&')}"`, { file: 'f.md', line: 1 });
  return Array.isArray(parsed) ? undefined : parsed.attrs.timeoutMs;
}

/** book.yaml's verdict on defaults.timeout, and the lines of its issues. */
function yamlTimeout(scalar: string): { ms?: number; lines: number[] } {
  const { config, issues } = parseBookConfig('book.yaml', `title: t\ndefaults:\n  timeout: ${scalar}\n`);
  return issues.length ? { lines: issues.map((i) => i.line) } : { ms: config.defaults.timeoutMs, lines: [] };
}

const digits = fc.oneof(
  fc.nat({ max: 120 }).map(String),
  fc.nat().map(String),
  fc.constantFrom('0', '00', '2147483647', '2147483648', '35791', '35792', '99999999999999999999', '٣', '１'),
);
const unit = fc.constantFrom('ms', 's', 'm', 'h', 'd', 'us', 'S', 'M', 'sec', 'min', '');
/** Durations of every kind: 0, negative, huge, fractional, wrong units, spaces, compounds. */
const duration = fc.oneof(
  fc
    .tuple(fc.option(digits), fc.option(digits), fc.option(digits))
    .map(([m, s, ms]) => `${m === null ? '' : `${m}m`}${s === null ? '' : `${s}s`}${ms === null ? '' : `${ms}ms`}`),
  fc
    .tuple(fc.constantFrom('', '-', '+', ' ', '.', '0.'), digits, fc.constantFrom('', '.5', 'e3', ' '), unit, fc.constantFrom('', ' ', '\t'))
    .map((p) => p.join('')),
  fc.array(fc.constantFrom(...'0123456789msdh.-+ e'.split('')), { maxLength: 8 }).map((c) => c.join('')),
  fc.constantFrom('0s', '0ms', '0m', '0m0s0ms', '-1s', '1.5s', '1e3ms', '24h', '1d', '5 s', '1m1m', '30s1m', '0x10s', '35791m23s647ms', '35791m23s648ms'),
);

describe('a timeout: one rule for timeout= and defaults.timeout', () => {
  it('book.yaml and a block accept and refuse the same durations, with the same value', () => {
    fc.assert(
      fc.property(duration, (value) => {
        const block = blockTimeout(value);
        expect(block).toBe(parseTimeout(value));
        // Quoted in book.yaml: the same text.
        const quoted = yamlTimeout(JSON.stringify(value));
        expect(quoted.ms).toBe(block);
        if (block === undefined) expect(quoted.lines).toEqual([3]);
        // Plain in book.yaml (YAML may read it as a number, which no duration is), and plain in the block.
        if (/^[0-9a-z.+-]+$/i.test(value) && !value.startsWith('-')) {
          expect(yamlTimeout(value).ms).toBe(block);
          const plain = parseInfo(`sh run timeout=${value}`, { file: 'f.md', line: 1 });
          expect(Array.isArray(plain) ? undefined : plain.attrs.timeoutMs).toBe(block);
        }
      }),
      runs(1500),
    );
  });

  it('refuses 0 and past 24 days in both, and says why', () => {
    expect(yamlTimeout('0s')).toEqual({ lines: [3] });
    expect(parseBookConfig('book.yaml', 'defaults:\n  timeout: 0s\n').issues[0]?.message).toContain('must be more than 0');
    expect(parseInfo('sh run timeout=0s', { file: 'f.md', line: 1 })).toEqual([
      expect.objectContaining({ message: expect.stringContaining('a timeout of 0') }),
    ]);
    expect(blockTimeout(`${MAX_DURATION_MS}ms`)).toBe(MAX_DURATION_MS);
    expect(blockTimeout(`${MAX_DURATION_MS + 1}ms`)).toBeUndefined();
    expect(parseBookConfig('book.yaml', `defaults:\n  timeout: ${MAX_DURATION_MS + 1}ms\n`).issues[0]?.message).toContain('at most 24 days');
  });
});

describe('retries: one range for retries= and defaults.retries', () => {
  it('book.yaml and a block accept the same numbers', () => {
    const number = fc.oneof(fc.integer({ min: -5, max: 30 }), fc.double({ min: -2, max: 25, noNaN: true }), fc.constantFrom(2 ** 53, -0));
    fc.assert(
      fc.property(number, (n) => {
        const block = parseInfo(`sh run retries=${n}`, { file: 'f.md', line: 1 });
        const { config, issues } = parseBookConfig('book.yaml', `defaults:\n  retries: ${n}\n`);
        const blockValue = Array.isArray(block) ? undefined : block.attrs.retries;
        expect(issues.length === 0 ? config.defaults.retries : undefined).toBe(blockValue);
        for (const issue of issues) expect(issue.line).toBe(2);
      }),
      runs(500),
    );
  });
});

describe('kubernetes: a version vagrant/versions.sh knows', () => {
  const versionsFile = join(root, 'vagrant/versions.sh');
  const pinned = /^K8S_VERSION=\$\{K8S_VERSION:-(v[^}]+)\}$/m.exec(readFileSync(versionsFile, 'utf8'))?.[1] as string;

  it('knows the pin, the minors the book supports (chapter 0 refuses older), and the next one', () => {
    const pinnedMinor = Number(pinned.split('.')[1]);
    expect(KNOWN_K8S_MINORS.last).toBe(pinnedMinor + 1);
    const chapter0 = readFileSync(join(root, 'book/00-machine.md'), 'utf8');
    expect(chapter0).toContain(`k8sMinor >= ${KNOWN_K8S_MINORS.first}`);
    expect(unknownVersion(pinned)).toBeUndefined();
  });

  it('book.yaml refuses, at its line, every version outside them, listing the known ones', () => {
    const version = fc
      .tuple(
        fc.oneof(fc.integer({ min: 0, max: 60 }), fc.constantFrom(33, 34, 38, 39, 999)),
        fc.nat({ max: 999 }),
        fc.constantFrom('', '-alpha.0', '-beta.1', '-rc.2'),
      )
      .map(([minor, patch, pre]) => `v1.${minor}.${patch}${pre}`);
    fc.assert(
      fc.property(version, (v) => {
        const minor = Number(v.split('.')[1]);
        const known = minor >= KNOWN_K8S_MINORS.first && minor <= KNOWN_K8S_MINORS.last;
        const { config, issues } = parseBookConfig('book.yaml', `title: t\nkubernetes: ${v}\n`);
        expect(unknownVersion(v) === undefined).toBe(known);
        if (known) expect(config.kubernetes).toBe(v);
        else {
          expect(issues).toEqual([expect.objectContaining({ line: 2, message: expect.stringContaining(`v1.${KNOWN_K8S_MINORS.first}.x`) })]);
          expect(issues[0]?.message).toContain(`v1.${KNOWN_K8S_MINORS.last}.x`);
        }
      }),
      runs(500),
    );
  });

  it('K8S_VERSION from the environment gets the same answer (VERSION_UNKNOWN), before any shell sees it', () => {
    for (const v of ['v1.99.0', 'v1.20.3', `v1.${KNOWN_K8S_MINORS.first - 1}.9`]) {
      expect(() => resolveVersions(versionsFile, v)).toThrow(VersionError);
      try {
        resolveVersions(versionsFile, v);
      } catch (error) {
        expect((error as VersionError).code).toBe('VERSION_UNKNOWN');
        expect((error as Error).message).toContain(`v1.${KNOWN_K8S_MINORS.first}.x`);
      }
    }
    expect(resolveVersions(versionsFile, `v1.${KNOWN_K8S_MINORS.last}.0-beta.0`).K8S_VERSION).toBe(`v1.${KNOWN_K8S_MINORS.last}.0-beta.0`);
  });
});

/** What must never reach `ssh … user@host`: options, more words or lines, shell syntax, lookalikes. */
const hostile = fc.oneof(
  fc.constantFrom(
    '-oProxyCommand=sh -c "touch /tmp/pwned"',
    '-oProxyCommand=id',
    '-p',
    '--',
    '-',
    '- x',
    'a b',
    ' lab',
    'lab ',
    'lab\tx',
    'lab;id',
    'lab&&id',
    'lab|id',
    '$(id)',
    ['$', '{IFS}'].join(''),
    '`id`',
    'lab\nHost *',
    'lab\r',
    'lab\0',
    "lab'x",
    'lab"x',
    'lab\\x',
    'lab>x',
    'lab<x',
    'lab*',
    'lab?',
    'lab!',
    'lab#x',
    '１０.0.0.5',
    'lаb',
    'ex\u200bample.com',
    '\u2010oProxyCommand=id',
    '－oProxyCommand=id',
    'lab\u00a0x',
    'lab\u2028x',
    '',
  ),
  fc.tuple(fc.constantFrom('-', '-o', '--', '$(', '`', ';', ' ', '\n', '\0', '|', '&'), fc.string({ maxLength: 8 })).map(([a, b]) => `${a}${b}`),
  fc
    .tuple(
      fc.stringMatching(/^[a-z]{1,6}$/),
      fc.constantFrom(' ', ';', '$(', '`', '\n', '\0', '\t', '|', '&', '>', '\u200b', '\u00a0', "'", '"'),
      fc.string({ maxLength: 6 }),
    )
    .map((p) => p.join('')),
);

const FIELDS = ['host', 'user', 'key'] as const;

/** An ssh target (or one of its nodes) with one field set to `value`; the line of that field. */
function sshYaml(field: (typeof FIELDS)[number], value: string, onNode: boolean): { text: string; line: number } {
  const lines = ['title: t', 'target: lab', 'targets:', '  lab:', '    type: ssh', '    host: 10.0.0.5'];
  const quoted = JSON.stringify(value);
  if (!onNode) {
    if (field === 'host') lines[5] = `    host: ${quoted}`;
    else lines.push(`    ${field}: ${quoted}`);
    return { text: `${lines.join('\n')}\n`, line: field === 'host' ? 6 : 7 };
  }
  lines.push('    nodes:', '      k8s-worker:', '        host: 10.0.0.6');
  if (field === 'host') lines[8] = `        host: ${quoted}`;
  else lines.push(`        ${field}: ${quoted}`);
  return { text: `${lines.join('\n')}\n`, line: field === 'host' ? 9 : 10 };
}

describe('an ssh target: nothing on `ssh … user@host` but a host, a user and a key file', () => {
  it('refuses hostile values of every field, at their line, and never returns a config holding them', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), hostile, fc.boolean(), (field, value, onNode) => {
        // Some hostile-looking texts are plain: a user "lab" is one.
        fc.pre(!/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(value) || field === 'host');
        fc.pre(sshHost(value) === undefined || field !== 'host');
        fc.pre(!/^(?!-)[A-Za-z0-9_./~+@:,=-]{1,4096}$/.test(value) || field !== 'key');
        const { text, line } = sshYaml(field, value, onNode);
        const { config, issues } = parseBookConfig('book.yaml', text);
        expect(issues.length).toBeGreaterThan(0);
        expect(issues.map((i) => i.line)).toContain(line);
        expect(issues.find((i) => i.line === line)?.message).toContain(field);
        // The defaults, not a config with the value in it: no ssh target at all.
        expect(config.targets.lab).toBeUndefined();
        expect(Object.values(config.targets).some((t) => t.type === 'ssh')).toBe(false);
      }),
      runs(1500),
    );
  });

  it('takes host names, IPv4 and IPv6 (bracketed or not), POSIX users and key paths', () => {
    const host = fc.oneof(
      fc.domain(),
      fc.ipV4(),
      fc.ipV6(),
      fc.ipV6().map((v) => `[${v}]`),
      fc.constantFrom('localhost', 'k8s-lab', 'fe80::1%eth0', 'LAB_01.internal'),
    );
    const user = fc.oneof(fc.stringMatching(/^[a-z_][a-z0-9_-]{0,15}$/), fc.constantFrom('root', 'ec2-user', 'vagrant', 'first.last', '_svc'));
    const key = fc.oneof(
      fc.stringMatching(/^(~\/|\/)[A-Za-z0-9_.-]{1,12}(\/[A-Za-z0-9_.-]{1,12}){0,3}$/),
      fc.constantFrom('~/.ssh/id_ed25519', '/etc/book/keys/lab@2026', 'keys/id_rsa'),
    );
    fc.assert(
      fc.property(host, user, key, (h, u, k) => {
        const text = `targets:\n  lab:\n    type: ssh\n    host: ${JSON.stringify(h)}\n    user: ${JSON.stringify(u)}\n    key: ${JSON.stringify(k)}\n    nodes:\n      k8s-worker: { host: ${JSON.stringify(h)} }\n`;
        const { config, issues } = parseBookConfig('book.yaml', text);
        expect(issues).toEqual([]);
        const lab = config.targets.lab;
        expect(lab?.type === 'ssh' && lab.host).toBe(h.replace(/^\[(.*)\]$/, '$1'));
        expect(lab?.type === 'ssh' && lab.user).toBe(u);
      }),
      runs(500),
    );
  });

  it('puts -- before the destination on the ssh command line (defence in depth)', () => {
    for (const host of ['-oProxyCommand=id', '10.0.0.5']) {
      const target = new SshTarget({ name: 'lab', host, port: 22, user: '-lroot', runtimeDir: '/run/x', dockerSocket: '/run/x.sock', env: {}, key: '-i' });
      for (const command of [[], ['uname', '-a']]) {
        const argv = target.shellArgv(command, {});
        const dash = argv.indexOf('--');
        expect(dash).toBeGreaterThan(0);
        expect(argv[dash + 1]).toBe(`-lroot@${host}`);
        // Every option, the key's path included (-i's own argument), comes before it.
        expect(argv.slice(0, dash)).toEqual(['ssh', '-p', '22', '-o', 'StrictHostKeyChecking=accept-new', '-i', '-i', command.length ? '-T' : '-t']);
        expect(argv).toHaveLength(dash + 3);
      }
    }
  });
});
