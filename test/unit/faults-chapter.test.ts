// Chapter 14 breaks the cluster seven ways and undoes each fault (issue 32). Checked on the
// committed transcript of the real book: the cluster after the chapter is the cluster before it,
// as the drift check of `--from` sees clusters.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedChapter, Transcript } from '../../src/runner/record/transcript.js';
import { driftView } from '../../src/runner/resume.js';
import { diffSnapshots } from '../../src/runner/state/diff.js';
import type { Snapshot } from '../../src/runner/state/types.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const transcript = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'transcript', 'book.json'), 'utf8')) as Transcript;
const chapter = (id: string) => transcript.chapters.find((c) => c.id === id) as RecordedChapter;
const snapshotAfter = (id: string) => chapter(id).blocks.at(-1)?.state?.snapshot as Snapshot;
const items = (snapshot: Snapshot, source: 'kubernetes' | 'docker' | 'manifests' | 'daemons') => {
  const from = snapshot.sources[source];
  return from.available ? Object.keys(from.items) : [];
};

describe('chapter 14, Break it: every fault undone', () => {
  const before = snapshotAfter('13-joining-and-secrets');
  const after = snapshotAfter('14-break-it');

  it('leaves no drift: the same objects, manifests, daemons and running containers as before the chapter', () => {
    expect(diffSnapshots(driftView(before), driftView(after)).changes.map((c) => `${c.op} ${c.key}`)).toEqual([]);
  });

  it('really broke things on the way: pods were replaced and a mirror pod written again in between', () => {
    // Not a no-op chapter: the CoreDNS pod's name changed (the ReplicaSet made a new one).
    const coredns = (s: Snapshot) => items(s, 'kubernetes').filter((k) => k.startsWith('pod kube-system/coredns-'));
    expect(coredns(after)).toHaveLength(1);
    expect(coredns(after)).not.toEqual(coredns(before));
    // In the middle of the chapter, the scheduler's manifest was gone and two pods had no node.
    const middle = chapter('14-break-it').blocks.find((b) => b.id.endsWith('scheduler-stopped'))?.state?.snapshot as Snapshot;
    expect(items(middle, 'manifests')).not.toContain('manifest kube-scheduler.yaml');
    expect(items(before, 'manifests')).toContain('manifest kube-scheduler.yaml');
    const kubernetes = middle.sources.kubernetes;
    const unplaced = kubernetes.available ? Object.entries(kubernetes.items).filter(([k, f]) => k.startsWith('pod default/nginx-deployment-') && !f.node) : [];
    expect(unplaced).toHaveLength(2);
  });
});
