// The cluster a finished book leaves, checked as a reader would check any cluster: through kubectl
// and docker on the nodes and curl from inside them (`book machine shell [--node k8s-worker]`),
// never through the book's own checks. Shared by the e2e of each target.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';

export type NodeShell = (command: string) => Promise<{ code: number | null; stdout: string; stderr: string }>;

export function clusterChecks(onMachine: NodeShell, onWorker: NodeShell, versions: { PAUSE_IMAGE: string }) {
  /**
   * The reader's view of a cluster the book built through chapter 10 at least, asked of the
   * machine, not of the book (a whole run adds checkOwnAccessControl: chapters 12–13's doing).
   */
  async function checkClusterIndependently(wholeBook = true) {
    const nodes = JSON.parse((await onMachine('kubectl get nodes -o json')).stdout).items as {
      metadata: { name: string };
      spec: { podCIDR: string };
      status: { conditions: { type: string; status: string }[] };
    }[];
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['k8s-master', 'k8s-worker']);
    for (const node of nodes) expect(node.status.conditions.find((c) => c.type === 'Ready')?.status, node.metadata.name).toBe('True');
    const cidr = Object.fromEntries(nodes.map((n) => [n.metadata.name, n.spec.podCIDR.replace(/0\/24$/, '')]));
    const deployment = JSON.parse((await onMachine('kubectl get deployment nginx-deployment -o json')).stdout);
    expect(deployment.status.availableReplicas).toBe(4);
    const pods = JSON.parse((await onMachine('kubectl get pods -l app=nginx -o json')).stdout).items as {
      metadata: { name: string; ownerReferences?: unknown[] };
      status: { podIP: string; phase: string };
      spec: { nodeName: string };
    }[];
    const owned = pods.filter((p) => p.metadata.ownerReferences?.length);
    expect(owned).toHaveLength(4);
    expect(new Set(owned.map((p) => p.spec.nodeName))).toEqual(new Set(['k8s-master', 'k8s-worker']));
    for (const pod of owned) {
      expect(pod.status.phase).toBe('Running');
      expect(pod.status.podIP.startsWith(cidr[pod.spec.nodeName] as string), `${pod.status.podIP} in ${pod.spec.nodeName}'s pod CIDR`).toBe(true);
      const page = await onMachine(`curl -s --max-time 5 http://${pod.status.podIP}/`);
      expect(page.stdout).toContain('Welcome to nginx!');
    }
    const sandboxes = async (on: typeof onMachine) =>
      (await on('docker ps --filter label=io.kubernetes.docker.type=podsandbox --format \'{{.Label "io.kubernetes.pod.name"}} {{.Image}}\'')).stdout.split(
        '\n',
      );
    const master = await sandboxes(onMachine);
    for (const pod of ['nginx-k8s-master', 'etcd-k8s-master', 'kube-apiserver-k8s-master', 'kube-controller-manager-k8s-master', 'kube-scheduler-k8s-master']) {
      expect(master).toContain(`${pod} ${versions.PAUSE_IMAGE}`);
    }
    const worker = await sandboxes(onWorker);
    expect(worker).toContain(`kube-proxy-k8s-worker ${versions.PAUSE_IMAGE}`);
    expect(master.filter((s) => s.startsWith('nginx-deployment-')).length + worker.filter((s) => s.startsWith('nginx-deployment-')).length).toBe(4);
    // The Service works for anybody, not only for the book's own checks, from either node.
    const clusterIp = (await onMachine("kubectl get service nginx-deployment -o 'jsonpath={.spec.clusterIP}'")).stdout;
    expect((await onMachine(`curl -s --max-time 5 http://${clusterIp}/`)).stdout).toContain('Welcome to nginx!');
    expect((await onWorker(`curl -s --max-time 5 http://${clusterIp}/`)).stdout).toContain('Welcome to nginx!');
    expect((await onMachine('iptables-save -t nat')).stdout).toMatch(new RegExp(`-A KUBE-SERVICES -d ${clusterIp.replace(/\./g, '\\.')}/32 .* -j KUBE-SVC-`));
    // DNS, as the book left it: CoreDNS answers for the book's Service at the cluster DNS address.
    expect((await onMachine('dig +short +time=2 +tries=1 @10.96.0.10 nginx-deployment.default.svc.cluster.local')).stdout).toBe(clusterIp);
    // A reviewer's image names as they write them (no tag: pulled Always) once chapter 12's policy
    // is there; before it, a tag of the image the machine has (IfNotPresent), as the book writes them.
    const image = wholeBook
      ? 'nginx'
      : `nginx:${(await onMachine("docker images nginx --format '{{.Tag}}'")).stdout.split('\n').find((t) => t && t !== 'latest')}`;
    await checkOwnWorkload(image);
    await checkOwnDaemonSet(image);
  }

  /** Until `command` prints something that `accept` takes, or `seconds` pass: the last output. */
  async function pollOnMachine(command: string, accept: (stdout: string) => boolean, seconds = 45) {
    let last: Awaited<ReturnType<NodeShell>> = { code: -1, stdout: '', stderr: '' };
    for (let i = 0; i < seconds; i++) {
      last = await onMachine(command);
      if (last.code === 0 && accept(last.stdout)) return last;
      await new Promise((r) => setTimeout(r, 1000));
    }
    return last;
  }

  /**
   * A workload the book never made, as a reviewer would check the cluster in general: its own
   * namespace, Deployment and Service, written as a reviewer writes them (`--image=nginx`: no tag,
   * so pulled `Always` unless chapter 12's policy says otherwise, since the nodes have no route to
   * a registry), its pods in the pod CIDR, its ClusterIP answering from the machine, its name
   * resolving at 10.96.0.10 and reaching it from a pod (with kubectl exec), a ConfigMap mounted
   * where upstream's nginx serves from, a shell in its container, and more than chapter 12's
   * demonstration rule allowed in `default`.
   */
  async function checkOwnWorkload(image: string) {
    const created = await onMachine(
      `kubectl create namespace own-check && kubectl -n own-check create deployment web --image=${image} --replicas=2 && kubectl -n own-check expose deployment web --port=8080 --target-port=80`,
    );
    expect(created.code, created.stderr).toBe(0);
    const ready = await pollOnMachine("kubectl -n own-check get deployment web -o 'jsonpath={.status.availableReplicas}'", (out) => out === '2');
    expect(ready.stdout, ready.stderr).toBe('2');
    const cidrs = Object.fromEntries(
      (await onMachine(`kubectl get nodes -o 'jsonpath={range .items[*]}{.metadata.name} {.spec.podCIDR}{"\\n"}{end}'`)).stdout
        .split('\n')
        .map((line) => line.split(' ') as [string, string]),
    );
    const placed = (
      await onMachine(`kubectl -n own-check get pods -l app=web -o 'jsonpath={range .items[*]}{.spec.nodeName} {.status.podIP}{"\\n"}{end}'`)
    ).stdout
      .split('\n')
      .map((line) => line.split(' ') as [string, string]);
    expect(placed).toHaveLength(2);
    // Each pod's address is from its node's slice of 10.244.0.0/16 (the slice the controller manager gave).
    for (const [node, ip] of placed) expect(ip.startsWith((cidrs[node] ?? '?').replace(/0\/24$/, '')), `${ip} on ${node} (${cidrs[node]})`).toBe(true);
    const clusterIp = (await onMachine("kubectl -n own-check get service web -o 'jsonpath={.spec.clusterIP}'")).stdout;
    const page = await pollOnMachine(`curl -s --max-time 2 http://${clusterIp}:8080/`, (out) => out.includes('Welcome to nginx!'));
    expect(page.stdout).toContain('Welcome to nginx!');
    const answer = await pollOnMachine('dig +short +time=1 +tries=1 @10.96.0.10 web.own-check.svc.cluster.local', (out) => out === clusterIp);
    expect(answer.stdout).toBe(clusterIp);
    const fromPod = await onMachine('kubectl exec dns-client -- curl -s --max-time 5 http://web.own-check:8080/');
    expect(fromPod.stdout, fromPod.stderr).toContain('Welcome to nginx!');
    // A page of the reviewer's own, from a ConfigMap at upstream nginx's document root; read from
    // inside the container with its shell.
    const page2 = `own page ${Math.random().toString(36).slice(2)}`;
    const mounted = await onMachine(
      `kubectl -n own-check create configmap page --from-literal=index.html='${page2}' && kubectl -n own-check patch deployment web --type=json -p '[{"op":"add","path":"/spec/template/spec/volumes","value":[{"name":"page","configMap":{"name":"page"}}]},{"op":"add","path":"/spec/template/spec/containers/0/volumeMounts","value":[{"name":"page","mountPath":"/usr/share/nginx/html"}]}]' && kubectl -n own-check rollout status deployment web --timeout=90s`,
    );
    expect(mounted.code, mounted.stderr).toBe(0);
    const served = await pollOnMachine(`curl -s --max-time 2 http://${clusterIp}:8080/`, (out) => out.trim() === page2);
    expect(served.stdout.trim()).toBe(page2);
    // kubectl exec picks a pod of the Deployment: an old one may still be going away.
    const inside = await pollOnMachine(`kubectl -n own-check exec deployment/web -- sh -c 'cat /usr/share/nginx/html/index.html; echo; ps'`, (out) =>
      out.includes(page2),
    );
    expect(inside.code, inside.stderr).toBe(0);
    expect(inside.stdout).toContain(page2);
    expect(inside.stdout).toMatch(/nginx: master process/);
    const many = await onMachine(`kubectl -n default create deployment many --image=${image} --replicas=8 --dry-run=server -o name`);
    expect(many.code, many.stderr).toBe(0);
    expect((await onMachine('kubectl delete namespace own-check --wait=false')).code).toBe(0);
  }

  /**
   * A reviewer's own DaemonSet and Service across the two nodes: one pod per node, each answering by
   * its IP from the *other* node, the Service's ClusterIP answering from the worker, and its name
   * resolving from the worker.
   */
  async function checkOwnDaemonSet(image: string) {
    const manifest = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: everywhere, namespace: ds-check }
