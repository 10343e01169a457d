import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { TIMEOUT_RULE, timeoutProblem } from '../durations.js';
import { K8S_VERSION_PATTERN, knownVersionsText, unknownVersion } from '../versions.js';

// The shape of book.yaml, said once (zod): what each key takes, and the hint shown when it is
// wrong. book-config.ts turns a failure into `book.yaml:LINE` issues and a success into BookConfig.

/** Text that must be of a form: a value of another type gets the same message as text of another form. */
const text = (message: string) => z.string({ error: message });
const ABSOLUTE = 'must be an absolute path on the machine';
/** Control characters (a newline, NUL, ESC): no path holds them on purpose, and a shell line would break on them. */
const CONTROL = /\p{Cc}/u;
const absolutePath = text(ABSOLUTE)
  .startsWith('/', ABSOLUTE)
  .refine((v) => !CONTROL.test(v), 'must not hold control characters (a newline, NUL, a tab…)');
// The same rule as a block's timeout= (durations.ts parseTimeout): more than 0, at most 24 days.
const DURATION = `must be ${TIMEOUT_RULE}`;
const duration = text(DURATION).superRefine((v, ctx) => {
  const problem = timeoutProblem(v);
  if (problem === 'form') ctx.addIssue({ code: 'custom', message: DURATION });
  else if (problem === 'zero') ctx.addIssue({ code: 'custom', message: 'must be more than 0: a timeout of 0 fails every block at once' });
  else if (problem === 'too long') ctx.addIssue({ code: 'custom', message: 'must be at most 24 days (what a timer holds)' });
});
/** The same range as a block's retries= (info-string.ts): a whole number from 0 to 20. */
const RETRIES = "must be a whole number from 0 to 20, as a block's retries= takes";
const retries = z.number({ error: RETRIES }).int(RETRIES).min(0, RETRIES).max(20, RETRIES);
const port = z.number().int().min(1).max(65535);
/** A network namespace's name: a file under /var/run/netns (ip-netns(8)), kept short and plain. */
const netnsName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'must be a name of letters, digits, ".", "_" and "-"');
/** OpenSSH's fingerprint of a host key: `SHA256:` and 43 base64 characters. */
const hostKey = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must be a host key fingerprint as ssh-keygen -lf prints it: SHA256:…');
/** The docker target's machine: the name of its Docker network, and the prefix of its containers and volumes. */
const machineName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,39}$/, 'must be a name of lowercase letters, digits, ".", "_" and "-" (Docker names its network and containers with it)')
  .refine((name) => !['bridge', 'host', 'none', 'default'].includes(name), 'is the name of a network Docker makes itself: pick another');
/** The nodes' network: a private IPv4 /24 (the nodes take .10 and .11, as the seed's VMs did). */
const SUBNET = 'must be a private IPv4 /24 such as 192.168.56.0/24 (10.x.y.0, 172.16–31.y.0 or 192.168.y.0)';
/** The three octets of an `A.B.C.0/24` written as Docker reads it (no leading zeros), or undefined. */
function slash24(value: string): [number, number, number] | undefined {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.0\/24$/.exec(value);
  const octets = m?.slice(1).map(Number) as [number, number, number] | undefined;
  return octets?.every((o) => o <= 255) ? octets : undefined;
}
function privateSlash24(value: string): boolean {
  const octets = slash24(value);
  if (!octets) return false;
  const [a, b] = octets;
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}
/** Ranges the cluster itself uses: a node network inside one would make addresses mean two things. */
const TAKEN = [
  { from: [10, 96], to: [10, 111], what: 'the Service range 10.96.0.0/12 (chapters 2 and 8)' },
  { from: [10, 244], to: [10, 244], what: 'the pod range 10.244.0.0/16 (chapters 5 and 7)' },
  { from: [172, 17], to: [172, 17], what: "each node's own Docker bridge 172.17.0.0/16" },
] as const;
function takenBy(value: string): string | undefined {
  const octets = slash24(value);
  if (!octets) return undefined;
  const [a, b] = octets;
  return TAKEN.find(({ from, to }) => a === from[0] && b >= from[1] && b <= to[1])?.what;
}
const subnet = text(SUBNET)
  .refine(privateSlash24, SUBNET)
  .refine((v) => takenBy(v) === undefined, {
    error: (issue) => `overlaps ${takenBy(issue.input as string)}: pick another private /24 such as 192.168.57.0/24`,
  });
const nodeName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a node name is lowercase letters, digits and -');

const place = { runtimeDir: absolutePath.optional(), dockerSocket: absolutePath.optional() };

// What an ssh target's values may be. They reach ssh2's connection, the known_hosts file
// (`[host]:port key`), and `ssh … user@host` for `book machine shell`: a value starting with `-`
// would be an option there, a space or a newline another word or line, `;`, `$(…)` and backticks
// a shell's business. So each is refused unless it is plainly what it names (issue 27).

/** A DNS name: labels of letters, digits, `-` and `_`, each starting and ending with a letter or digit (or `_`). */
const HOST_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
/** An IPv6 zone (`fe80::1%eth0`): an interface name. */
const ZONE = /^[A-Za-z0-9][A-Za-z0-9_.]{0,15}$/;

