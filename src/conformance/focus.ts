/**
 * Which of upstream's [Conformance] specs `book conformance` runs, and the e2e.test command line.
 * Ginkgo ORs its --ginkgo.focus flags, so each area is one regular expression that also asks for
 * `[Conformance]` (RE2, as Go reads it).
 */

const conformance = (sig: string, areas: string[]) => `\\[${sig}\\] (?:${areas.join('|')}) .*\\[Conformance\\]`;

/** The default set (about 95 specs; docs/conformance.md has the measured time). */
export const DEFAULT_FOCUS: readonly string[] = [
  conformance('sig-network', ['Services', 'DNS', 'Networking']),
  conformance('sig-node', ['Pods', 'Container Runtime', 'ConfigMap', 'Secrets', 'Downward API']),
  conformance('sig-apps', ['Deployment', 'ReplicaSet', 'Daemon set']),
  conformance('sig-api-machinery', ['Watchers', 'CustomResourceDefinition resources']),
];

/** --all: every [Conformance] spec. */
export const ALL_FOCUS: readonly string[] = ['\\[Conformance\\]'];

/** Never run: they break the machine on purpose or need what no single box has. */
export const ALWAYS_SKIP: readonly string[] = ['\\[Disruptive\\]', '\\[Flaky\\]', '\\[Feature:[^\\]]+\\]'];

export interface E2eInvocation {
  focus: readonly string[];
  /** Ginkgo's --ginkgo.timeout for the whole suite, e.g. `90m`. */
  timeout: string;
  kubeconfig: string;
  reportDir: string;
}

/** A focus given on the command line must compile as a regular expression (JavaScript's; RE2 is close). */
export function checkFocus(focus: string): string | undefined {
  if (focus.trim() === '') return '--focus needs a regular expression';
  try {
    new RegExp(focus);
    return undefined;
  } catch (error) {
    return `--focus is not a regular expression: ${(error as Error).message}`;
  }
}

/** e2e.test's arguments (after the binary), one word each. */
export function e2eArgs(run: E2eInvocation): string[] {
  return [
    `--kubeconfig=${run.kubeconfig}`,
    '--provider=skeleton',
    `--report-dir=${run.reportDir}`,
    // Fail in minutes, not the defaults' 10 and 30, when the cluster is not there at all.
    '--system-pods-startup-timeout=3m',
    '--node-schedulable-timeout=3m',
    '--dump-logs-on-failure=false',
    ...run.focus.map((f) => `--ginkgo.focus=${f}`),
    ...ALWAYS_SKIP.map((s) => `--ginkgo.skip=${s}`),
    `--ginkgo.timeout=${run.timeout}`,
    '--ginkgo.no-color',
    '--ginkgo.succinct',
  ];
}

/**
 * The nightly e2e's fixed handful (test/e2e/conformance.e2e.test.ts): Services, DNS and Pods specs
 * that take seconds each, and the `kubernetes` Service's endpoint (chapter 2). One expression of
 * literal spec names.
 */
export const SMOKE_SPECS: readonly string[] = [
  '[sig-network] Services should serve a basic endpoint from pods',
  '[sig-network] Services should find a service from listing all namespaces',
  '[sig-network] DNS should provide DNS for services',
  '[sig-network] DNS should provide /etc/hosts entries for the cluster',
  '[sig-node] Pods should get a host IP',
  '[sig-node] Pods should be submitted and removed',
  '[sig-network] API Server should have Endpoints and EndpointSlices pointing to API Server',
];

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export const SMOKE_FOCUS = `(?:${SMOKE_SPECS.map(literal).join('|')}) .*\\[Conformance\\]`;
