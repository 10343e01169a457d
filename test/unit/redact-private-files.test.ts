import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor, redactShapes } from '../../src/runner/record/redact.js';

// What a shell tool shows of a private file later (a line, a value, cut, numbered, CRLF, split
// across output chunks) must not show its secrets; what it shows of its names must stay readable.

/** High-entropy bytes from a seed: fast-check's own byte arrays lean to zeros, which no secret generator makes. */
function bytes(domain: string, seed: number, n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; parts.length * 32 < n; i++) parts.push(createHash('sha256').update(`${domain}:${seed}:${i}`).digest());
  return Buffer.concat(parts).subarray(0, n);
}

interface Secret {
  text: string;
  /** The same bytes as `xxd -p` prints them, for a base64 secret. */
  hex?: string;
}

const randomSecret: fc.Arbitrary<Secret> = fc
  .record({ seed: fc.integer(), n: fc.integer({ min: 16, max: 48 }), encoding: fc.constantFrom('base64', 'base64url', 'hex') as fc.Arbitrary<BufferEncoding> })
  .map(({ seed, n, encoding }) => {
    const b = bytes('secret', seed, n);
    return encoding === 'hex' ? { text: b.toString('hex') } : { text: b.toString(encoding), hex: b.toString('hex') };
  });
/** Like a bootstrap token's secret: lowercase and digits, which may read like a word; only ever a credential field's value. */
const lowercaseSecret: fc.Arbitrary<Secret> = fc
  .integer()
  .map((seed) => ({ text: Array.from(bytes('lower', seed, 20), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('') }));

/** Names a private file holds besides its secrets, long ones included: they must stay readable. */
const WORDS = [
  'v1',
  'Config',
  'admin',
  'default',
  'aescbc',
  'identity',
  'kube-system',
  'build-a-minikube',
  'kube-controller-manager',
  'EncryptionConfiguration',
  'certificate-authority-data',
  '/etc/kubernetes/pki/ca.crt',
  '/var/lib/kubelet/pki/kubelet-client-current.pem',
  'system:node:k8s-worker',
  'https://10.0.0.10:6443',
  'apiserver.config.k8s.io/v1',
  'KUBERNETES_SERVICE_HOST',
];
const ORDINARY_KEYS = ['name', 'cluster', 'server', 'user', 'kind', 'namespace', 'image', 'path', 'description', 'data', 'value'];
const CREDENTIAL_KEYS = ['secret', 'token', 'password', 'client-key-data', 'api_key', 'token-secret', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD'];

interface Entry {
  key: string;
  value: string;
  secret?: Secret;
}

const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ key: fc.constantFrom(...ORDINARY_KEYS), value: fc.constantFrom(...WORDS) }),
  fc.record({ key: fc.constantFrom(...CREDENTIAL_KEYS), secret: fc.oneof(randomSecret, lowercaseSecret) }).map((e) => ({ ...e, value: e.secret.text })),
  // A secret under a name that does not say so: found by its shape alone.
  fc.record({ key: fc.constantFrom(...ORDINARY_KEYS), secret: randomSecret }).map((e) => ({ ...e, value: e.secret.text })),
);

type Format = 'yaml' | 'env' | 'json' | 'ini';

function render(entries: Entry[], format: Format): string {
  // Keys made unique, so that no value hides another.
  const keyed = entries.map((e, i) => ({ ...e, key: `${e.key}${i}` }));
  if (format === 'json') return `${JSON.stringify(Object.fromEntries(keyed.map((e) => [e.key, e.value])), null, 2)}\n`;
  if (format === 'env') return keyed.map((e) => `${e.key.toUpperCase().replace(/-/g, '_')}=${e.value}\n`).join('');
  if (format === 'ini') return `[section]\n${keyed.map((e) => `${e.key} = ${e.value}\n`).join('')}`;
  return `apiVersion: v1\nkind: Config\nitems:\n${keyed.map((e, i) => (i % 2 ? `  ${e.key}: ${e.value}\n` : `- ${e.key}: ${e.value}\n`)).join('')}`;
}

