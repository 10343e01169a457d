import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { echoed, escapedCut } from '../echo.js';
import { MachineUnreachable } from './target.js';

/**
 * Where the reader's Docker is, found as the docker CLI finds it: DOCKER_HOST, else the context
 * DOCKER_CONTEXT or ~/.docker/config.json names, else the default socket (docker-modem's: the
 * user's Docker Desktop socket when it exists, else /var/run/docker.sock). Checked before any
 * client is made, so a value docker-modem would throw on, or silently read as something else
 * (`/var/run/docker.sock` as tcp://…:80), is refused with what to write instead.
 */
export interface DockerPlace {
  /** What the client is made from. */
  options: Docker.DockerOptions;
  /** For messages: the address with any password blanked, controls escaped, cut. */
  shown: string;
  /** Where it came from: `DOCKER_HOST`, `context NAME`, or `the default socket`. */
  from: string;
  /** Whether the reader chose it (DOCKER_HOST or a context) rather than the default. */
  chosen: boolean;
}

const FORMS = 'unix:///PATH/docker.sock, tcp://HOST:PORT or ssh://USER@HOST[:PORT]';

/** How long an address may be shown: longer ones are cut (a socket path is rarely over 100). */
const SHOWN_CHARS = 200;

/** A Docker address the reader wrote, as it may be shown: password blanked, controls escaped, cut. */
export function shownAddress(address: string): string {
  return escapedCut(address.replace(/^([a-z]+:\/\/[^/@\s:]*):[^/@\s]*@/i, '$1:«redacted»@'), SHOWN_CHARS);
}

function invalid(from: string, value: string, why: string, hint: string): MachineUnreachable {
  return new MachineUnreachable(`${from} is not a Docker address: "${shownAddress(value)}" ${why}`, hint);
}

/** Options for a client of the Docker at `address` (from DOCKER_HOST or a context). */
function parseAddress(address: string, from: string, env: NodeJS.ProcessEnv): Docker.DockerOptions {
  const hint = `write ${FORMS}${from === 'DOCKER_HOST' ? ', or unset DOCKER_HOST to use the default socket' : ''}`;
  if (address.startsWith('/')) throw invalid(from, address, '(a path with no scheme)', `write unix://${shownAddress(address)}`);
  const scheme = /^([a-z]+):\/\//.exec(address)?.[1];
  if (!scheme) throw invalid(from, address, '(no scheme://)', hint);
  if (/[\s\u0000-\u001f\u007f]/.test(address)) throw invalid(from, address, '(holds a space or a control character)', hint);
  if (scheme === 'unix') {
    const socketPath = address.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw invalid(from, address, '(the socket path must be absolute: unix:///…)', hint);
    return { socketPath };
  }
  if (scheme === 'npipe' && process.platform === 'win32') return { socketPath: address.slice('npipe://'.length) || '//./pipe/docker_engine' };
  if (!['tcp', 'http', 'https', 'ssh'].includes(scheme)) throw invalid(from, address, `(${scheme}:// is not one the runner reads)`, hint);
  let url: URL;
  try {
    url = new URL(scheme === 'tcp' ? `http${address.slice(3)}` : address);
  } catch {
    throw invalid(from, address, '(not a URL)', hint);
  }
  if (!url.hostname) throw invalid(from, address, '(no host)', hint);
  if (url.pathname !== '/' && url.pathname !== '') throw invalid(from, address, '(a path after the host; DOCKER_PATH_PREFIX is not read)', hint);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (scheme === 'ssh') {
    let username: string;
    try {
      username = decodeURIComponent(url.username);
    } catch {
      throw invalid(from, address, '(the user name holds a % that is not an escape)', hint);
    }
    return { protocol: 'ssh', host, port: url.port || 22, username: username || undefined, sshOptions: { readyTimeout: 10_000 } };
  }
  const port = url.port || (scheme === 'https' ? '2376' : scheme === 'http' ? '80' : '');
  if (!port) throw invalid(from, address, '(no port: tcp://HOST:PORT)', hint);
  const tls = scheme === 'https' || env.DOCKER_TLS_VERIFY === '1' || port === '2376';
  return { protocol: tls ? 'https' : 'http', host, port, ...(env.DOCKER_CERT_PATH ? certificates(env.DOCKER_CERT_PATH) : {}) };
}

