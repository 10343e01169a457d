/**
 * What a failing conformance spec points at in the cluster the book builds: the chapter, and the
 * piece that chapter leaves out on purpose (or has not reached yet). Matched on the spec's name and
 * its failure text, first entry first; docs/conformance.md tells the same story in prose.
 */

export interface Cause {
  id: string;
  /** The chapter whose cluster lacks the piece (`02-api-server`), or `tooling` for this repository's own gaps. */
  chapter: string;
  /** The missing piece, in a few words. */
  missing: string;
  /** What a reader would add to close it. */
  fix: string;
  /** The spec's name matches this (when given) … */
  name?: RegExp;
  /** … and its failure text this (when given). At least one of the two is given. */
  message?: RegExp;
}

export const CAUSES: readonly Cause[] = [
  {
    id: 'time-limit',
    chapter: 'tooling',
    missing: "the run's own time limit stopped the spec (BOOK_CONFORMANCE_TIMEOUT)",
    fix: 'run it again with a longer limit, or a narrower --focus',
    message: /A suite timeout occurred|interrupted by (?:the )?(?:user|timeout)/i,
  },
  {
    // The sample API server is an aggregated API: the book's API server has no aggregation layer,
    // and its image is not built here (docs/conformance.md, change 3).
    id: 'aggregation-layer',
    chapter: '02-api-server',
    missing: 'the aggregation layer (front-proxy certificates, --requestheader-* and --proxy-client-* flags) and the sample-apiserver image',
    fix: 'docs/conformance.md, change 3: not made',
    name: /Sample API Server/i,
  },
  {
    // Measured 2026-12-07: kitten is built, and the spec pulls it with PullAlways; cri-dockerd
    // (v0.4.6, libdocker GenerateMountBindings) also binds only host paths, never an image.
    id: 'image-volume-runtime',
    chapter: '01-kubelet',
    missing:
      'image volumes: cri-dockerd mounts host paths only (an image volume has none), and the spec pulls with PullAlways from a registry that does not answer here',
    fix: 'a container runtime with image volumes (containerd 2.1+, CRI-O); chapter 1 chose cri-dockerd to keep Docker',
    name: /ImageVolume|image volume/i,
  },
  {
    id: 'image-not-built',
    chapter: 'tooling',
    missing: 'a test image that is not built offline',
    fix: 'build it in vagrant/build-conformance.sh (no registry is reachable here)',
    message: /ErrImagePull|ImagePullBackOff|ErrImageNeverPull|Failed to pull image|pull access denied|image .* not (?:found|present)/i,
  },
  {
    // Measured 2026-12-06: the image is loaded on every node, and the kubelet still asks Docker to
    // pull it (ErrImagePull in the worker's kubelet log; the spec's own failure shows only the
    // Deployment not becoming available).
    id: 'pull-always',
    chapter: 'tooling',
    missing:
      'the spec pulls its image with imagePullPolicy: Always, and no registry is reachable here (the image is on the node, but Docker asks the registry first)',
    fix: 'a registry on the machine serving the test images (not built here), or run where registry.k8s.io answers',
    name: /Projected PodCertificate .*mTLS connection/,
  },
  {
    id: 'image-fidelity',
    chapter: 'tooling',
    missing: "the busybox image's sh is not upstream BusyBox's ash (whose error text the spec matches), as it was before 2026-12-07",
    fix: 'vagrant/build-conformance.sh builds upstream BusyBox since 2026-12-07 (build_busybox): rebuild the images (--force), and see its checks in the log',
    name: /read only busybox container should not write to root filesystem/,
  },
  {
    id: 'in-place-resize',
    chapter: '01-kubelet',
    missing: "cri-dockerd does not report a resized container's resources back to the kubelet (CRI ContainerStatus.resources)",
    fix: 'a container runtime that reports resources (containerd, CRI-O), or cri-dockerd support; chapter 1 chose cri-dockerd to keep Docker',
    name: /InPlace Resize|in-place resize/i,
  },
  {
    id: 'apiserver-pod-proxy',
    chapter: '10-second-node',
    missing: "the API server's proxy to a pod (pods/NAME/proxy) does not reach it",
    fix: 'not diagnosed further: check the master reaches every pod address (chapter 10 routes the pod networks) from the host network the API server runs in',
    // Its failure says only "timed out"; its timeline: "the server is currently unable to handle the request (get pods server)".
    name: /PreStop should call prestop when killing a pod/,
  },
  {
    id: 'one-node',
    chapter: '10-second-node',
    missing: 'a second node: the spec needs at least two schedulable nodes',
    fix: 'run the book through chapter 10 (the second node), or an ssh target with nodes:',
    message: /at least (?:2|two) (?:schedulable )?nodes/i,
  },
  // Before the ServiceAccount causes: a pod that got its token and then could not reach the API
  // server at 10.96.0.1 (the OIDC discovery spec, since chapter 12) points here, not at admission.
  {
    id: 'in-cluster-api',
    chapter: '08-services',
    missing:
      "pods cannot reach the API server through the `kubernetes` Service: 10.96.0.1:443 leads to the advertised address (chapter 2), which the master hands to its loopback only with chapter 8's DNAT rules",
    fix: "check the `kubernetes` EndpointSlice (kubectl get endpointslices -l kubernetes.io/service-name=kubernetes) and the rules of chapter 8's api-server-for-pods block (iptables -t nat -S PREROUTING)",
    message:
      /endpoints "kubernetes"|dial tcp 10\.96\.0\.1:443|kubernetes\.default(?:\.svc)?[^\n]*(?:timeout|refused|no such host)|unable to load in-cluster configuration/i,
  },
  {
    // Its failure shows only the validator pod's status; the pod dials the API server at 10.96.0.1.
    id: 'in-cluster-api-oidc',
    chapter: '08-services',
    missing:
      "the OIDC validator pod cannot reach the API server at 10.96.0.1:443 and at the advertised address, the issuer's jwks_uri (chapter 8's DNAT rules to the loopback)",
    fix: "check the `kubernetes` EndpointSlice and the rules of chapter 8's api-server-for-pods block (iptables -t nat -S PREROUTING)",
    name: /ServiceAccountIssuerDiscovery should support OIDC discovery/,
  },
  {
    id: 'service-account-token',
    chapter: '02-api-server',
    missing: 'no ServiceAccount admission until chapter 12: pods get no API token (--disable-admission-plugins=ServiceAccount)',
    fix: 'run the book through chapter 12, which enables the ServiceAccount admission plugin (the token controller signs with sa.key, chapter 5)',
    name: /ServiceAccount|service account|\[sig-auth\]/i,
  },
  {
    id: 'service-account-token-msg',
    chapter: '02-api-server',
    missing: 'no ServiceAccount admission until chapter 12: pods get no API token (--disable-admission-plugins=ServiceAccount)',
    fix: 'run the book through chapter 12, which enables the ServiceAccount admission plugin',
    message: /serviceaccount\/token|kube-api-access|no such file or directory.*secrets\/kubernetes\.io|service ?account .*(?:token|not found)/i,
  },
  {
    id: 'rbac',
    chapter: '02-api-server',
    missing: 'no RBAC until chapter 12: --authorization-mode=AlwaysAllow lets every caller do everything',
    fix: 'run the book through chapter 12, which authorizes with --authorization-mode=Node,RBAC and gives each component its identity',
    name: /\bRBAC\b|SubjectReview|\bforbidden\b|\[sig-auth\] Certificates/i,
  },
  {
    id: 'webhooks-aggregation',
    chapter: '02-api-server',
    missing:
      'the API server calling out: a conversion webhook or an aggregated API server (front-proxy certificates) the spec deploys (admission webhooks pass)',
    fix: "read the webhook pod's events; aggregated APIs also need --requestheader-* and --proxy-client-* certificates on the API server",
    name: /AdmissionWebhook|Aggregator|CustomResourceConversionWebhook|CustomResourceFieldSelectors|CustomResourcePublishOpenAPI/i,
  },
  {
    id: 'nodeport',
    chapter: '08-services',
    missing: 'NodePort: a node port is reached on the node addresses only where kube-proxy and the route allow',
    fix: 'check kube-proxy serves NodePorts on 192.168.56.10/.11 (--nodeport-addresses) and the nodes route to each other',
    name: /NodePort/,
  },
  {
    id: 'session-affinity',
    chapter: '08-services',
    missing: 'ClientIP session affinity through kube-proxy',
    fix: 'kube-proxy in iptables mode programs affinity with the recent module: check the node kernel has xt_recent',
    name: /session affinity/i,
  },
  {
    id: 'dns',
    chapter: '09-dns',
    missing: 'cluster DNS as the specs expect it (CoreDNS answering for cluster.local, pods, ExternalName)',
    fix: 'read the failing name: CoreDNS must answer for services, pods (the `pods insecure` option) and ExternalName CNAMEs',
    name: /\[sig-network\] DNS/,
  },
  {
    id: 'pod-network',
    chapter: '07-pod-network',
    missing: 'pod-to-pod or node-to-pod traffic (the bridge CNI network, and across nodes the routes of chapter 10)',
    fix: 'check the pods of both nodes reach each other (chapter 10 adds the routes) and the node reaches every pod',
    name: /\[sig-network\] Networking|hostPort|HostPort/,
  },
  {
    id: 'services',
    chapter: '08-services',
    missing: 'Service traffic through kube-proxy (ClusterIP, endpoints, multiport, protocols)',
    fix: 'read the failure: kube-proxy rules for the Service, its EndpointSlices, and the route to 10.96.0.0/12',
    name: /\[sig-network\] (?:Services|EndpointSlice|Endpoint|Proxy)/,
  },
  {
    id: 'scheduler',
    chapter: '06-scheduler',
    missing: 'scheduling as the specs expect it (preemption, priorities, taints)',
    fix: 'read the failure: the scheduler runs with its defaults and no PriorityClasses beyond the built-in ones',
    name: /\[sig-scheduling\]/,
  },
  {
    id: 'controllers',
    chapter: '05-controller-manager',
    missing: 'a controller of kube-controller-manager (Deployment, ReplicaSet, DaemonSet, garbage collector, …) not doing what the spec waits for',
    fix: 'read the failure and the controller manager log: which controller, which object',
    name: /\[sig-apps\]|Garbage ?collector|ResourceQuota|Namespaces/i,
  },
  {
    id: 'kubelet',
    chapter: '03-kubelet-joins',
    missing: 'the kubelet behind the API (exec, logs, probes, volumes, container status)',
    fix: 'read the failure: exec and logs go API server -> kubelet :10250 (the kubelet must accept the API server), volumes and probes are the kubelet',
    name: /\[sig-node\]|\[sig-storage\]/,
  },
  {
    id: 'api-machinery',
    chapter: '02-api-server',
    missing: 'an API server feature the spec uses (watch, CRDs, discovery, field validation, …)',
    fix: 'read the failure: the API server runs with the book flags only (chapter 2)',
    name: /\[sig-api-machinery\]|\[sig-architecture\]|\[sig-instrumentation\]|\[sig-cli\]/,
  },
];

export const UNMAPPED: Cause = {
  id: 'unmapped',
  chapter: 'unknown',
  missing: 'not mapped to a chapter yet: read the failure',
  fix: 'add an entry to src/conformance/causes.ts once the reason is known',
};

/** The first cause whose patterns all match the spec (its name, its failure text). */
export function explain(spec: { name: string; message: string }, causes: readonly Cause[] = CAUSES): Cause {
  for (const cause of causes) {
    if (!cause.name && !cause.message) continue;
    if (cause.name && !cause.name.test(spec.name)) continue;
    if (cause.message && !cause.message.test(spec.message)) continue;
    return cause;
  }
  return UNMAPPED;
}