interface PrivateFile {
  text: string;
  secrets: Secret[];
  words: string[];
}

const privateFile: fc.Arbitrary<PrivateFile> = fc
  .record({ entries: fc.array(entry, { minLength: 1, maxLength: 8 }), format: fc.constantFrom<Format>('yaml', 'env', 'json', 'ini') })
  .filter(({ entries }) => entries.some((e) => e.secret))
  .map(({ entries, format }) => ({
    text: render(entries, format),
    secrets: entries.flatMap((e) => (e.secret ? [e.secret] : [])),
    words: entries.filter((e) => !e.secret).map((e) => e.value),
  }));

const encryptionYaml = (secret: string) => `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - aescbc:
      keys:
      - name: key1
        secret: ${secret}
  - identity: {}
`;

const numbered = (text: string) =>
  text
    .split('\n')
    .map((l, i) => `${String(i + 1).padStart(6)}\t${l}`)
    .join('\n');

/** What a shell tool may show of a file: [the text, whether its names must still read in it]. */
function views(file: PrivateFile): fc.Arbitrary<[string, boolean]> {
  const lines = file.text.split('\n').filter(Boolean);
  const pick = <T>(list: T[]) => fc.nat().map((i) => list[i % list.length] as T);
  return fc.oneof(
    fc.constant<[string, boolean]>([file.text, false]), // cat
    fc.constant<[string, boolean]>([file.text.replace(/\n/g, '\r\n'), false]), // a CRLF copy
    fc.constant<[string, boolean]>([numbered(file.text), true]), // cat -n
    pick(lines).map((l): [string, boolean] => [`${l}\n`, true]), // grep
    fc.tuple(fc.nat(), pick(lines)).map(([n, l]): [string, boolean] => [`/etc/conf:${n}:${l}\r\n`, true]), // grep -n, CRLF
    pick(lines).map((l): [string, boolean] => [JSON.stringify({ line: l }), true]), // in JSON
    pick(file.secrets).map((s): [string, boolean] => [`${s.text}\n`, false]), // the value alone (yq, jsonpath)
    fc.tuple(pick(file.secrets), fc.nat(), fc.integer({ min: 16, max: 80 })).map(([s, from, len]): [string, boolean] => {
      const start = from % (s.text.length - 15);
      return [`got ${s.text.slice(start, start + len)}…\n`, false]; // cut -c, a truncated column
    }),
    pick(file.secrets.filter((s) => s.hex).length ? file.secrets.filter((s) => s.hex) : file.secrets).map((s): [string, boolean] => [
      `${(s.hex ?? s.text).replace(/(.{60})/g, '$1\n')}\n`,
      false,
    ]), // base64 -d | xxd -p
  );
}

/** Every piece of a secret long enough to be told from chance: 16 characters, base64 padding (no secret in it) aside. */
const pieces = (s: Secret) =>
  [s.text.replace(/=+$/, ''), s.hex ?? ''].flatMap((t) => Array.from({ length: Math.max(0, t.length - 15) }, (_, i) => t.slice(i, i + 16)));
const leaked = (out: string, secrets: Secret[]) => secrets.flatMap(pieces).filter((p) => out.includes(p));

const scenario = fc.array(privateFile, { minLength: 1, maxLength: 3 }).chain((files) =>
  fc.record({
    files: fc.constant(files),
    view: fc.nat().chain((i) => views(files[i % files.length] as PrivateFile).map(([text, readable]) => ({ text, readable, file: i % files.length }))),
    before: fc.constantFrom('', '$ cat /etc/kubernetes/pki/file\n', 'out: ', 'x'),
    after: fc.constantFrom('', '\ndone\n', ' and more', '+'),
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
  }),
);

function redactorFor(files: PrivateFile[]): Redactor {
  const redactor = new Redactor();
  for (const f of files) expect(redactor.registerFile(f.text, 0o600)).toBe(true);
  return redactor;
}