/** A host name, an IPv4 address, or an IPv6 address bare or in brackets; undefined otherwise. The brackets are dropped. */
export function sshHost(value: string): string | undefined {
  const bracketed = /^\[(.*)\]$/.exec(value);
  const v6 = bracketed ? (bracketed[1] ?? '') : value;
  if (v6.includes(':')) {
    const [address = '', zone, ...more] = v6.split('%');
    return more.length === 0 && isIPv6(address) && (zone === undefined || ZONE.test(zone)) ? v6 : undefined;
  }
  if (bracketed) return undefined;
  // All digits and dots: an IPv4 address, or a mistake (10.0.0.256, 010.0.0.1), not a name to look up.
  if (/^[0-9.]+$/.test(value)) return isIPv4(value) ? value : undefined;
  if (value.length > 253) return undefined;
  const labels = value.split('.');
  return labels.every((label) => HOST_LABEL.test(label)) ? value : undefined;
}

const HOST = 'must be a host name (letters, digits, "-", "."), an IPv4 address or an IPv6 address: nothing that starts with "-", no spaces or shell characters';
const host = z.string({ error: HOST }).transform((value, ctx) => {
  const plain = sshHost(value);
  if (plain === undefined) ctx.addIssue({ code: 'custom', message: HOST });
  return plain ?? value;
});
/** A POSIX user name (the portable set of useradd and adduser): letters, digits, `.`, `_`, `-`, not starting with `-`. */
const USER = 'must be a user name: letters, digits, ".", "_" and "-", starting with a letter or "_" (at most 32)';
const user = z.string({ error: USER }).regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/, USER);
/** A private key file on this host: a path of plain characters, not an option. */
const KEY =
  'must be the path of a private key file on this host: letters, digits and / . _ - ~ + @ : , = only (not starting with "-"; no spaces, quotes or shell characters)';
const keyPath = z.string({ error: KEY }).regex(/^(?!-)[A-Za-z0-9_./~+@:,=-]{1,4096}$/, KEY);

export const sshNodeSchema = z.strictObject({
  host,
  port: port.optional(),
  user: user.optional(),
  key: keyPath.optional(),
  hostKey: hostKey.optional(),
});

export const targetSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('local'), netns: netnsName.optional(), ...place }),
    z.strictObject({
      type: z.literal('ssh'),
      host,
      port: port.optional(),
      user: user.optional(),
      key: keyPath.optional(),
      hostKey: hostKey.optional(),
      nodes: z
        .record(
          nodeName.refine((n) => n !== 'k8s-master', 'k8s-master is the target itself (its host:): list the other nodes'),
          sshNodeSchema,
        )
        .optional(),
      ...place,
    }),
    z.strictObject({ type: z.literal('vagrant'), dir: z.string().min(1).optional(), ...place }),
    z.strictObject({ type: z.literal('docker'), machine: machineName.optional(), subnet: subnet.optional(), ...place }),
  ],
  { error: 'type must be docker, local, ssh or vagrant' },
);

export const defaultsSchema = z.strictObject({ timeout: duration.optional(), retries: retries.optional() });

export const bookYamlSchema = z.strictObject({
  title: z.string().min(1).optional(),
  chapters: z.array(z.string().regex(/^\d+-[a-z0-9][a-z0-9-]*$/, 'a chapter is named by its file stem, e.g. 01-kubelet')).optional(),
  defaults: defaultsSchema.optional(),
  kubeconfig: absolutePath.optional(),
  // A version vagrant/versions.sh can build the machine with (versions.ts), refused here at its line
  // rather than minutes into `book machine up`.
  kubernetes: text('must be a version such as v1.35.4')
    .regex(K8S_VERSION_PATTERN, 'must be a version such as v1.35.4')
    .refine((v) => !K8S_VERSION_PATTERN.test(v) || unknownVersion(v) === undefined, {
      error: (issue) => `${unknownVersion(issue.input as string) ?? 'is not a version vagrant/versions.sh knows'}; it knows ${knownVersionsText()}`,
    })
    .optional(),
  target: z.string().min(1).optional(),
  targets: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'a target name is letters, digits, "_" and "-"'), targetSchema).optional(),
});

export type BookYaml = z.infer<typeof bookYamlSchema>;

/** What to write instead, by the key that is wrong (the last name in its path). */
export const BOOK_YAML_HINTS: Record<string, string> = {
  title: 'title: Build a Minikube',
  chapters: 'chapters: [00-machine, 01-kubelet]',
  defaults: 'defaults: { timeout: 60s, retries: 0 }',
  timeout: 'timeout: 60s',
  retries: 'retries: 0   (a whole number from 0 to 20)',
  kubeconfig: 'kubeconfig: /etc/kubernetes/admin.kubeconfig',
  kubernetes: 'kubernetes: v1.35.4   (or leave it out for the version vagrant/versions.sh pins)',
  target: 'target: auto   (docker where a Docker daemon answers, else local as root on Linux)',
  targets: 'targets: { local: { type: local } }   (docs/targets.md lists each type’s keys)',
  type: 'type: docker, type: local, type: ssh or type: vagrant',
  machine: 'machine: book-minikube   (the Docker network; containers book-minikube-k8s-master, …)',
  subnet: 'subnet: 192.168.56.0/24   (another /24 for a second machine on the same Docker)',
  netns: 'netns: book-minikube',
  runtimeDir: 'runtimeDir: /run/book-machine',
  dockerSocket: 'dockerSocket: /run/book-machine/docker.sock',
  host: 'host: 10.0.0.5   (or k8s-lab.example.com, or [fd00::5])',
  port: 'port: 22',
  user: 'user: root',
  key: 'key: ~/.ssh/id_ed25519',
  hostKey: 'hostKey: SHA256:…   (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host)',
  nodes: 'nodes: { k8s-worker: { host: 10.0.0.6 } }',
  dir: 'dir: vagrant',
};
