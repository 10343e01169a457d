import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

// Host keys of ssh targets, checked as OpenSSH's StrictHostKeyChecking=accept-new does: a host
// seen for the first time is learned into known_hosts; a host whose key changed is refused.
// A key pinned in book.yaml (hostKey: SHA256:…) is checked instead, and nothing is learned.

/** Where learned keys go: BOOK_KNOWN_HOSTS, else ~/.ssh/known_hosts (OpenSSH's own file). */
export function defaultKnownHosts(env: NodeJS.ProcessEnv = process.env): string {
  return env.BOOK_KNOWN_HOSTS || path.join(homedir(), '.ssh', 'known_hosts');
}

/** known_hosts names a host on port 22 as `host`, on another port as `[host]:port`. */
export function hostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's fingerprint of a key: `SHA256:` and unpadded base64, as ssh-keygen -lf prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** A key blob's type (`ssh-ed25519`, `ecdsa-sha2-nistp256`…): its first string. */
export function keyType(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

/** Whether one known_hosts host pattern (plain, `[host]:port`, or hashed `|1|salt|hash`) names this host. */
function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return pattern === name;
}

export type HostKeyVerdict = { ok: true; learned?: string } | { ok: false; message: string; hint: string };

/** Checks a host key against a pinned fingerprint, or known_hosts (learning a new host there). */
export function verifyHostKey(options: { host: string; port: number; key: Buffer; pinned?: string; knownHosts?: string }): HostKeyVerdict {
  const name = hostName(options.host, options.port);
  const seen = fingerprint(options.key);
  if (options.pinned) {
    if (options.pinned.replace(/=+$/, '') === seen) return { ok: true };
    return {
      ok: false,
      message: `the host key of ${name} is ${seen}, not the ${options.pinned} pinned in book.yaml`,
      hint: `if the host was reinstalled, pin its new key (hostKey: in the target; ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host shows it); otherwise do not connect: someone may be in the middle`,
    };
  }
  const file = options.knownHosts ?? defaultKnownHosts();
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const type = keyType(options.key);
  const blob = options.key.toString('base64');
  let known = false;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
    const [hosts, lineType, lineKey] = fields;
    if (!hosts || !lineType || !lineKey || marker === '@cert-authority') continue;
    if (!hosts.split(',').some((p) => patternMatches(p, name))) continue;
    if (marker === '@revoked') {
      if (lineKey === blob)
        return { ok: false, message: `the host key of ${name} is revoked in ${file}:${i + 1}`, hint: 'do not connect; ask who runs the host for its new key' };
      continue;
    }
    if (lineType === type && lineKey === blob) return { ok: true };
    known = true;
  }
  if (known)
    return {
      ok: false,
      message: `the host key of ${name} changed: it is now ${seen} (${type}), not the key ${file} holds for it`,
      hint: `if the host was reinstalled, forget its old key: ssh-keygen -R '${name}' -f ${file}, then connect again; otherwise do not connect: someone may be in the middle`,
    };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const separator = text && !text.endsWith('\n') ? '\n' : '';
  appendFileSync(file, `${separator}${name} ${type} ${blob}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { ok: true, learned: `${name} ${seen} → ${file}` };
}
