import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, Watch } from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { type Forward, startForward } from './forward.js';
import { makeDockerClient } from './targets/reader-docker.js';
import { ConnectionRefused, type Target } from './targets/target.js';

export class ApiUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiUnavailable';
  }
}

export interface K8s {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  watch: Watch;
  objects: KubernetesObjectApi;
  /** The API server as the machine sees it, e.g. https://127.0.0.1:6443. */
  server: string;
}

/**
 * Wraps an API client so that a request that cannot reach the server fails with what to do, not
 * with "socket hang up".
 */
function explainFailures<T extends object>(api: T, lastRefusal: () => ConnectionRefused | undefined, server: string): T {
  return new Proxy(api, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((error: Error & { code?: string }) => {
          const refusal = lastRefusal();
          if (refusal || /ECONNRESET|ECONNREFUSED|socket hang up/.test(`${error.code ?? ''} ${error.message}`)) {
            throw new ApiUnavailable(
              `the API server at ${server} on the machine is not reachable (${refusal ? 'connection refused' : error.message}): is kube-apiserver running and ready?`,
            );
          }
          throw error;
        });
      };
    },
  });
}

/** The `k8s` and `docker` globals, reached through the target. */
export class MachineClients {
  private dockerForward?: Forward;
  private apiForward?: Forward;
  private apiFor?: string;
  private k8sValue?: K8s;
  private k8sProblem = 'not loaded yet';
  private lastRefusal?: ConnectionRefused;
  docker?: Docker;

  constructor(
    private readonly target: Target,
    private readonly kubeconfigPath: string,
  ) {}

  async dockerClient(): Promise<Docker> {
    if (this.docker) return this.docker;
    // A local machine's socket is a file on this host: no forward needed.
    const direct = this.target.hostSocketPath?.(this.target.dockerSocket);
    if (direct) {
      this.docker = makeDockerClient({ socketPath: direct });
      return this.docker;
    }
    this.dockerForward = await startForward(() => this.target.openUnix(this.target.dockerSocket));
    this.docker = makeDockerClient({ host: '127.0.0.1', port: this.dockerForward.port, protocol: 'http' });
    return this.docker;
  }

  /** Where the kubeconfig is on the machine (book.yaml `kubeconfig`). */
  get kubeconfigFile(): string {
    return this.kubeconfigPath;
  }

  /** Re-reads the kubeconfig on the machine; cheap when it has not changed. */
  async refreshK8s(): Promise<void> {
    let text: string;
    try {
      text = (await this.target.readFile(this.kubeconfigPath)).toString('utf8');
    } catch {
      this.k8sValue = undefined;
      this.k8sProblem = `there is no kubeconfig at ${this.kubeconfigPath} on the machine yet, so no API server to talk to (the book writes it when it starts kube-apiserver)`;
      return;
    }
    if (this.k8sValue && this.apiFor === text) return;
    const kc = new KubeConfig();
    try {
      kc.loadFromString(text);
    } catch (error) {
      this.k8sValue = undefined;
      this.k8sProblem = `the kubeconfig at ${this.kubeconfigPath} does not load: ${(error as Error).message}`;
      return;
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) {
      this.k8sProblem = `the kubeconfig at ${this.kubeconfigPath} has no current cluster`;
      return;
    }
    const url = new URL(cluster.server);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    await this.apiForward?.close();
    this.lastRefusal = undefined;
    this.apiForward = await startForward(
      () =>
        this.target.openTcp(url.hostname, port).then((stream) => {
          this.lastRefusal = undefined;
          return stream;
        }),
      (error) => {
        if (error instanceof ConnectionRefused) this.lastRefusal = error;
      },
    );
    const local = `${url.protocol}//127.0.0.1:${this.apiForward.port}`;
    const tlsServerName = cluster.tlsServerName ?? (url.hostname === '127.0.0.1' ? undefined : url.hostname);
    const clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: local, tlsServerName } : c));
    kc.loadFromOptions({ clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
    const refusal = () => this.lastRefusal;
    this.apiFor = text;
    this.k8sValue = {
      kc,
      core: explainFailures(kc.makeApiClient(CoreV1Api), refusal, cluster.server),
      apps: explainFailures(kc.makeApiClient(AppsV1Api), refusal, cluster.server),
      watch: new Watch(kc),
      objects: explainFailures(KubernetesObjectApi.makeApiClient(kc), refusal, cluster.server),
      server: cluster.server,
    };
  }

  /** The `k8s` global: a clear error until the API server's kubeconfig exists. */
  k8sGlobal(): K8s {
    const get = (key: keyof K8s) => {
      if (!this.k8sValue) throw new ApiUnavailable(`k8s.${key} is not available: ${this.k8sProblem}`);
      return this.k8sValue[key];
    };
    return {
      get kc() {
        return get('kc') as KubeConfig;
      },
      get core() {
        return get('core') as CoreV1Api;
      },
      get apps() {
        return get('apps') as AppsV1Api;
      },
      get watch() {
        return get('watch') as Watch;
      },
      get objects() {
        return get('objects') as KubernetesObjectApi;
      },
      get server() {
        return get('server') as string;
      },
    };
  }

  async close(): Promise<void> {
    await this.dockerForward?.close();
    await this.apiForward?.close();
  }
}
