// The reader's Docker as a reader gets it wrong, or as it misbehaves: DOCKER_HOST values of every
// kind, docker contexts, and Dockers that accept and never answer, answer halfway, answer errors or
// answer nonsense. Each ends in a clear MachineUnreachable (exit 3) naming where and what to do,
// never a hang, an [INTERNAL] error or a password. The misbehaving Dockers are fakes of the test's
// own (a real Docker cannot be made to misbehave so), on Unix sockets under a temp folder and on
// loopback ports: nothing leaves the box.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findReaderDocker, shownAddress } from '../../src/runner/targets/reader-docker.js';
import { MachineUnreachable } from '../../src/runner/targets/target.js';
import { writeBook } from '../helpers/book.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
const work = mkdtempSync(path.join(tmpdir(), 'book-reader-docker-'));
const DOCKER_BOOK = 'title: t\ntarget: d\ntargets:\n  d: { type: docker, machine: rev-one, subnet: 192.168.77.0/24 }\n';
const AUTO_BOOK = 'title: t\ntargets:\n  d: { type: docker, machine: rev-two, subnet: 192.168.78.0/24 }\n';

/** `book ARGS` with this environment; resolves when it ends, or with code null after `ms`. */
function book(args: string[], env: Record<string, string>, ms = 20_000): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: path.join(work, 'home'), CI: 'true', NO_COLOR: '1', DOCKER_CLIENT_TIMEOUT: '1500', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, ms: performance.now() - t0 });
    });
  });
}

type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;

/** A fake Docker on a Unix socket (and, for tcp://, on a loopback port), answering as `behave` says. */
async function fakeDocker(name: string, behave: Behaviour): Promise<{ socket: string; port: number; close: () => void }> {
  const socket = path.join(work, `${name}.sock`);
  const servers: Server[] = [];
  const listen = (server: Server, at: string | number) =>
    new Promise<void>((resolve) => {
      if (typeof at === 'string') server.listen(at, resolve);
      else server.listen(at, '127.0.0.1', resolve);
    });
  const make = () => {
    const server = createServer(behave);
    servers.push(server);
    return server;
  };
  await listen(make(), socket);
  const tcp = make();
  await listen(tcp, 0);
  const port = (tcp.address() as { port: number }).port;
  return {
    socket,
    port,
    close: () => {
      for (const s of servers) {
        s.closeAllConnections();
        s.close();
      }
    },
  };
}

const ping: Behaviour = (req, res) => {
  if (req.url?.endsWith('/_ping')) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('OK');
    return;
  }
};

const BEHAVIOURS: Record<string, { behave: Behaviour; says: RegExp }> = {
  'accepts and never answers': { behave: () => {}, says: /did not answer a ping within 1\.5 s/ },
  'answers a ping, then nothing': { behave: ping, says: /did not answer an inspect of rev-one-k8s-master within 1\.5 s/ },
  'sends headers, then stalls': {
    behave: (req, res) => {
      if (req.url?.endsWith('/_ping')) return ping(req, res);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      res.write('{"State":');
    },
    says: /did not answer an inspect of rev-one-k8s-master within 1\.5 s/,
  },
  'answers an error over two lines': {
    behave: (req, res) => {
      if (req.url?.endsWith('/_ping')) return ping(req, res);
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'boom\nsecond line' }));
    },
    says: /refused an inspect of rev-one-k8s-master \(HTTP 500\): .*boom\\nsecond line/,
  },
  'answers nonsense': {
    behave: (req, res) => {
      if (req.url?.endsWith('/_ping')) return ping(req, res);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{not json');
    },
    says: /rev-one-k8s-master/,
  },
  'is too old': {
    behave: (req, res) => {
      if (req.url?.endsWith('/_ping')) return ping(req, res);
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'client version 1.47 is too new. Maximum supported API version is 1.40' }));
    },
    says: /HTTP 400/,
  },
};

