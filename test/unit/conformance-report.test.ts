// `book conformance` reads upstream's JUnit report (Ginkgo's, as e2e.test --report-dir writes it),
// counts it and maps every failure to the chapter whose cluster lacks something
// (src/conformance). Properties over generated reports and spec names (fast-check), plus the
// default focus checked against the real list of v1.37.2's [Conformance] specs.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAUSES, explain, UNMAPPED } from '../../src/conformance/causes.js';
import { ALL_FOCUS, DEFAULT_FOCUS, e2eArgs, SMOKE_FOCUS, SMOKE_SPECS } from '../../src/conformance/focus.js';
import { decodeXml, parseJunit, type SpecResult } from '../../src/conformance/junit.js';
import { firstLine, formatReport, summarize } from '../../src/conformance/report.js';
import { importScript, parseMeta } from '../../src/conformance/ship.js';

/** Text as Go's encoding/xml escapes it (EscapeText / attribute values). */
function escapeXml(text: string): string {
  return text.replace(
    /[&<>"'\t\n\r]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' })[c] as string,
  );
}

/** Characters XML can carry (encoding/xml replaces the others with U+FFFD). */
const xmlText = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('&', '<', '>', '"', "'", '\n', '\t', '[', ']', ' ', 'é', '→', '😀'),
      fc
        .integer({ min: 0x20, max: 0x10ffff })
        .filter((n) => n < 0xd800 || n > 0xdfff)
        .map((n) => String.fromCodePoint(n)),
    ),
  })
  .map((s) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, ''));

type Generated = { node: string; name: string; state: 'passed' | 'failed' | 'timedout' | 'skipped' | 'filtered' | 'panicked'; seconds: number; text: string };

const generatedSpec = fc.record({
  node: fc.constantFrom('It', 'It', 'It', 'SynchronizedBeforeSuite', 'ReportAfterSuite'),
  name: xmlText.filter((s) => s.trim() !== '' && !/^\s*\[[A-Za-z]+\]/.test(s)),
  state: fc.constantFrom('passed', 'failed', 'timedout', 'skipped', 'filtered', 'panicked'),
  seconds: fc.double({ min: 0, max: 1e5, noNaN: true }).map((n) => Math.round(n * 1000) / 1000),
  text: xmlText,
}) as fc.Arbitrary<Generated>;

