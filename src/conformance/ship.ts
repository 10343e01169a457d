import { spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type DockerTarget, readerDocker } from '../runner/targets/docker.js';
import { shellQuote, type Target } from '../runner/targets/target.js';

/** One image of vagrant/build-conformance.sh: a rootfs tarball and its `.meta` (the format of vagrant/images.sh). */
export interface ImageTarball {
  tar: string;
  /** The first is imported, the others tagged. */
  refs: string[];
  /** `docker import --change` instructions. */
  changes: string[];
  /** The tarball's size and modification time: an image imported from another build is imported again. */
  stamp?: string;
}

export interface ConformanceCache {
  dir: string;
  binary: string;
  /** The Ginkgo CLI, which runs e2e.test in parallel processes (absent from an older build). */
  ginkgo?: string;
  images: ImageTarball[];
}

/** Reads a `.meta` file's `ref` and `change` lines. */
export function parseMeta(text: string): { refs: string[]; changes: string[] } {
  const refs: string[] = [];
  const changes: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('ref ')) refs.push(line.slice(4).trim());
    else if (line.startsWith('change ')) changes.push(line.slice(7));
  }
  return { refs, changes };
}

/** What the build left in the cache folder; throws (with what to run) when it is incomplete. */
export async function readCache(dir: string): Promise<ConformanceCache> {
  const binary = path.join(dir, 'bin', 'e2e.test');
  const complete = await stat(path.join(dir, '.complete')).catch(() => undefined);
  if (!complete || !(await stat(binary).catch(() => undefined))) throw new Error(`no complete conformance build in ${dir}`);
  const images: ImageTarball[] = [];
  const imageDir = path.join(dir, 'images');
  for (const file of (await readdir(imageDir)).sort()) {
    if (!file.endsWith('.meta')) continue;
    const meta = parseMeta(await readFile(path.join(imageDir, file), 'utf8'));
    if (meta.refs.length === 0) continue;
    const tar = path.join(imageDir, file.replace(/\.meta$/, '.tar'));
    images.push({ tar, ...meta, stamp: identity(await stat(tar)) });
  }
  const ginkgo = path.join(dir, 'bin', 'ginkgo');
  const hasGinkgo = Boolean(await stat(ginkgo).catch(() => undefined));
  return { dir, binary, ginkgo: hasGinkgo ? ginkgo : undefined, images };
}

/** Where a node keeps what is copied to it (not the local target: its nodes see this host's files). */
export const NODE_DIR = '/var/lib/book-conformance';

/** A file's size and modification time (seconds), as `stat -c '%s-%Y'` says them on the node. */
function identity(info: { size: number; mtimeMs: number }): string {
  return `${info.size}-${Math.floor(info.mtimeMs / 1000)}`;
}

/** The files' identities on the node ('' when missing): a file the same there is not sent again. */
async function identitiesOn(target: Target, files: string[]): Promise<string[]> {
  const script = files.map((f) => `stat -c %s-%Y ${shellQuote(f)} 2>/dev/null || echo`).join('; ');
  const out = (await target.exec(script)).stdout.split('\n');
  return files.map((_, i) => (out[i] ?? '').trim());
}

/** A tar stream of host files, each at the top of the archive. */
function tarOf(files: string[]) {
  const args = ['-c', ...files.flatMap((f) => ['-C', path.dirname(f), path.basename(f)])];
  const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited ${code}: ${stderr.trim()}`))));
  });
  return { stream: child.stdout, done };
}

/**
 * Puts host files onto a node, at NODE_DIR/<basename>; answers each file's path on the node. The
 * local target's nodes read this host's files where they are; a docker node gets one tar through
 * the Docker API (putArchive); ssh and vagrant nodes a writeFile each.
 */
export async function shipFiles(target: Target, files: string[], log: (line: string) => void): Promise<string[]> {
  if (target.type === 'local') return files;
  const onNode = files.map((f) => `${NODE_DIR}/${path.basename(f)}`);
  const there = await identitiesOn(target, onNode);
  const missing: string[] = [];
  for (const [i, file] of files.entries()) {
    if (identity(await stat(file)) !== there[i]) missing.push(file);
  }
  if (missing.length === 0) return onNode;
  const mb = (await Promise.all(missing.map((f) => stat(f)))).reduce((sum, s) => sum + s.size, 0) / 1e6;
  log(`copying ${missing.length} file(s), ${mb.toFixed(0)} MB, to ${target.name}`);
  await target.exec(`mkdir -p ${NODE_DIR}`);
  if (target.type === 'docker') {
    const tar = tarOf(missing);
    const container = readerDocker().getContainer((target as DockerTarget).container);
    await Promise.all([container.putArchive(tar.stream, { path: NODE_DIR }), tar.done]);
  } else {
    for (const file of missing) await target.writeFile(`${NODE_DIR}/${path.basename(file)}`, await readFile(file), 0o755);
  }
  return onNode;
}

/** The label that says which tarball an image was imported from. */
export const STAMP_LABEL = 'build-a-minikube.conformance';

/**
 * bash that imports one image into the node's Docker unless its first ref is there from the same
 * tarball (the label), then tags the others.
 */
export function importScript(image: ImageTarball, tarOnNode: string): string {
  const [first, ...others] = image.refs as [string, ...string[]];
  const stamp = image.stamp ?? 'none';
  const changes = [...image.changes, `LABEL ${STAMP_LABEL}=${stamp}`].map((c) => `--change ${shellQuote(c)}`).join(' ');
  const has = `[ "$(docker image inspect -f ${shellQuote(`{{index .Config.Labels "${STAMP_LABEL}"}}`)} ${shellQuote(first)} 2>/dev/null)" = ${shellQuote(stamp)} ]`;
  const tags = others.map((r) => `docker tag ${shellQuote(first)} ${shellQuote(r)}`);
  return [`{ ${has} || docker import ${changes} ${shellQuote(tarOnNode)} ${shellQuote(first)} >/dev/null; }`, ...tags].join(' && ');
}

/** Every test image into the node's own Docker (the one its kubelet runs pods with). */
export async function loadImages(target: Target, images: ImageTarball[], log: (line: string) => void): Promise<void> {
  if (images.length === 0) return;
  const onNode = await shipFiles(
    target,
    images.map((i) => i.tar),
    log,
  );
  const script = images.map((image, i) => importScript(image, onNode[i] as string)).join('\n');
  const result = await target.exec(`set -e\n${script}`);
  if (result.exitCode !== 0) throw new Error(`cannot load the test images into ${target.name}'s Docker: ${result.stderr.trim()}`);
}