describe('the reader’s Docker: where it is', () => {
  it('a DOCKER_HOST of any text is read as an address, or refused as one; never another error, never a password shown', () => {
    const password = fc.stringMatching(/^[A-Za-z0-9]{6,20}$/);
    const value = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.constantFrom(
        '/var/run/docker.sock',
        'localhost',
        ' unix:///x',
        'UNIX:///x',
        'tcp://',
        'fd://',
        '%%%',
        'unix:/x',
        'unix://rel/x',
        'tcp://[::1',
        'tcp://a b:1',
        'tcp://127.0.0.1:99999',
        'tcp://127.0.0.1:abc',
        'http://',
        // found by this property: a user name that is no URI escape
        'ssh://%@$',
        'ssh://a%zz@h',
      ),
      fc.tuple(fc.constantFrom('unix://', 'tcp://', 'ssh://', 'http://', 'npipe://', 'fd://', 'udp://'), fc.string({ maxLength: 40 })).map(([a, b]) => a + b),
      fc.tuple(password, fc.integer({ min: 1, max: 65535 })).map(([p, port]) => `tcp://admin:${p}@127.0.0.1:${port}`),
    );
    fc.assert(
      fc.property(value, (host) => {
        const secret = /admin:([^@]+)@/.exec(host)?.[1];
        try {
          const place = findReaderDocker({ DOCKER_HOST: host }, path.join(work, 'home'));
          expect(place.chosen).toBe(host !== '');
          if (secret) expect(place.shown).not.toContain(secret);
          expect(place.shown).not.toMatch(/[\u0000-\u001f]/);
        } catch (error) {
          expect(error).toBeInstanceOf(MachineUnreachable);
          const { message, hint } = error as MachineUnreachable;
          expect(message).toMatch(/^DOCKER_HOST is not a Docker address: /);
          expect(hint).toBeTruthy();
          if (secret) expect(message).not.toContain(secret);
          expect(message).not.toMatch(/[\u0000-\u001f]/);
          expect(message.length).toBeLessThan(400);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('the forms the docker CLI takes are read as it reads them', () => {
    const home = path.join(work, 'home');
    expect(findReaderDocker({ DOCKER_HOST: 'unix:///run/x/docker.sock' }, home).options).toEqual({ socketPath: '/run/x/docker.sock' });
    expect(findReaderDocker({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }, home).options).toMatchObject({ protocol: 'http', host: '127.0.0.1', port: '2375' });
    expect(findReaderDocker({ DOCKER_HOST: 'tcp://[::1]:2376' }, home).options).toMatchObject({ protocol: 'https', host: '::1', port: '2376' });
    expect(findReaderDocker({ DOCKER_HOST: 'ssh://me@127.0.0.1' }, home).options).toMatchObject({ protocol: 'ssh', host: '127.0.0.1', username: 'me' });
    expect(() => findReaderDocker({ DOCKER_HOST: '/var/run/docker.sock' }, home)).toThrow(/a path with no scheme/);
    expect(shownAddress('tcp://admin:hunter2secret@127.0.0.1:1')).toBe('tcp://admin:«redacted»@127.0.0.1:1');
  });

  it('the default socket is the one docker-modem uses (Docker Desktop’s own when it is there) and is named so', () => {
    const home = path.join(work, 'desktop-home');
    expect(findReaderDocker({}, home)).toMatchObject({ shown: 'unix:///var/run/docker.sock', chosen: false });
    mkdirSync(path.join(home, '.docker', 'run'), { recursive: true });
    writeFileSync(path.join(home, '.docker', 'run', 'docker.sock'), '');
    expect(findReaderDocker({}, home)).toMatchObject({
      shown: `unix://${home}/.docker/run/docker.sock`,
      options: { socketPath: `${home}/.docker/run/docker.sock` },
    });
  });

  it('a docker context (DOCKER_CONTEXT or config.json) is read as the docker CLI stores it; a missing one is named', () => {
    const home = path.join(work, 'ctx-home');
    const name = 'colima';
    const meta = path.join(home, '.docker', 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
    mkdirSync(meta, { recursive: true });
    writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: `unix://${home}/.colima/docker.sock` } } }));
    writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify({ currentContext: name }));
    expect(findReaderDocker({}, home)).toMatchObject({ options: { socketPath: `${home}/.colima/docker.sock` }, from: 'context colima', chosen: true });
    expect(findReaderDocker({ DOCKER_CONTEXT: 'default' }, home)).toMatchObject({ chosen: false });
    expect(findReaderDocker({ DOCKER_HOST: 'unix:///x.sock', DOCKER_CONTEXT: name }, home)).toMatchObject({ from: 'DOCKER_HOST' });
    expect(() => findReaderDocker({ DOCKER_CONTEXT: 'nope' }, home)).toThrow(/the docker context "nope" cannot be read/);
  });

  it('DOCKER_CERT_PATH without its files is named, with the file it needs', () => {
    expect(() => findReaderDocker({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_CERT_PATH: path.join(work, 'no-certs') }, work)).toThrow(
      /DOCKER_CERT_PATH: cannot read .*ca\.pem/,
    );
    const garbage = path.join(work, 'garbage-certs');
    mkdirSync(garbage, { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(garbage, f), 'not a pem');
    expect(() => findReaderDocker({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_CERT_PATH: garbage }, work)).toThrow(/is not a PEM file/);
  });
});

describe('the reader’s Docker misbehaving, through the CLI', () => {
  const fakes: { close: () => void }[] = [];
  let dockerBook: string;
  let autoBook: string;
  beforeAll(() => {
    dockerBook = writeBook({ 'book.yaml': DOCKER_BOOK, '01-a.md': '# A\n\n```sh run\ntrue\n```\n' });
    autoBook = writeBook({ 'book.yaml': AUTO_BOOK, '01-a.md': '# A\n\n```sh run\ntrue\n```\n' });
  });
  afterAll(() => {
    for (const f of fakes) f.close();
    rmSync(work, { recursive: true, force: true });
  });

  for (const [name, { behave, says }] of Object.entries(BEHAVIOURS)) {
    it(`a Docker that ${name}: machine status, down and run end with a clear MACHINE_UNREACHABLE`, async () => {
      const fake = await fakeDocker(name.replaceAll(' ', '-'), behave);
      fakes.push(fake);
      for (const args of [
        ['machine', 'status', '--book', dockerBook],
        ['machine', 'down', '--book', dockerBook],
        ['run', '--book', dockerBook, '--reporter', 'plain'],
      ]) {
        const r = await book(args, { DOCKER_HOST: `unix://${fake.socket}` });
        const all = r.out + r.err;
        expect(r.code, `${args.join(' ')}: ${all}`).toBe(3);
        expect(all).toMatch(/MACHINE_UNREACHABLE/);
        if (args[0] === 'machine' && args[1] === 'status') expect(all).toMatch(says);
        expect(all).not.toMatch(/INTERNAL|\n\s+at /);
      }
    });
  }

  it('machine up says the machine is up on another subnet before it builds anything', async () => {
    const fake = await fakeDocker('other-subnet', (req, res) => {
      if (req.url?.endsWith('/_ping')) return ping(req, res);
      if (req.url?.includes('/networks')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify([{ Name: 'rev-one', Id: 'n1', Labels: { 'build-a-minikube.machine': 'rev-one' }, IPAM: { Config: [{ Subnet: '192.168.99.0/24' }] } }]),
        );
        return;
      }
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `not expected: ${req.method} ${req.url}` }));
    });
    fakes.push(fake);
    const r = await book(['machine', 'up', '--book', dockerBook], { DOCKER_HOST: `unix://${fake.socket}` });
    expect(r.code, r.out + r.err).toBe(3);
    expect(r.err).toMatch(/the machine rev-one is up on 192\.168\.99\.0\/24, not on 192\.168\.77\.0\/24/);
    expect(r.err).not.toMatch(/node image|INTERNAL|\n\s+at /);
  });

  it("machine status does not take a container of the node's name that the book did not make for its node", async () => {
    const fake = await fakeDocker('foreign', (req, res) => {
      if (req.url?.endsWith('/_ping')) return ping(req, res);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ Id: 'c1', State: { Status: 'running', Running: true, Paused: false }, Config: { Labels: {} } }));
    });
    fakes.push(fake);
    const r = await book(['machine', 'status', '--book', dockerBook], { DOCKER_HOST: `unix://${fake.socket}` });
    expect(r.code, r.out + r.err).toBe(3);
    expect(r.out).toMatch(/k8s-master: container rev-one-k8s-master running, and not this book's/);
    expect(r.out).toMatch(/machine: down/);
  });

  it('machine status never prints the password of a tcp:// DOCKER_HOST', async () => {
    const fake = await fakeDocker('password', (req, res) => {
      if (req.url?.endsWith('/_ping')) return ping(req, res);
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'No such container' }));
    });
    fakes.push(fake);
    const secret = 'hunter2secret';
    const r = await book(['machine', 'status', '--book', dockerBook], { DOCKER_HOST: `tcp://admin:${secret}@127.0.0.1:${fake.port}` });
    expect(r.code).toBe(3);
    expect(r.out).toContain('on tcp://admin:«redacted»@127.0.0.1');
    expect(r.out + r.err).not.toContain(secret);
  });

  it('target: auto does not fall back to this host when DOCKER_HOST names a Docker that does not answer', async () => {
    const fake = await fakeDocker('auto-silent', () => {});
    fakes.push(fake);
    for (const host of [`unix://${fake.socket}`, 'tcp://127.0.0.1:1', `unix://${path.join(work, 'absent.sock')}`]) {
      const r = await book(['checkpoints', '--book', autoBook], { DOCKER_HOST: host });
      expect(r.code, r.out + r.err).toBe(3);
      expect(r.err).toMatch(/target: auto: DOCKER_HOST names the Docker at .* and it does not answer/);
      expect(r.out + r.err).not.toMatch(/INTERNAL|\n\s+at /);
    }
  });

  it('a DOCKER_HOST that is not an address stops every command that reaches Docker, before anything runs', async () => {
    for (const host of ['%%%', '/var/run/docker.sock', 'tcp://127.0.0.1:abc', 'unix:rel', `tcp://127.0.0.1:1\u001b[31m`]) {
      for (const args of [
        ['machine', 'status', '--book', dockerBook],
        ['checkpoints', '--book', autoBook],
      ]) {
        const r = await book(args, { DOCKER_HOST: host });
        expect(r.code, `${host} ${args.join(' ')}: ${r.out}${r.err}`).toBe(3);
        expect(r.err).toMatch(/DOCKER_HOST is not a Docker address/);
        expect(r.err).not.toMatch(/INTERNAL|\n\s+at |\u001b/);
      }
    }
  });
});
