/**
 * The JUnit file upstream's e2e.test writes with --report-dir (`junit_01.xml`, Ginkgo's JUnit
 * reporter as test/e2e/framework/internal/junit configures it), read into one result per spec.
 *
 * Only what Go's encoding/xml writes is read: `<testcase name=".." status=".." time="..">` with at
 * most one `<skipped message=".."/>`, `<failure type="..">text</failure>` or `<error ..>text</error>`.
 */

export type SpecStatus = 'passed' | 'failed' | 'skipped';

export interface SpecResult {
  /** The spec's full text, without Ginkgo's leading `[It] ` (`[sig-network] DNS should … [Conformance]`). */
  name: string;
  status: SpecStatus;
  seconds: number;
  /** Why it failed (the failure's text) or was skipped (the reason after `skipped - `); '' otherwise. */
  message: string;
  /**
   * Skipped because the focus left it out (Ginkgo lists every spec of the suite, run or not):
   * not a result a reader cares about, only counted.
   */
  filtered: boolean;
  /** Ginkgo's node type: `It` for a spec, `SynchronizedBeforeSuite`, `ReportAfterSuite`… for the suite's own. */
  node: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML character references and the five named entities, as encoding/xml writes them. */
export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return safeCodePoint(Number.parseInt(ref.slice(2), 16)) ?? whole;
    if (ref.startsWith('#')) return safeCodePoint(Number.parseInt(ref.slice(1), 10)) ?? whole;
    return ENTITIES[ref] ?? whole;
  });
}

function safeCodePoint(n: number): string | undefined {
  return Number.isFinite(n) && n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([A-Za-z_:][-A-Za-z0-9_:.]*)="([^"]*)"/g)) out[m[1] as string] = decodeXml(m[2] as string);
  return out;
}

/** The text of the first `<name …>text</name>` (or '' for `<name …/>`) in body, and its attributes. */
function child(body: string, name: string): { attrs: Record<string, string>; text: string } | undefined {
  const open = new RegExp(`<${name}(\\s[^>]*?)?(/?)>`).exec(body);
  if (!open) return undefined;
  const attrs = attributes(open[1] ?? '');
  if (open[2] === '/') return { attrs, text: '' };
  const rest = body.slice(open.index + open[0].length);
  const close = rest.indexOf(`</${name}>`);
  return { attrs, text: decodeXml(close >= 0 ? rest.slice(0, close) : rest) };
}

/** Every `<testcase>` of the file, in order. Throws when the text is no JUnit report at all. */
export function parseJunit(xml: string): SpecResult[] {
  if (!/<testsuites?[\s>]/.test(xml)) throw new Error('not a JUnit report: no <testsuites> or <testsuite> element');
  const results: SpecResult[] = [];
  const testcase = /<testcase(\s[^>]*?)?(\/?)>/g;
  for (let m = testcase.exec(xml); m; m = testcase.exec(xml)) {
    const attrs = attributes(m[1] ?? '');
    let body = '';
    if (m[2] !== '/') {
      const end = xml.indexOf('</testcase>', testcase.lastIndex);
      body = xml.slice(testcase.lastIndex, end >= 0 ? end : undefined);
      if (end >= 0) testcase.lastIndex = end + '</testcase>'.length;
    }
    const full = attrs.name ?? '';
    const leaf = /^\[([A-Za-z]+)\] ?/.exec(full);
    const node = leaf ? (leaf[1] as string) : 'It';
    const name = leaf ? full.slice(leaf[0].length) : full;
    const seconds = Number(attrs.time ?? 0);
    const failure = child(body, 'failure') ?? child(body, 'error');
    const skipped = child(body, 'skipped');
    let status: SpecStatus;
    let message = '';
    let filtered = false;
    if (failure) {
      status = 'failed';
      message = (failure.text || failure.attrs.message || '').trim();
    } else if (skipped || attrs.status === 'skipped' || attrs.status === 'pending') {
      status = 'skipped';
      const said = skipped?.attrs.message ?? attrs.status ?? 'skipped';
      // "skipped" alone: not selected by the focus; "skipped - REASON": the spec itself said why.
      filtered = said === 'skipped' || said === 'pending';
      message = said.replace(/^skipped(?: - )?/, '').trim();
    } else if (attrs.status === undefined || attrs.status === 'passed') {
      status = 'passed';
    } else {
      // failed, timedout, interrupted, aborted, panicked without a child element
      status = 'failed';
      message = attrs.status;
    }
    results.push({ name: name || full, status, seconds: Number.isFinite(seconds) ? seconds : 0, message, filtered, node });
  }
  return results;
}
