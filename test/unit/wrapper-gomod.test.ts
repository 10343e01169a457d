// vagrant/gen-wrapper-gomod.sh turns k8s.io/kubernetes's go.mod into the go.mod of a wrapper
// module that builds the Kubernetes commands offline. Its replace list must be exactly the staging
// modules (k8s.io/* required at v0.0.0) of the go.mod it reads, pinned to v0.<minor>.<patch>.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(root, 'vagrant/gen-wrapper-gomod.sh');
const fixture = (name: string) => join(root, 'test/fixtures/gomod', name);

function gen(...args: string[]) {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The `old => new version` pairs of the generated go.mod's replace block. */
function replaces(gomod: string): Array<[string, string]> {
  const block = gomod.match(/^replace \(\n([\s\S]*?)^\)/m)?.[1];
  if (block === undefined) return [];
  return block
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l): [string, string] => {
      const m = l.match(/^(\S+) => (\S+) (\S+)$/);
      if (!m?.[1] || !m[3] || m[1] !== m[2]) throw new Error(`unexpected replace line: ${l}`);
      return [m[1], m[3]];
    });
}

describe('gen-wrapper-gomod.sh', () => {
  it('replaces every staging module of the fixture, and nothing else', () => {
    const r = gen(fixture('kubernetes-v1.99.7.go.mod'), 'v1.99.7');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^module book\.local\/k8s-wrapper$/m);
    expect(r.stdout).toMatch(/^go 1\.26\.0$/m);
    expect(r.stdout).toMatch(/^require k8s\.io\/kubernetes v1\.99\.7$/m);
    const pairs = replaces(r.stdout);
    // Required at v0.0.0 (block, indirect block and single-line require); not klog/kube-openapi/
    // utils (real versions), not sample-controller (replaced upstream but never required).
    expect(pairs.map(([m]) => m)).toEqual([
      'k8s.io/api',
      'k8s.io/apimachinery',
      'k8s.io/client-go',
      'k8s.io/component-base',
      'k8s.io/cri-api',
      'k8s.io/kubelet',
      'k8s.io/streaming',
    ]);
    for (const [, v] of pairs) expect(v).toBe('v0.99.7');
  });

  it('follows a changed staging list (generated, never hard-coded)', () => {
    const before = replaces(gen(fixture('kubernetes-v1.99.7.go.mod'), 'v1.99.7').stdout).map(([m]) => m);
    const r = gen(fixture('kubernetes-v1.100.0.go.mod'), 'v1.100.0');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^go 1\.27\.0$/m);
    const pairs = replaces(r.stdout);
    const after = pairs.map(([m]) => m);
    expect(after).not.toEqual(before);
    expect(after).toContain('k8s.io/cri-client');
    expect(after).toContain('k8s.io/endpointslice');
    expect(after).not.toContain('k8s.io/streaming');
    expect(after).toHaveLength(8);
    for (const [, v] of pairs) expect(v).toBe('v0.100.0');
  });

  it('matches the staging modules of the fixture as read independently', () => {
    // An independent reading of the fixture: every `k8s.io/<x> v0.0.0` requirement.
    const text = readFileSync(fixture('kubernetes-v1.99.7.go.mod'), 'utf8');
    const expected = [...text.matchAll(/^\s*(?:require\s+)?(k8s\.io\/\S+)\s+v0\.0\.0(?:\s|$)/gm)].map((m) => m[1]).sort();
    const got = replaces(gen(fixture('kubernetes-v1.99.7.go.mod'), 'v1.99.7').stdout)
      .map(([m]) => m)
      .sort();
    expect(got).toEqual(expected);
  });

  it('picks up a staging module added to the go.mod', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gomod-'));
    try {
      const text = readFileSync(fixture('kubernetes-v1.99.7.go.mod'), 'utf8').replace(
        '\tk8s.io/kubelet v0.0.0\n',
        '\tk8s.io/kubelet v0.0.0\n\tk8s.io/brand-new v0.0.0\n',
      );
      writeFileSync(join(dir, 'go.mod'), text);
      const names = replaces(gen(join(dir, 'go.mod'), 'v1.99.7').stdout).map(([m]) => m);
      expect(names).toContain('k8s.io/brand-new');
      expect(names).toHaveLength(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a go.mod without staging modules, a bad version, missing arguments', () => {
    const none = gen(fixture('no-staging.go.mod'), 'v1.2.3');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no k8s.io/* v0.0.0 staging modules');
    const bad = gen(fixture('kubernetes-v1.99.7.go.mod'), '1.99');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('v1.MINOR.PATCH');
    expect(gen().code).toBe(2);
    expect(gen('/nonexistent/go.mod', 'v1.2.3').code).toBe(1);
  });
});
