import { spawnSync } from 'node:child_process';

/**
 * The versions the machine is built with, as vagrant/versions.sh resolves them (the one place
 * they are pinned). `K8S_VERSION` picks another Kubernetes (env, or `kubernetes:` in book.yaml);
 * the rest follow from the script. File blocks may name them as `${NAME}`; sh blocks see them
 * as environment variables and ts blocks as `versions`.
 */
export const VERSION_NAMES = [
  'K8S_VERSION',
  'ETCD_VERSION',
  'ETCD_IMAGE_TAG',
  'CRI_DOCKERD_VERSION',
  'PAUSE_IMAGE_TAG',
  'PAUSE_IMAGE',
  'CNI_PLUGINS_VERSION',
  'COREDNS_VERSION',
  'COREDNS_IMAGE',
] as const;
export type VersionName = (typeof VERSION_NAMES)[number];
export type Versions = Record<VersionName, string>;

/** v1.37.2, v1.38.0-beta.0, v1.35.4-rc.1 */
export const K8S_VERSION_PATTERN = /^v1\.\d{1,3}\.\d{1,3}(-(alpha|beta|rc)\.\d{1,3})?$/;

/**
 * The Kubernetes minors vagrant/versions.sh can build the machine with: its other pins (etcd
 * 3.7.0, cri-dockerd 0.4, the pause image, CoreDNS) are kubeadm's for these, and chapter 0 refuses
 * anything older than 1.34. `last` is the minor after the pin, for its betas and release
 * candidates. test/unit/book-yaml-values.test.ts holds these to versions.sh's pin and to chapter 0.
 */
export const KNOWN_K8S_MINORS = { first: 34, last: 38 } as const;

/** `v1.34.x, v1.35.x, …, v1.38.x (any patch, and their -alpha.N, -beta.N and -rc.N)`: for messages. */
export function knownVersionsText(): string {
  const { first, last } = KNOWN_K8S_MINORS;
  const minors = Array.from({ length: last - first + 1 }, (_, i) => `v1.${first + i}.x`);
  return `${minors.join(', ')} (any patch, and their -alpha.N, -beta.N and -rc.N)`;
}

/** Why vagrant/versions.sh cannot build this version (undefined when it can): not one, or outside KNOWN_K8S_MINORS. */
export function unknownVersion(version: string): string | undefined {
  if (!K8S_VERSION_PATTERN.test(version)) return `"${version}" is not a Kubernetes version`;
  const minor = Number(version.split('.')[1]);
  if (minor < KNOWN_K8S_MINORS.first) return `Kubernetes ${version} is older than the book supports (1.${KNOWN_K8S_MINORS.first})`;
  if (minor > KNOWN_K8S_MINORS.last) return `Kubernetes ${version} is newer than vagrant/versions.sh knows (its pins are for up to 1.${KNOWN_K8S_MINORS.last})`;
  return undefined;
}

export class VersionError extends Error {
  readonly code = 'VERSION_UNKNOWN';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'VersionError';
  }
}

/** Sources versions.sh (with K8S_VERSION set when given) and reads the pinned names back. */
export function resolveVersions(versionsFile: string, k8sVersion?: string): Versions {
  if (k8sVersion !== undefined && !K8S_VERSION_PATTERN.test(k8sVersion))
    throw new VersionError(`"${k8sVersion}" is not a Kubernetes version`, 'write it as the module proxy does: v1.37.2, v1.35.4, v1.38.0-beta.0');
  // K8S_VERSION from the environment, or book.yaml's kubernetes: (its schema refuses the same at its line).
  const unknown = k8sVersion === undefined ? undefined : unknownVersion(k8sVersion);
  if (unknown)
    throw new VersionError(
      `${unknown}: vagrant/versions.sh knows ${knownVersionsText()}`,
      'pick one of those: K8S_VERSION=v1.35.4, or kubernetes: v1.35.4 in book.yaml',
    );
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (k8sVersion) env.K8S_VERSION = k8sVersion;
  const print = VERSION_NAMES.map((name) => `printf '%s\\0' "\${${name}}"`).join('; ');
  const result = spawnSync('bash', ['-c', `set -euo pipefail; source "$1"; ${print}`, 'versions', versionsFile], { encoding: 'utf8', env });
  // No bash on PATH is the host's trouble (HOST_TOOL_MISSING), not a version's.
  if (result.error) throw result.error;
  if (result.status !== 0) throw new VersionError(`cannot read ${versionsFile}: ${(result.stderr ?? '').trim()}`, 'is the package complete?');
  const values = result.stdout.split('\0');
  return Object.fromEntries(VERSION_NAMES.map((name, i) => [name, values[i] ?? ''])) as Versions;
}

/** `${NAME}` of a known version name → its value; every other text is left as it is. */
export function substituteVersions(text: string, versions: Partial<Versions> | undefined): string {
  if (!versions) return text;
  return text.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (whole, name: string) => (versions as Record<string, string | undefined>)[name] ?? whole);
}

/** Edit distance, for names one or two keystrokes away from a version name. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/**
 * `${NAME}`s in a file block's text that are not version names but almost are (a typo would
 * otherwise reach the machine literally). Other `${...}` (a shell script's `${HOME}`) stay legal.
 */
export function misspelledVersionNames(text: string): { line: number; name: string; suggestion: string }[] {
  const found: { line: number; name: string; suggestion: string }[] = [];
  text.split('\n').forEach((content, line) => {
    for (const match of content.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
      const name = match[1] ?? '';
      if ((VERSION_NAMES as readonly string[]).includes(name)) continue;
      const close = VERSION_NAMES.map((known) => ({ known, d: distance(name.toUpperCase(), known) })).sort((a, b) => a.d - b.d)[0];
      if (close && close.d <= 2) found.push({ line, name, suggestion: close.known });
    }
  });
  return found;
}
