import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseVolatile, stableJson } from '../../src/runner/record/normalise.js';
import { type CallSink, recordApi } from '../../src/runner/record/proxies.js';
import { isPrivateMode, REDACTED, Redactor, redactShapes } from '../../src/runner/record/redact.js';
import type { RecordedCall } from '../../src/runner/record/transcript.js';

const TOKEN = '0123456789abcdef0123456789abcdef0123456789abcdef';

describe('redaction', () => {
  it('blanks PEM private keys, kubeconfig credentials, bearer tokens and token-auth CSV lines by their shape', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nxyz\n-----END RSA PRIVATE KEY-----';
    expect(redactShapes(`key:\n${pem}\ndone`)).toBe(`key:\n-----BEGIN RSA PRIVATE KEY-----\n${REDACTED}\n-----END RSA PRIVATE KEY-----\ndone`);
    expect(redactShapes('-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----')).toContain('abc');
    expect(redactShapes(`users:\n- name: admin\n  user:\n    token: ${TOKEN}\n`)).toBe(`users:\n- name: admin\n  user:\n    token: ${REDACTED}\n`);
    expect(redactShapes(`{"user":{"token":"${TOKEN}","client-key-data":"QUJD"}}`)).toBe(`{"user":{"token":"${REDACTED}","client-key-data":"${REDACTED}"}}`);
    expect(redactShapes(`curl -H 'Authorization: Bearer ${TOKEN}' https://x`)).toBe(`curl -H 'Authorization: Bearer ${REDACTED}' https://x`);
    expect(redactShapes(`kubectl --token=${TOKEN} get pods`)).toBe(`kubectl --token=${REDACTED} get pods`);
    expect(redactShapes(`${TOKEN},admin,admin,system:masters\n`)).toBe(`${REDACTED},admin,admin,system:masters\n`);
    // A service-account token: its signature goes, its claims stay readable (a block may decode them).
    const claims = Buffer.from('{"sub":"system:serviceaccount:kube-system:coredns"}').toString('base64url');
    const jwt = `eyJhbGciOiJSUzI1NiJ9.${claims}.c2lnbmF0dXJlLW9mLXRoZS1zZXJ2aWNlLWFjY291bnQ`;
    expect(redactShapes(`cat token\n${jwt}\n`)).toBe(`cat token\neyJhbGciOiJSUzI1NiJ9.${claims}.${REDACTED}\n`);
    expect(redactShapes('see eyJfoo.eyJbar.short')).toBe('see eyJfoo.eyJbar.short');
    // Output run together with a field (found by transcript-read-redact's property): still a field.
    expect(redactShapes(`401token: ${TOKEN}\n`)).toBe(`401token: ${REDACTED}\n`);
    expect(redactShapes(`my_token: ${TOKEN}\n`)).toBe(`my_token: ${TOKEN}\n`);
    // Ordinary output with commas is left alone.
    expect(redactShapes('NAME,READY,STATUS\nnginx,1/1,Running')).toBe('NAME,READY,STATUS\nnginx,1/1,Running');
  });

  it('blanks the exact content of private files, and the secrets inside any file, wherever they appear later', () => {
    const redactor = new Redactor();
    expect(isPrivateMode(0o600)).toBe(true);
    expect(isPrivateMode(0o640)).toBe(false);
    expect(isPrivateMode(0o644)).toBe(false);
    expect(isPrivateMode(undefined)).toBe(false);
    expect(redactor.registerFile(`${TOKEN},admin,admin,system:masters\n`, 0o600)).toBe(true);
    expect(redactor.registerFile('apiVersion: v1\n', 0o644)).toBe(false);
    expect(redactor.redact(`the token is ${TOKEN}.`)).toBe(`the token is ${REDACTED}.`);
    expect(redactor.redact(`${TOKEN},admin,admin,system:masters`)).toBe(REDACTED);
    expect(redactor.redact('apiVersion: v1')).toBe('apiVersion: v1');
    const random = 'R4nd0mS3cretValue';
    redactor.registerFile(random, 0o400);
    expect(redactor.redactDeep({ a: [`x ${random} y`], [random]: 1, n: 2 })).toEqual({ a: [`x ${REDACTED} y`], [REDACTED]: 1, n: 2 });
    // Too short to be told apart from ordinary text: not registered.
    redactor.registerFile('abc', 0o600);
    expect(redactor.redact('abc')).toBe('abc');
  });
});