describe('the secrets of a private file, however a tool shows them', () => {
  it('leave no piece of 16 characters in a line, a value, a cut, a CRLF copy, cat -n, grep, JSON or xxd -p of them', () => {
    fc.assert(
      fc.property(scenario, ({ files, view, before, after }) => {
        const redactor = redactorFor(files);
        const secrets = files.flatMap((f) => f.secrets);
        const out = redactor.redact(before + view.text + after);
        expect(leaked(out, secrets)).toEqual([]);
        // Names and keys stay readable (a whole private file shown as is is blanked whole).
        if (view.readable) {
          const around = secrets.reduce((t, s) => t.split(s.text).join(' '), view.text);
          for (const word of (files[view.file] as PrivateFile).words) if (around.includes(word)) expect(out).toContain(word);
        }
        // Redacting again changes nothing.
        expect(redactor.redact(out)).toBe(out);
      }),
      { numRuns: 300 },
    );
  });

  it('are caught when the output arrives in chunks split anywhere, as one text would be', () => {
    fc.assert(
      fc.property(scenario, ({ files, view, before, after, cuts }) => {
        const redactor = redactorFor(files);
        const text = before + view.text + after;
        const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((from, i) => text.slice(from, at[i] ?? text.length));
        const out = redactor.redactChunks(chunks);
        expect(out).toHaveLength(chunks.length);
        expect(out.join('')).toBe(redactor.redact(text));
        expect(
          leaked(
            out.join(''),
            files.flatMap((f) => f.secrets),
          ),
        ).toEqual([]);
        // Interleaved with another stream, as a block's output is recorded.
        const entries = chunks.flatMap((c, i) => [
          { stream: 'stdout' as const, text: c },
          { stream: 'stderr' as const, text: `warning ${i}\n` },
        ]);
        // As the recorder does: a stream's chunks together, then every string on its own.
        const streams = redactor.redactDeep(redactor.redactStreams(entries));
        expect(
          streams
            .filter((e) => e.stream === 'stdout')
            .map((e) => e.text)
            .join(''),
        ).toBe(redactor.redact(text));
        expect(streams.filter((e) => e.stream === 'stderr')).toEqual(entries.filter((e) => e.stream === 'stderr'));
      }),
      { numRuns: 200 },
    );
  });

  it('never change text that holds none of them: names, paths, hashes, ids', () => {
    const hash = fc
      .record({ seed: fc.integer(), n: fc.integer({ min: 8, max: 40 }), encoding: fc.constantFrom('base64', 'hex') as fc.Arbitrary<BufferEncoding> })
      .map(({ seed, n, encoding }) => bytes('public', seed, n).toString(encoding));
    const word = fc.oneof(fc.constantFrom(...WORDS, ...ORDINARY_KEYS, 'Running', '1/1', '10.0.0.7', '2026-12-06T07:10:01Z', 'sha256:'), hash);
    const line = fc.array(fc.tuple(word, fc.constantFrom(' ', ' ', ': ', '=', '/', '\t', '-')), { minLength: 1, maxLength: 12 });
    const text = fc.array(line, { minLength: 1, maxLength: 20 }).map((lines) => lines.map((l) => l.map(([w, sep]) => w + sep).join('')).join('\n'));
    fc.assert(
      fc.property(fc.array(privateFile, { minLength: 1, maxLength: 3 }), text, (files, t) => {
        expect(redactorFor(files).redact(t)).toBe(t);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the book's private files (chapters 2, 10, 12, 13)", () => {
  it('the encryption key: its line, the key alone, CRLF, cat -n, xxd -p, and only the key', () => {
    const secret = Buffer.from(bytes('enc', 1, 32)).toString('base64');
    const file = encryptionYaml(secret);
    const redactor = new Redactor();
    redactor.registerFile(file, 0o600);
    expect(redactor.redact(`        secret: ${secret}\n`)).toBe(`        secret: ${REDACTED}\n`);
    expect(redactor.redact(secret)).toBe(REDACTED);
    expect(redactor.redact(`$ grep -h secret encryption.yaml\n${secret}`)).toBe(`$ grep -h secret encryption.yaml\n${REDACTED}`);
    expect(redactor.redact(file.replace(/\n/g, '\r\n'))).not.toContain(secret.slice(0, 16));
    const numberedOut = redactor.redact(numbered(file));
    expect(numberedOut).toContain(`     9\t        secret: ${REDACTED}\n`);
    expect(numberedOut).toContain('EncryptionConfiguration');
    expect(numberedOut).toContain('aescbc');
    expect(redactor.redact(`${secret.slice(3, 23)}`)).toBe(REDACTED);
    expect(redactor.redact(Buffer.from(secret, 'base64').toString('hex'))).toBe(REDACTED);
    expect(redactor.redact(Buffer.from(secret, 'base64').toString('hex').toUpperCase())).toBe(REDACTED);
    // The words around it stay.
    expect(redactor.redact('apiVersion: apiserver.config.k8s.io/v1 aescbc key1 identity')).toBe('apiVersion: apiserver.config.k8s.io/v1 aescbc key1 identity');
  });

  it("a kubeconfig's client key: the value, its PEM once decoded, a line of that; names and the CA stay", () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUQ0Ya\n-----END CERTIFICATE-----\n').toString('base64');
    const keyData = Buffer.from(pem).toString('base64');
    const kubeconfig = `apiVersion: v1\nkind: Config\nclusters:\n- name: build-a-minikube\n  cluster:\n    certificate-authority-data: ${ca}\n    server: https://127.0.0.1:6443\nusers:\n- name: kube-controller-manager\n  user:\n    client-key-data: ${keyData}\n`;
    const redactor = new Redactor();
    redactor.registerFile(kubeconfig, 0o600);
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    expect(redactor.redact(`client-key-data: ${keyData}`)).toBe(`client-key-data: ${REDACTED}`);
    // kubectl config view --raw -o jsonpath=… | base64 -d | sed -n 2,3p
    const shown = redactor.redact(body.slice(0, 2).join('\n'));
    for (const line of body.slice(0, 2)) expect(shown).not.toContain(line);
    // base64 x.key (76 a line) and openssl base64 (64): the same value, wrapped.
    for (const width of [64, 76]) {
      const wrapped = redactor.redact(keyData.replace(new RegExp(`(.{${width}})`, 'g'), '$1\n'));
      for (const line of keyData.match(new RegExp(`.{16,${width}}`, 'g')) ?? []) expect(wrapped).not.toContain(line);
    }
    expect(redactor.redact(`ca: ${ca} name: build-a-minikube kube-controller-manager`)).toBe(`ca: ${ca} name: build-a-minikube kube-controller-manager`);
  });

  it('a key as base64 DER (no PEM armour): whole, and wrapped as its PEM would be; a public key beside it stays', () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const key = (pair.privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString('base64');
    const pub = (pair.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
    const redactor = new Redactor();
    redactor.registerFile(`SIGNING_KEY=${key}\nVERIFY_KEY=${pub}\n`, 0o600);
    expect(redactor.redact(`key ${key}`)).toBe(`key ${REDACTED}`);
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const shown = redactor.redact(pem.split('\n').slice(1, 4).join('\n'));
    for (const line of pem.split('\n').slice(1, 4)) expect(shown).not.toContain(line);
    expect(redactor.redact(`pub ${pub}`)).toBe(`pub ${pub}`);
  });

  it('a kubeconfig that only names files (0600 all the same): its names and paths stay readable elsewhere', () => {
    const kubelet = `apiVersion: v1\nkind: Config\nusers:\n- name: system:node:k8s-worker\n  user:\n    client-certificate: /etc/kubernetes/pki/kubelet-client.crt\n    client-key: /etc/kubernetes/pki/kubelet-client.key\ncurrent-context: k8s-worker@build-a-minikube\n`;
    const redactor = new Redactor();
    redactor.registerFile(kubelet, 0o600);
    const text = 'ls /etc/kubernetes/pki/kubelet-client.key\nuser system:node:k8s-worker in k8s-worker@build-a-minikube\n';
    expect(redactor.redact(text)).toBe(text);
  });

  it('a bootstrap token (lowercase and digits): the token and its secret half wherever they go, the id stays', () => {
    fc.assert(
      fc.property(lowercaseSecret, (secret) => {
        const half = secret.text.slice(0, 16);
        const redactor = new Redactor();
        redactor.registerFile(`users:\n- name: kubelet-bootstrap\n  user:\n    token: abcdef.${half}\n`, 0o600);
        expect(redactor.redact(`system:bootstrap:abcdef used abcdef.${half}`)).toBe(`system:bootstrap:abcdef used ${REDACTED}`);
        expect(redactor.redact(`token-secret: ${half}\n`)).toBe(`token-secret: ${REDACTED}\n`);
        expect(redactor.redact(`[${half}]`)).toBe(`[${REDACTED}]`);
      }),
    );
  });

  it("the reviewer's shapes, with no file registered", () => {
    expect(redactShapes('Authorization: Basic YWRtaW46aHVudGVyMg==')).toBe(`Authorization: Basic ${REDACTED}`);
    expect(redactShapes('curl https://api/x?token=0a1b2c3d4e5f&limit=1')).toBe(`curl https://api/x?token=${REDACTED}&limit=1`);
    expect(redactShapes('docker login -u ci -p hunter2hunter2 registry:5000')).toBe(`docker login -u ci -p ${REDACTED} registry:5000`);
    expect(redactShapes('-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oQwpA7yj4qLpoAoGCCqGSM49\n')).toBe(
      `-----BEGIN EC PRIVATE KEY-----\n${REDACTED}\n`,
    );
  });
});

describe('the committed transcript of the real book', () => {
  it('is left as it is by a redactor that knows private files like the book writes: no name, hash or certificate is taken for a secret', () => {
    const file = path.join(import.meta.dirname, '..', 'fixtures', 'transcript', 'book.json');
    const raw = readFileSync(file, 'utf8');
    const transcript = JSON.parse(raw);
    const cert = JSON.parse(`"${/-----BEGIN CERTIFICATE-----(?:\\n|[^-])*?-----END CERTIFICATE-----/.exec(raw)?.[0]}"`) as string;
    const ca = Buffer.from(cert).toString('base64');
    const token = bytes('admin', 0, 24).toString('hex');
    const redactor = new Redactor();
    const kubeconfig = (user: string, credentials: string) =>
      `apiVersion: v1\nkind: Config\nclusters:\n- name: build-a-minikube\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority-data: ${ca}\nusers:\n- name: ${user}\n  user:\n${credentials}contexts:\n- name: ${user}@build-a-minikube\n  context:\n    cluster: build-a-minikube\n    user: ${user}\ncurrent-context: ${user}@build-a-minikube\n`;
    redactor.registerFile(`${token},admin,admin,system:masters\n`, 0o600);
    redactor.registerFile(kubeconfig('admin', `    token: ${token}\n`), 0o600);
    for (const user of ['controller-manager', 'scheduler', 'kube-proxy', 'kubelet', 'jane']) {
      const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      redactor.registerFile(kubeconfig(user, `    client-certificate-data: ${ca}\n    client-key-data: ${Buffer.from(pem).toString('base64')}\n`), 0o600);
    }
    redactor.registerFile(encryptionYaml(bytes('enc', 2, 32).toString('base64')), 0o600);
    // And every file the book wrote, as the recorder registers them.
    for (const chapter of transcript.chapters)
      for (const block of chapter.blocks)
        for (const call of block.calls)
          if (call.path.endsWith('writeFile') && typeof call.args[1] === 'string') redactor.registerFile(call.args[1], call.args[2]);
    expect(redactor.redactDeep(transcript)).toEqual(transcript);
  });
});
