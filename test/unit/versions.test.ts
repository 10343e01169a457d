// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about ${NAME} placeholders in book text
// The machine's versions come from vagrant/versions.sh alone; K8S_VERSION (env or book.yaml's
// kubernetes:) picks another Kubernetes, and file blocks name the values as ${NAME}.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBookConfig } from '../../src/runner/book-config.js';
import { parseChapter } from '../../src/runner/parse.js';
import { misspelledVersionNames, resolveVersions, substituteVersions, VersionError } from '../../src/runner/versions.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const versionsFile = join(root, 'vagrant/versions.sh');
const pinned = /^K8S_VERSION=\$\{K8S_VERSION:-(v[^}]+)\}$/m.exec(readFileSync(versionsFile, 'utf8'))?.[1];

describe('resolveVersions', () => {
  it('reads the pins of versions.sh, derived names included', () => {
    const v = resolveVersions(versionsFile);
    expect(v.K8S_VERSION).toBe(pinned);
    expect(v.ETCD_IMAGE_TAG).toBe(`${v.ETCD_VERSION.slice(1)}-0`);
    expect(v.PAUSE_IMAGE).toBe(`registry.k8s.io/pause:${v.PAUSE_IMAGE_TAG}`);
    for (const value of Object.values(v)) expect(value).not.toBe('');
  });

  it('takes another Kubernetes version, and leaves the rest to the script', () => {
    const v = resolveVersions(versionsFile, 'v1.35.4');
    expect(v.K8S_VERSION).toBe('v1.35.4');
    expect(v.ETCD_VERSION).toBe(resolveVersions(versionsFile).ETCD_VERSION);
  });

  it('refuses what is not a version, before any shell sees it', () => {
    for (const bad of ['1.35.4', 'v1.35', 'latest', 'v1.35.4; rm -rf /', '$(id)', 'v2.0.0']) {
      expect(() => resolveVersions(versionsFile, bad)).toThrow(VersionError);
    }
    expect(() => resolveVersions(versionsFile, 'v1.38.0-beta.0')).not.toThrow();
  });

  it('says which file it could not read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'versions-'));
    writeFileSync(join(dir, 'versions.sh'), 'exit 3\n');
    expect(() => resolveVersions(join(dir, 'versions.sh'))).toThrow(/versions\.sh/);
  });
});

describe('substituteVersions', () => {
  const v = resolveVersions(versionsFile);
  it('fills in the known names and leaves every other ${...} alone', () => {
    const text = 'image: registry.k8s.io/kube-apiserver:${K8S_VERSION}\nhome: ${HOME} $K8S_VERSION ${K8S_VERSION}';
    expect(substituteVersions(text, v)).toBe(`image: registry.k8s.io/kube-apiserver:${v.K8S_VERSION}\nhome: \${HOME} $K8S_VERSION ${v.K8S_VERSION}`);
    expect(substituteVersions(text, undefined)).toBe(text);
  });
});

describe('names in file blocks', () => {
  it('a near miss of a version name is a book error at its line; other names are not', () => {
    expect(misspelledVersionNames('a\nimage: x:${K8S_VERSOIN}\n${HOME} ${PATH} ${ETCD_IMAGE_TAG}')).toEqual([
      { line: 1, name: 'K8S_VERSOIN', suggestion: 'K8S_VERSION' },
    ]);
    const md = ['# T', '', '```yaml file=/etc/x.yaml', 'a: 1', 'image: etcd:${ETCD_IMAGE_TAGS}', '```', ''].join('\n');
    const { issues } = parseChapter('book/01-x.md', '01-x', 1, md, { timeoutMs: 1000, retries: 0 });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: 'book/01-x.md', line: 5 });
    expect(issues[0]?.hint).toContain('${ETCD_IMAGE_TAG}');
  });
});

describe('book.yaml kubernetes:', () => {
  it('takes a version and names the line of a bad one', () => {
    expect(parseBookConfig('book.yaml', 'kubernetes: v1.35.4\n').config.kubernetes).toBe('v1.35.4');
    const bad = parseBookConfig('book.yaml', 'title: x\nkubernetes: 1.35\n');
    expect(bad.issues).toEqual([
      expect.objectContaining({ line: 2, message: expect.stringContaining('kubernetes: must be a version such as v1.35.4 (got 1.35)') }),
    ]);
  });
});

describe("the book's manifests", () => {
  it('name every registry.k8s.io image by a version name, so versions.sh alone changes them', async () => {
    const { loadBook } = await import('../../src/runner/load-book.js');
    const book = await loadBook(join(root, 'book'));
    const literal = book.chapters
      .flatMap((c) => c.blocks.filter((b) => b.kind === 'file'))
      .flatMap((b) => [...b.code.matchAll(/registry\.k8s\.io\/[\w-]+:(?!\$\{)\S+/g)].map((m) => `${b.file}:${b.line}: ${m[0]}`));
    expect(literal).toEqual([]);
  });
});