spec:
  selector: { matchLabels: { app: everywhere } }
  template:
    metadata: { labels: { app: everywhere } }
    spec:
      containers:
      - { name: web, image: "${image}" }
---
apiVersion: v1
kind: Service
metadata: { name: everywhere, namespace: ds-check }
spec:
  selector: { app: everywhere }
  ports: [{ port: 8081, targetPort: 80 }]
`;
    const created = await onMachine(`kubectl create namespace ds-check && printf '%s' '${manifest}' | kubectl apply -f -`);
    expect(created.code, created.stderr).toBe(0);
    const ready = await pollOnMachine(
      "kubectl -n ds-check get daemonset everywhere -o 'jsonpath={.status.numberReady}/{.status.desiredNumberScheduled}'",
      (out) => out === '2/2',
    );
    expect(ready.stdout, ready.stderr).toBe('2/2');
    const pods = JSON.parse((await onMachine('kubectl -n ds-check get pods -o json')).stdout).items as {
      spec: { nodeName: string };
      status: { podIP: string };
    }[];
    expect(pods.map((p) => p.spec.nodeName).sort()).toEqual(['k8s-master', 'k8s-worker']);
    for (const pod of pods) {
      const other = pod.spec.nodeName === 'k8s-master' ? onWorker : onMachine;
      expect((await other(`curl -s --max-time 5 http://${pod.status.podIP}/`)).stdout, `${pod.status.podIP} from the other node`).toContain(
        'Welcome to nginx!',
      );
    }
    const clusterIp = (await onMachine("kubectl -n ds-check get service everywhere -o 'jsonpath={.spec.clusterIP}'")).stdout;
    const page = await pollOnMachine(`curl -s --max-time 2 http://${clusterIp}:8081/`, (out) => out.includes('Welcome to nginx!'));
    expect(page.stdout).toContain('Welcome to nginx!');
    expect((await onWorker(`curl -s --max-time 5 http://${clusterIp}:8081/`)).stdout).toContain('Welcome to nginx!');
    expect((await onWorker('dig +short +time=2 +tries=1 @10.96.0.10 everywhere.ds-check.svc.cluster.local')).stdout).toBe(clusterIp);
    expect((await onMachine('kubectl delete namespace ds-check --wait=false')).code).toBe(0);
  }

  /**
   * Who may do what (issue 31), as a reviewer checks it after a run, each answer the API server's
   * or etcd's: their own ServiceAccount with a Role lists pods in its namespace from inside a pod
   * (the token ServiceAccount admission mounted) and is refused in another; the worker's kubelet
   * credentials cannot label the master's Node; a Secret of theirs is ciphertext in etcd; the
   * API server runs with no token file and an authorization mode other than AlwaysAllow.
   */
  async function checkOwnAccessControl() {
    const apiserver = JSON.parse((await onMachine('kubectl -n kube-system get pod kube-apiserver-k8s-master -o json')).stdout) as {
      spec: { containers: { command: string[] }[] };
    };
    const flags = apiserver.spec.containers[0]?.command ?? [];
    const processArgs = (await onMachine('ps -o args= -C kube-apiserver')).stdout.split(/\s+/);
    for (const args of [flags, processArgs]) {
      const mode = args.find((a) => a.startsWith('--authorization-mode='));
      expect(mode, args.join(' ')).toBeDefined();
      expect(mode).not.toMatch(/AlwaysAllow/);
      expect(
        args.some((a) => a.startsWith('--token-auth-file')),
        args.join(' '),
      ).toBe(false);
    }

    const manifest = `apiVersion: v1
kind: Namespace
metadata: { name: rbac-own }
---
apiVersion: v1
kind: Namespace
metadata: { name: rbac-elsewhere }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: lister, namespace: rbac-own }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: pod-lister, namespace: rbac-own }
rules:
- { apiGroups: [""], resources: [pods], verbs: [get, list] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: lister, namespace: rbac-own }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-lister }
subjects:
- { kind: ServiceAccount, name: lister, namespace: rbac-own }
---
apiVersion: v1
kind: Pod
metadata: { name: asker, namespace: rbac-own }
spec:
  serviceAccountName: lister
  terminationGracePeriodSeconds: 1
  containers:
  - { name: client, image: dnsutils, command: [sleep, "86400"] }
`;
    const created = await onMachine(`printf '%s' '${manifest}' | kubectl apply -f -`);
    expect(created.code, created.stderr).toBe(0);
    const asker = await pollOnMachine("kubectl -n rbac-own get pod asker -o 'jsonpath={.status.phase}'", (out) => out === 'Running', 60);
    expect(asker.stdout, asker.stderr).toBe('Running');
    // The pod's own token and CA, mounted by admission; the answer's body and status code.
    const ask = async (namespace: string) => {
      const r = await onMachine(
        `kubectl -n rbac-own exec asker -- sh -c 'd=/var/run/secrets/kubernetes.io/serviceaccount; curl -sS --max-time 5 --cacert $d/ca.crt -H "Authorization: Bearer $(cat $d/token)" -w "\\n%{http_code}" "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/${namespace}/pods"'`,
      );
      expect(r.code, r.stderr).toBe(0);
      const cut = r.stdout.lastIndexOf('\n');
      return {
        status: r.stdout.slice(cut + 1),
        body: JSON.parse(r.stdout.slice(0, cut)) as {
          kind: string;
          reason?: string;
          message?: string;
          items?: { metadata: { name: string } }[];
        },
      };
    };
    const own = await ask('rbac-own');
    expect(own.status, JSON.stringify(own.body)).toBe('200');
    expect(own.body.kind).toBe('PodList');
    expect(own.body.items?.map((p) => p.metadata.name)).toContain('asker');
    const elsewhere = await ask('rbac-elsewhere');
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).toBe('403');
    expect(elsewhere.body).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
    expect(elsewhere.body.message).toContain('system:serviceaccount:rbac-own:lister');

    // The worker kubelet's own credentials: itself, and refused on the master's Node.
    const kubeletKubeconfig = '--kubeconfig=/etc/kubernetes/kubelet.kubeconfig';
    const who = await onWorker(`kubectl ${kubeletKubeconfig} auth whoami -o 'jsonpath={.status.userInfo.username}'`);
    expect(who.stdout, who.stderr).toBe('system:node:k8s-worker');
    const mark = `r${randomBytes(4).toString('hex')}`;
    const label = await onWorker(`kubectl ${kubeletKubeconfig} label node k8s-master reviewer-check=${mark}`);
    expect(label.code).not.toBe(0);
    expect(label.stderr).toMatch(/forbidden/i);
    const masterLabels = (await onMachine("kubectl get node k8s-master -o 'jsonpath={.metadata.labels}'")).stdout;
    expect(masterLabels).not.toContain(mark);

    // A Secret of the reviewer's: the API gives it back, etcd holds ciphertext.
    const word = randomBytes(12).toString('hex');
    expect((await onMachine(`kubectl -n rbac-own create secret generic reviewer --from-literal=word=${word}`)).code).toBe(0);
    const fromApi = (await onMachine("kubectl -n rbac-own get secret reviewer -o 'jsonpath={.data.word}'")).stdout;
    expect(Buffer.from(fromApi, 'base64').toString()).toBe(word);
    const stored = await onMachine(
      'kubectl -n kube-system exec etcd-k8s-master -- etcdctl --endpoints=http://127.0.0.1:2379 get /registry/secrets/rbac-own/reviewer --print-value-only',
    );
    expect(stored.code, stored.stderr).toBe(0);
    expect(stored.stdout.startsWith('k8s:enc:'), stored.stdout.slice(0, 40)).toBe(true);
    expect(stored.stdout).not.toContain(word);
    expect((await onMachine('kubectl delete namespace rbac-own rbac-elsewhere --wait=false')).code).toBe(0);
  }

  return { checkClusterIndependently, checkOwnWorkload, checkOwnDaemonSet, checkOwnAccessControl, pollOnMachine };
}