/** A JUnit file as Ginkgo's GenerateJUnitReportWithConfig writes it (OmitFailureMessageAttr). */
function junitOf(specs: Generated[]): string {
  const cases = specs.map((s) => {
    const status = s.state === 'filtered' ? 'skipped' : s.state;
    const open = `<testcase name="${escapeXml(`[${s.node}] ${s.name}`)}" classname="Kubernetes e2e suite" status="${status}" time="${s.seconds}">`;
    let inner = '';
    if (s.state === 'filtered') inner = '<skipped message="skipped"></skipped>';
    if (s.state === 'skipped') inner = `<skipped message="${escapeXml(`skipped - ${s.text}`)}"></skipped>`;
    if (s.state === 'failed' || s.state === 'timedout') inner = `<failure type="${s.state}">${escapeXml(s.text)}</failure>`;
    if (s.state === 'panicked') inner = `<error type="panicked">${escapeXml(s.text)}</error>`;
    return `      ${open}\n          ${inner}\n          <system-err>${escapeXml('> Enter [It] …\n')}</system-err>\n      </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n  <testsuites tests="${specs.length}">\n      <testsuite name="Kubernetes e2e suite" package="/">\n${cases.join('\n')}\n      </testsuite>\n  </testsuites>`;
}

describe('the JUnit report of e2e.test', () => {
  it('decodes every text encoding/xml escapes', () => {
    fc.assert(
      fc.property(xmlText, (s) => {
        expect(decodeXml(escapeXml(s))).toBe(s);
      }),
    );
  });

  it('reads back every spec of a generated report: name, status, time, reason', () => {
    fc.assert(
      fc.property(fc.array(generatedSpec, { maxLength: 30 }), (specs) => {
        const parsed = parseJunit(junitOf(specs));
        expect(parsed).toHaveLength(specs.length);
        parsed.forEach((p, i) => {
          const s = specs[i] as Generated;
          expect(p.node).toBe(s.node);
          expect(p.name).toBe(s.name);
          expect(p.seconds).toBe(s.seconds);
          const failed = ['failed', 'timedout', 'panicked'].includes(s.state);
          expect(p.status).toBe(failed ? 'failed' : s.state === 'passed' ? 'passed' : 'skipped');
          expect(p.filtered).toBe(s.state === 'filtered');
          if (failed) expect(p.message).toBe(s.text.trim() || (s.state === 'passed' ? '' : p.message));
          if (s.state === 'skipped') expect(p.message).toBe(s.text.trim());
        });
      }),
    );
  });

  it('refuses a file that is no JUnit report', () => {
    fc.assert(
      fc.property(
        xmlText.filter((s) => !/<testsuites?[\s>]/.test(s)),
        (s) => {
          expect(() => parseJunit(s)).toThrow(/not a JUnit report/);
        },
      ),
    );
  });
});

describe('the summary and the report', () => {
  it('counts every spec once, and every failure under one cause', () => {
    fc.assert(
      fc.property(fc.array(generatedSpec, { maxLength: 40 }), (specs) => {
        const parsed = parseJunit(junitOf(specs));
        const summary = summarize(parsed);
        const its = parsed.filter((p) => p.node === 'It');
        const suiteFailures = parsed.filter((p) => p.node !== 'It' && p.status === 'failed').length;
        expect(summary.notSelected).toBe(its.filter((p) => p.filtered).length);
        expect(summary.passed + summary.failed + summary.skipped + summary.notSelected).toBe(its.length + suiteFailures);
        expect(summary.byCause.reduce((n, g) => n + g.specs.length, 0)).toBe(summary.failed);
        for (const spec of summary.specs) expect(spec.cause !== undefined).toBe(spec.status === 'failed');
        const text = formatReport(summary, '/x/junit.xml');
        expect(text).toContain(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
        expect(text.split('\n').filter((l) => /^(PASS|FAIL|SKIP) {2}/.test(l))).toHaveLength(summary.specs.length);
      }),
    );
  });

  it("a failure's first line is one line, never longer than asked", () => {
    fc.assert(
      fc.property(xmlText, fc.integer({ min: 2, max: 300 }), (text, max) => {
        const line = firstLine(text, max);
        expect(line).not.toContain('\n');
        expect(line.length).toBeLessThanOrEqual(max);
      }),
    );
  });
});

/** Fragments of real spec names and failure texts, recombined. */
const SIGS = [
  '[sig-network] DNS',
  '[sig-network] Services',
  '[sig-network] Networking Granular Checks: Pods',
  '[sig-node] Pods',
  '[sig-apps] Deployment',
  '[sig-auth] ServiceAccounts',
  '[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin]',
  '[sig-api-machinery] Watchers',
  '[sig-storage] Projected',
  '[sig-scheduling] SchedulerPredicates',
  '[sig-cli] Kubectl client',
];
const FAILURES = [
  'Timed out after 120.001s.',
  'Failed to pull image "registry.k8s.io/e2e-test-images/nautilus:1.8"',
  'dial tcp 10.96.0.1:443: i/o timeout',
  'open /var/run/secrets/kubernetes.io/serviceaccount/token: no such file or directory',
  'Expected <int>: 0 to equal <int>: 1',
  'Unable to read wheezy_udp@dns-test-service from pod',
  '',
];
const specName = fc
  .tuple(
    fc.constantFrom(...SIGS),
    fc.constantFrom(
      'should serve a basic endpoint from pods',
      'should be able to create a functioning NodePort service',
      'should have session affinity work for service with type clusterIP',
      'should provide DNS for services',
      'should mount an API token into pods',
    ),
    fc.boolean(),
  )
  .map(([sig, what, c]) => `${sig} ${what}${c ? ' [Conformance]' : ''}`);

describe('what a failure points at', () => {
  it('is the first cause of the table whose patterns all match, or none', () => {
    fc.assert(
      fc.property(specName, fc.constantFrom(...FAILURES), xmlText, (name, failure, noise) => {
        const spec = { name, message: `${noise}\n${failure}` };
        const cause = explain(spec);
        const first = CAUSES.find((c) => (c.name || c.message) && (!c.name || c.name.test(name)) && (!c.message || c.message.test(spec.message)));
        expect(cause).toBe(first ?? UNMAPPED);
      }),
    );
  });

  it('an image that was never built is said first, whatever the spec', () => {
    fc.assert(
      fc.property(specName, xmlText, (name, noise) => {
        expect(explain({ name, message: `${noise} Failed to pull image "registry.k8s.io/e2e-test-images/x:1" ${noise}` }).id).toBe('image-not-built');
      }),
    );
  });

  it('a pod that cannot reach the API server at 10.96.0.1 points at the loopback-only API server, whatever the spec (a ServiceAccount one too)', () => {
    const unreachable = fc.constantFrom(
      'dial tcp 10.96.0.1:443: connect: no route to host',
      'dial tcp 10.96.0.1:443: i/o timeout',
      'dial tcp 10.96.0.1:443: connect: connection refused',
    );
    const clean = xmlText.filter((t) => !/pull|image|timeout occurred|interrupted/i.test(t));
    fc.assert(
      fc.property(specName, clean, unreachable, clean, (name, before, failure, after) => {
        expect(explain({ name, message: `${before} Get "https://kubernetes.default.svc/x": ${failure} ${after}` }).id).toBe('in-cluster-api');
      }),
    );
  });

  /** Each failure kept from a real --all run maps to the cause found behind it (by a pattern of its name). */
  const expectCauses = (fixture: string, count: number, expected: [RegExp, string][]) => {
    const failures = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../fixtures/conformance', fixture), 'utf8')) as {
      name: string;
      message: string;
    }[];
    expect(failures).toHaveLength(count);
    for (const failure of failures) {
      const want = expected.find(([name]) => name.test(failure.name));
      expect(want, failure.name).toBeDefined();
      expect(explain(failure).id, failure.name).toBe(want?.[1]);
    }
  };
  const STILL_FAILING: [RegExp, string][] = [
    [/Sample API Server/, 'aggregation-layer'],
    [/ImageVolume/, 'image-volume-runtime'],
    [/Projected PodCertificate/, 'pull-always'],
    [/OIDC discovery/, 'in-cluster-api-oidc'],
    [/Endpoints and EndpointSlices pointing to API Server/, 'in-cluster-api'],
    [/read only busybox/, 'image-fidelity'],
    [/InPlace Resize/, 'in-place-resize'],
  ];

  it('maps the failures of the --all run of 2026-12-06 (v1.37.2, whole book) to what was found behind each', () => {
    expectCauses('failures-v1.37.2-2026-12-06.json', 11, [
      ...STILL_FAILING,
      // nautilus, kitten and nonewprivs are built since (2026-12-07): that run's timeouts of the
      // Update Demo no longer point at an image, and fall to the sig-cli cause; the pull errors
      // of AllowPrivilegeEscalation still say what they were.
      [/Update Demo/, 'api-machinery'],
      [/AllowPrivilegeEscalation/, 'image-not-built'],
    ]);
  });

  it('maps the failures of the --all run after the images were built (v1.37.2, whole book, 2026-12-07) to what was found behind each', () => {
    expectCauses('failures-v1.37.2-2026-12-07.json', 8, STILL_FAILING);
  });

  it('maps the failures of the --all run after change 1 and upstream BusyBox (v1.37.2, whole book, 2026-12-07, later) to what was found behind each', () => {
    // The kubernetes Service's endpoint (OIDC discovery, Endpoints) and busybox's ash (read-only root) pass since.
    const fixed = ['in-cluster-api-oidc', 'in-cluster-api', 'image-fidelity'];
    expectCauses(
      'failures-v1.37.2-2026-12-07-later.json',
      5,
      STILL_FAILING.filter(([, id]) => !fixed.includes(id)),
    );
  });

  it('names a chapter of the book (or the tooling) for every cause', () => {
    const chapters = readdirSync(path.resolve(import.meta.dirname, '../../book'))
      .filter((f) => /^\d\d-.*\.md$/.test(f))
      .map((f) => f.replace(/\.md$/, ''));
    for (const cause of CAUSES) expect([...chapters, 'tooling']).toContain(cause.chapter);
  });
});

describe('the focus', () => {
  const names = readFileSync(path.resolve(import.meta.dirname, '../fixtures/conformance/conformance-v1.37.2.txt'), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  const selects = (focus: readonly string[], name: string) => focus.some((f) => new RegExp(f).test(name));

  it('selects the default areas of v1.37.2 and nothing else', () => {
    const chosen = names.filter((n) => selects(DEFAULT_FOCUS, n));
    expect(chosen.length).toBeGreaterThan(85);
    expect(chosen.length).toBeLessThan(105);
    for (const n of chosen)
      expect(n).toMatch(
        /^\[(sig-network\] (Services|DNS|Networking)|sig-node\] (Pods|Container Runtime|ConfigMap|Secrets|Downward API)|sig-apps\] (Deployment|ReplicaSet|Daemon set)|sig-api-machinery\] (Watchers|CustomResourceDefinition resources)) /,
      );
    expect(chosen.some((n) => n.startsWith('[sig-storage]'))).toBe(false);
    expect(names.filter((n) => selects(ALL_FOCUS, n))).toHaveLength(names.length);
  });

  it("the nightly e2e's focus selects its specs and no other", () => {
    const chosen = names.filter((n) => new RegExp(SMOKE_FOCUS).test(n));
    expect(chosen.map((n) => SMOKE_SPECS.find((s) => n.startsWith(s)))).toEqual(expect.arrayContaining([...SMOKE_SPECS]));
    expect(chosen).toHaveLength(SMOKE_SPECS.length);
  });

  it('passes each focus as one argument, whatever it holds', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }), (focus) => {
        const args = e2eArgs({ focus, timeout: '1h', kubeconfig: '/k', reportDir: '/r' });
        expect(args.filter((a) => a.startsWith('--ginkgo.focus=')).map((a) => a.slice('--ginkgo.focus='.length))).toEqual(focus);
        expect(args).toContain('--provider=skeleton');
      }),
    );
  });
});