describe('credential shapes', () => {
  const blank = (text: string) => redactShapes(text);

  it('blanks Authorization headers (Basic, Bearer, any scheme), keeping the header and the scheme', () => {
    const basic = Buffer.from('admin:s3cr3t-pass').toString('base64');
    expect(blank(`curl -H 'Authorization: Basic ${basic}' https://x`)).toBe(`curl -H 'Authorization: Basic ${REDACTED}' https://x`);
    expect(blank(`authorization: Bearer ${TOKEN}`)).toBe(`authorization: Bearer ${REDACTED}`);
    expect(blank('Proxy-Authorization: Token abcdefgh12345678')).toBe(`Proxy-Authorization: Token ${REDACTED}`);
    // `Basic` outside a header only when it decodes to user:password.
    expect(blank(`sent Basic ${basic}`)).toBe(`sent Basic ${REDACTED}`);
    expect(blank('Basic usage: Basic configuration')).toBe('Basic usage: Basic configuration');
    // A kubelet configuration's authorization section and the API server's flag are not credentials.
    expect(blank('authorization:\n  mode: Webhook\n--authorization-mode=Node,RBAC')).toBe('authorization:\n  mode: Webhook\n--authorization-mode=Node,RBAC');
  });

  it('blanks credentials in URLs: query parameters and user:password', () => {
    expect(blank(`GET https://x/api?token=${TOKEN}&watch=1`)).toBe(`GET https://x/api?token=${REDACTED}&watch=1`);
    expect(blank('https://s3/x?X-Amz-Signature=abcdef0123&access_token=qwerty123 ')).toBe(`https://s3/x?X-Amz-Signature=${REDACTED}&access_token=${REDACTED} `);
    expect(blank('git clone https://bob:hunter22@git.example/x.git')).toBe(`git clone https://bob:${REDACTED}@git.example/x.git`);
    expect(blank('see https://kubernetes.io/docs/?q=tokens')).toBe('see https://kubernetes.io/docs/?q=tokens');
  });

  it('blanks passwords given as flags and assignments, not what only names one', () => {
    expect(blank('docker login -u me -p Sup3rS3cret registry.local')).toBe(`docker login -u me -p ${REDACTED} registry.local`);
    expect(blank('docker login --username me --password Sup3rS3cret r')).toBe(`docker login --username me --password ${REDACTED} r`);
    expect(blank('helm registry login r -p=Sup3rS3cret')).toBe(`helm registry login r -p=${REDACTED}`);
    expect(blank('sshpass -p Sup3rS3cret ssh root@node')).toBe(`sshpass -p ${REDACTED} ssh root@node`);
    expect(blank('curl -sk -u admin:Sup3rS3cret https://x')).toBe(`curl -sk -u admin:${REDACTED} https://x`);
    expect(blank('export DB_PASSWORD=Sup3rS3cret; API_TOKEN="abc123def"')).toBe(`export DB_PASSWORD=${REDACTED}; API_TOKEN="${REDACTED}"`);
    expect(blank('kubectl create secret generic s --from-literal=password=Sup3rS3cret')).toBe(
      `kubectl create secret generic s --from-literal=password=${REDACTED}`,
    );
    // Left alone: stdin, a variable, a boolean, a uid:gid, a port, a directory.
    for (const text of [
      'echo "$PW" | docker login -u me --password-stdin r',
      'TOKEN=$(cat /etc/kubernetes/pki/tokens.csv | cut -d, -f1)',
      '--enable-bootstrap-token-auth=true --token-auth-file=/etc/kubernetes/pki/tokens.csv',
      'docker run -u 1000:1000 -p 8080:80 nginx; mkdir -p /var/lib/etcd',
    ])
      expect(blank(text)).toBe(text);
  });

  it('blanks a private key cut short, numbered or with CRLF line ends', () => {
    const body = ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj', 'MZR4LzGFmVNHmUsq3MqsJYKs6sX0TqMmVqhsyJ7GY1CUH0bxO8qNwVKX0L0Ht3eP'];
    const pem = `-----BEGIN PRIVATE KEY-----\n${body.join('\n')}\n-----END PRIVATE KEY-----\n`;
    const hidden = (text: string) => body.every((line) => !redactShapes(text).includes(line.slice(0, 20)) && !redactShapes(text).includes(line.slice(-20)));
    // head -n 2, head -c 100
    expect(redactShapes(pem.split('\n').slice(0, 2).join('\n'))).toBe(`-----BEGIN PRIVATE KEY-----\n${REDACTED}`);
    expect(hidden(pem.slice(0, 100))).toBe(true);
    expect(hidden(pem.replace(/\n/g, '\r\n'))).toBe(true);
    expect(
      hidden(
        pem
          .split('\n')
          .map((l, i) => `${String(i + 1).padStart(6)}\t${l}`)
          .join('\n'),
      ),
    ).toBe(true);
    expect(hidden(JSON.stringify(pem))).toBe(true);
    expect(hidden(`-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n${body.join('\n')}`)).toBe(true);
  });
});