/** DOCKER_CERT_PATH's three files, each checked as the client will read it. */
function certificates(dir: string): { ca: Buffer; cert: Buffer; key: Buffer } {
  const read = (file: string, shape: RegExp) => {
    const full = path.join(dir, file);
    let text: Buffer;
    try {
      if (!statSync(full).isFile()) throw new Error('not a file');
      text = readFileSync(full);
    } catch (error) {
      throw new MachineUnreachable(
        `DOCKER_CERT_PATH: cannot read ${echoed(full)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        'point DOCKER_CERT_PATH at the folder holding ca.pem, cert.pem and key.pem (docker context inspect shows where), or unset it',
      );
    }
    if (!shape.test(text.toString('latin1'))) {
      throw new MachineUnreachable(
        `DOCKER_CERT_PATH: ${echoed(full)} is not a PEM file (${shape.source.replaceAll('\\', '')})`,
        'point DOCKER_CERT_PATH at the folder docker-machine or your Docker setup wrote',
      );
    }
    return text;
  };
  return {
    ca: read('ca.pem', /-----BEGIN CERTIFICATE-----/),
    cert: read('cert.pem', /-----BEGIN CERTIFICATE-----/),
    key: read('key.pem', /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
  };
}

/** The docker CLI's current context: DOCKER_CONTEXT, else config.json's currentContext; `default` is none. */
function currentContext(env: NodeJS.ProcessEnv, home: string): { name: string; config: string } | undefined {
  const config = path.join(env.DOCKER_CONFIG || path.join(home, '.docker'));
  if (env.DOCKER_CONTEXT) return env.DOCKER_CONTEXT === 'default' ? undefined : { name: env.DOCKER_CONTEXT, config };
  try {
    const name = (JSON.parse(readFileSync(path.join(config, 'config.json'), 'utf8')) as { currentContext?: unknown }).currentContext;
    return typeof name === 'string' && name && name !== 'default' ? { name, config } : undefined;
  } catch {
    return undefined;
  }
}

/** A context's Docker address, from its meta.json (contexts/meta/SHA256(NAME)/meta.json, as the CLI stores it). */
function contextAddress(context: { name: string; config: string }): string {
  const from = `the docker context ${echoed(context.name)}`;
  const meta = path.join(context.config, 'contexts', 'meta', createHash('sha256').update(context.name).digest('hex'), 'meta.json');
  let host: unknown;
  try {
    host = (JSON.parse(readFileSync(meta, 'utf8')) as { Endpoints?: { docker?: { Host?: unknown } } }).Endpoints?.docker?.Host;
  } catch (error) {
    throw new MachineUnreachable(
      `${from} cannot be read (${echoed(meta)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      'pick a context that exists (docker context ls; docker context use NAME), or set DOCKER_HOST',
    );
  }
  if (typeof host !== 'string' || !host)
    throw new MachineUnreachable(`${from} names no Docker host (${echoed(meta)})`, 'set DOCKER_HOST, or fix the context (docker context inspect)');
  return host;
}

/** docker-modem's default socket: Docker Desktop's per-user one when it is there. */
function defaultSocket(home: string): string {
  const user = path.join(home, '.docker', 'run', 'docker.sock');
  try {
    accessSync(user, constants.F_OK);
    return user;
  } catch {
    return '/var/run/docker.sock';
  }
}

/** Where the reader's Docker is (see DockerPlace), or MachineUnreachable saying what to write. */
export function findReaderDocker(env: NodeJS.ProcessEnv = process.env, home = homedir()): DockerPlace {
  if (env.DOCKER_HOST) {
    return { options: parseAddress(env.DOCKER_HOST, 'DOCKER_HOST', env), shown: shownAddress(env.DOCKER_HOST), from: 'DOCKER_HOST', chosen: true };
  }
  const context = currentContext(env, home);
  if (context) {
    const address = contextAddress(context);
    const from = `context ${context.name}`;
    return { options: parseAddress(address, `the docker context ${echoed(context.name)}`, {}), shown: shownAddress(address), from, chosen: true };
  }
  const socket = defaultSocket(home);
  return { options: { socketPath: socket }, shown: `unix://${socket}`, from: 'the default socket', chosen: false };
}

/**
 * A Docker client of these options. docker-modem reads DOCKER_HOST (and its certificates) on every
 * client it makes, whatever it is given, and throws on a value it cannot parse: so the reader's
 * environment is hidden while a client of explicit options is made.
 */
export function makeDockerClient(options: Docker.DockerOptions): Docker {
  const saved = process.env.DOCKER_HOST;
  delete process.env.DOCKER_HOST;
  try {
    return new Docker(options);
  } finally {
    if (saved !== undefined) process.env.DOCKER_HOST = saved;
  }
}

/**
 * A Docker API call that must answer within `ms`: a Docker that accepts connections and never
 * answers (or stops halfway through an answer) otherwise hangs the command for ever.
 */
export async function within<T>(call: Promise<T>, ms: number, place: string, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new MachineUnreachable(
            `the Docker at ${place} did not answer ${what} within ${ms / 1000} s`,
            'is Docker starting, stuck or overloaded? check it with: docker info',
          ),
        ),
      ms,
    );
    timer.unref?.();
  });
  try {
    return await Promise.race([call, late]);
  } finally {
    clearTimeout(timer);
  }
}