describe('the images', () => {
  it('reads back the refs and changes of a .meta file', () => {
    const ref = fc.stringMatching(/^[a-z0-9.]+(\/[a-z0-9-]+)*:[A-Za-z0-9._-]+$/);
    fc.assert(
      fc.property(
        fc.array(ref, { minLength: 1, maxLength: 3 }),
        fc.array(fc.constantFrom('ENTRYPOINT ["/agnhost"]', 'CMD ["pause"]', 'EXPOSE 80', "ENV A='b c'"), { maxLength: 4 }),
        (refs, changes) => {
          const meta = ['recipe 2', ...refs.map((r) => `ref ${r}`), ...changes.map((c) => `change ${c}`)].join('\n');
          expect(parseMeta(meta)).toEqual({ refs, changes });
          const script = importScript({ tar: '/t.tar', refs, changes }, '/n/t.tar');
          expect(script.split(' && ')).toHaveLength(refs.length);
        },
      ),
    );
  });
});

// A failing suite node fails the run even when no spec ran.
it('a failing BeforeSuite is a failure of the run', () => {
  const results: SpecResult[] = [{ name: '', node: 'SynchronizedBeforeSuite', status: 'failed', seconds: 1, message: 'nodes not ready', filtered: false }];
  expect(summarize(results).failed).toBe(1);
});
