import { z } from 'zod';
import { parseDuration } from '../durations.js';
import { K8S_VERSION_PATTERN } from '../versions.js';

// The shape of book.yaml, said once (zod): what each key takes, and the hint shown when it is
// wrong. book-config.ts turns a failure into `book.yaml:LINE` issues and a success into BookConfig.

/** Text that must be of a form: a value of another type gets the same message as text of another form. */
const text = (message: string) => z.string({ error: message });
const ABSOLUTE = 'must be an absolute path on the machine';
const absolutePath = text(ABSOLUTE).startsWith('/', ABSOLUTE);
const DURATION = 'must be a duration such as 90s, 2m or 1m30s (at most 24 days)';
const duration = text(DURATION).refine((v) => parseDuration(v) !== undefined, DURATION);
const port = z.number().int().min(1).max(65535);
/** A network namespace's name: a file under /var/run/netns (ip-netns(8)), kept short and plain. */
const netnsName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'must be a name of letters, digits, ".", "_" and "-"');
/** OpenSSH's fingerprint of a host key: `SHA256:` and 43 base64 characters. */
const hostKey = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must be a host key fingerprint as ssh-keygen -lf prints it: SHA256:…');
/** The docker target's machine: the name of its Docker network, and the prefix of its containers and volumes. */
const machineName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,39}$/, 'must be a name of lowercase letters, digits, ".", "_" and "-" (Docker names its network and containers with it)');
/** The nodes' network: a private IPv4 /24 (the nodes take .10 and .11, as the seed's VMs did). */
const SUBNET = 'must be a private IPv4 /24 such as 192.168.56.0/24 (10.x.y.0, 172.16–31.y.0 or 192.168.y.0)';
function privateSlash24(value: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(value);
  if (!m) return false;
  const [a, b, c] = m.slice(1).map(Number) as [number, number, number];
  if (b > 255 || c > 255) return false;
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}
const subnet = text(SUBNET).refine(privateSlash24, SUBNET);
const nodeName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a node name is lowercase letters, digits and -');

const place = { runtimeDir: absolutePath.optional(), dockerSocket: absolutePath.optional() };

export const sshNodeSchema = z.strictObject({
  host: z.string().min(1),
  port: port.optional(),
  user: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  hostKey: hostKey.optional(),
});

export const targetSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('local'), netns: netnsName.optional(), ...place }),
    z.strictObject({
      type: z.literal('ssh'),
      host: z.string().min(1),
      port: port.optional(),
      user: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
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

export const defaultsSchema = z.strictObject({ timeout: duration.optional(), retries: z.number().int().min(0).max(20).optional() });

export const bookYamlSchema = z.strictObject({
  title: z.string().min(1).optional(),
  chapters: z.array(z.string().regex(/^\d+-[a-z0-9][a-z0-9-]*$/, 'a chapter is named by its file stem, e.g. 01-kubelet')).optional(),
  defaults: defaultsSchema.optional(),
  kubeconfig: absolutePath.optional(),
  kubernetes: text('must be a version such as v1.35.4').regex(K8S_VERSION_PATTERN, 'must be a version such as v1.35.4').optional(),
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
  host: 'host: 10.0.0.5',
  port: 'port: 22',
  user: 'user: root',
  key: 'key: ~/.ssh/id_ed25519',
  hostKey: 'hostKey: SHA256:…   (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host)',
  nodes: 'nodes: { k8s-worker: { host: 10.0.0.6 } }',
  dir: 'dir: vagrant',
};