describe('bootstrap tokens (chapter 13)', () => {
  it("blank a token Secret's token-secret, in YAML and in the JSON of an API call, whatever its value", () => {
    const tokenPart = (n: number) => fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: n, maxLength: n });
    fc.assert(
      fc.property(tokenPart(6), tokenPart(16), (id, secret) => {
        const json = JSON.stringify({ metadata: { name: `bootstrap-token-${id}` }, stringData: { 'token-id': id, 'token-secret': secret } });
        const yaml = `stringData:\n  token-id: ${id}\n  token-secret: ${secret}\n`;
        const kubeconfig = `users:\n- name: kubelet-bootstrap\n  user:\n    token: ${id}.${secret}\n`;
        // As a recorded API call's argument: a JSON-like object, walked.
        const args = new Redactor().redactDeep([{ body: { stringData: { 'token-id': id, 'token-secret': secret } } }]);
        expect(JSON.stringify(args)).not.toContain(secret);
        expect(JSON.stringify(args)).toContain(id);
        for (const text of [json, yaml, kubeconfig]) {
          const redacted = redactShapes(text);
          expect(redacted).not.toContain(secret);
          expect(redacted).toContain(REDACTED);
        }
      }),
    );
  });
});

describe('normalisation of volatile values', () => {
  it('makes two runs of the same calls compare equal', () => {
    expect(normaliseVolatile('curl http://172.17.0.5/')).toBe(normaliseVolatile('curl http://172.17.0.4/'));
    expect(normaliseVolatile('docker.getContainer(3f1c9a0b2d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd).stop')).toBe(
      'docker.getContainer(<id>).stop',
    );
    expect(normaliseVolatile('pod nginx-deployment-7b97787649-28cbd')).toBe('pod nginx-deployment-<hash>-<rand>');
    expect(normaliseVolatile('rs nginx-deployment-7b97787649')).toBe('rs nginx-deployment-<hash>');
    expect(normaliseVolatile('"startedAt":"2026-11-27T05:36:29.080Z" uid 13a31419-d37b-4b7b-947d-398c7ddbc0cd')).toBe('"startedAt":"<time>" uid <uid>');
    expect(normaliseVolatile('Up 3s, 12m')).toBe('Up <age>, <age>');
    // Names that are not hashes stay.
    expect(normaliseVolatile('kube-scheduler-k8s-master nginx-k8s-master')).toBe('kube-scheduler-k8s-master nginx-k8s-master');
  });

  it('prints arguments the same whatever the key order, without functions', () => {
    expect(stableJson([{ b: 1, a: { d: 2, c: () => 1 } }])).toBe('[{"a":{"d":2},"b":1}]');
    expect(stableJson([new Date('2026-01-01T00:00:00Z')])).toBe('["2026-01-01T00:00:00.000Z"]');
  });
});

describe('recording proxies', () => {
  it('records promise-returning calls with their results and errors, and turns dockerode handles into paths', async () => {
    const calls: RecordedCall[] = [];
    const sink: CallSink = {
      begin: (kind, path, args) => {
        const call: RecordedCall = { kind, path, args, durationMs: 0 };
        calls.push(call);
        return call;
      },
      resolve: (call, result) => {
        if (call) call.result = result;
      },
      reject: (call, error) => {
        if (call) call.error = { name: (error as Error).name, message: (error as Error).message };
      },
    };
    const fakeDocker = {
      modem: { socketPath: '/x' },
      listContainers: async (opts: unknown) => [{ Id: 'abc', opts }],
      getContainer: (id: string) => ({
        id,
        inspect: async () => ({ Id: id, State: { Running: true } }),
        stop: async () => Promise.reject(new Error('no such container')),
      }),
    };
    const docker = recordApi(fakeDocker, 'docker', 'docker', sink);
    expect(docker.modem.socketPath).toBe('/x');
    await docker.listContainers({ all: true });
    expect((await docker.getContainer('c1').inspect()).State.Running).toBe(true);
    await expect(docker.getContainer('c2').stop()).rejects.toThrow('no such container');
    expect(calls.map((c) => [c.path, c.args, c.result ?? c.error?.message])).toEqual([
      ['docker.listContainers', [{ all: true }], [{ Id: 'abc', opts: { all: true } }]],
      ['docker.getContainer(c1).inspect', [], { Id: 'c1', State: { Running: true } }],
      ['docker.getContainer(c2).stop', [], 'no such container'],
    ]);
  });
});
