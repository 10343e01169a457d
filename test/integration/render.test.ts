import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSite } from '../../src/render/index.js';
import { snapshotTimeline } from '../../src/render/timeline.js';
import { loadBook } from '../../src/runner/load-book.js';
import { readTranscript, type Transcript } from '../../src/runner/record/transcript.js';
import type { Snapshot } from '../../src/runner/state/types.js';
import { podsIn, podsWithSandbox } from '../helpers/snapshot-pods.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const TRANSCRIPT = path.join(ROOT, 'test', 'fixtures', 'transcript', 'book.json');
const CHROMIUM = '/usr/bin/chromium';
const RESULTS = path.join(ROOT, 'test-results');
// CI installs Debian's chromium (.ci/run); elsewhere the browser part is skipped when it is missing.
const haveBrowser = existsSync(CHROMIUM) || Boolean(process.env.CI);

let out: string;
let stale: string[];

beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'book-site-'));
  const book = await loadBook(path.join(ROOT, 'book'));
  ({ stale } = await renderSite({ book, transcript: await readTranscript(TRANSCRIPT), outDir: out }));
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('book render: the static site of the real book with its recorded run', () => {
  it('writes an index, one page per chapter and local assets, highlighted at build time', () => {
    expect(stale).toEqual([]);
    const page = readFileSync(path.join(out, '01-kubelet.html'), 'utf8');
    expect(existsSync(path.join(out, 'index.html'))).toBe(true);
    expect(existsSync(path.join(out, 'assets', 'style.css'))).toBe(true);
    expect(page).toContain('<span class="hljs-keyword">await</span>');
    expect(page).toContain('<span class="badge runs"');
    expect(page).toContain('writes /etc/kubernetes/manifests/nginx.yaml');
    expect(page).toContain('must fail: connection to the server localhost:8080 was refused');
    // A manifest shows what the run wrote: ${K8S_VERSION} as the recorded machine had it.
    const apiServer = readFileSync(path.join(out, '02-api-server.html'), 'utf8');
    const recorded = (JSON.parse(readFileSync(TRANSCRIPT, 'utf8')) as { versions: Record<string, string> }).versions;
    expect(apiServer).toContain(`kube-apiserver:${recorded.K8S_VERSION}`);
    expect(apiServer).not.toContain(['$', '{K8S_VERSION}'].join(''));
    // No network at view time: nothing but relative links and data: URLs.
    for (const name of ['index.html', '01-kubelet.html', '11-recap.html']) {
      const html = readFileSync(path.join(out, name), 'utf8');
      expect(html.match(/(?:src|href)="(https?:)?\/\/[^"]*"/g) ?? []).toEqual([]);
    }
  });
});

describe.skipIf(!haveBrowser)('the rendered site in headless Chromium', () => {
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    profile = mkdtempSync(path.join(tmpdir(), 'book-chromium-'));
    // A fresh profile each time; playwright-core never downloads a browser, it drives Debian's.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('clicks through every page without console errors or network requests, outputs and diffs in place', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${page.url()}: console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`failed request ${request.url()}`));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://') || url.startsWith('data:')) return route.continue();
      problems.push(`network request ${url}`);
      return route.abort();
    });

    await page.goto(pathToFileURL(path.join(out, 'index.html')).href);
    expect(await page.title()).toBe('Build a Minikube');
    const pages = (await loadBook(path.join(ROOT, 'book'))).chapters.map((c) => `${c.id}.html`);
    expect(await page.locator('table.toc tbody tr').count()).toBe(pages.length);
    expect(await page.locator('#ownership-tree pre').textContent()).toMatch(/Deployment\/nginx-deployment\n└── ReplicaSet\/nginx-deployment-/);

    await page.click('a.start');
    const visited: string[] = [];
    for (;;) {
      const file = path.basename(new URL(page.url()).pathname);
      visited.push(file);
      await expect.poll(() => page.locator('nav.chapters a[aria-current="page"]').count()).toBe(1);
      expect(await page.locator('figure.block').count()).toBeGreaterThan(0);
      // Every block that ran shows its status; a block that printed shows its output.
      expect(await page.locator('figure.block .badge.failed').count()).toBe(0);
      expect(await page.locator('figure.block .badge.passed').count()).toBe(await page.locator('figure.block').count());
      if (file === '01-kubelet.html') {
        const nginx = page.locator('figure[data-block="docker-ps-two"] pre.output');
        expect(await nginx.textContent()).toMatch(/k8s_nginx_nginx-k8s-master_default_/);
        await page.locator('figure[data-block="docker-ps-two"]').scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(RESULTS, 'render-01-kubelet.png') });
        await page.locator('figure[data-block="two-containers"] details.state summary').click();
        expect(await page.locator('figure[data-block="two-containers"] pre.diff').textContent()).toMatch(/\+ container k8s_POD_nginx-k8s-master/);
      }
      if (file === '09-dns.html') {
        // The new kinds of state in the diffs: EndpointSlices, and kube-proxy's chains with whom they serve.
        expect(await page.locator('figure[data-block="dig-records"] pre.output').textContent()).toMatch(
          /kube-dns\.kube-system\.svc\.cluster\.local\.\s+\d+\s+IN\s+A\s+10\.96\.0\.10/,
        );
        const diffs = (await page.locator('pre.diff').allTextContents()).join('\n');
        expect(diffs).toMatch(/\+ endpointslice kube-system\/kube-dns-\w+ +service=kube-dns endpoints=\d+\.\d+\.\d+\.\d+/);
        expect(diffs).toMatch(/\+ chain nat\/KUBE-SEP-\w+ +rules=\d+ service=kube-system\/kube-dns:dns dnat=[\d.]+:53/);
      }
      if (file === '07-pod-network.html') {
        const diffs = (await page.locator('pre.diff').allTextContents()).join('\n');
        expect(diffs).toMatch(/\+ link cni0 +kind=bridge/);
        expect(diffs).toMatch(/\+ link veth\w+ +kind=veth master=cni0/);
      }
      if (file === '10-second-node.html') {
        // The second node, in the outputs and in the diffs (keyed by node).
        expect(await page.locator('figure[data-block="two-nodes"] pre.output').textContent()).toMatch(/k8s-master\s+Ready[\s\S]*k8s-worker\s+Ready/);
        const diffs = (await page.locator('pre.diff').allTextContents()).join('\n');
        expect(diffs).toMatch(/\+ node k8s-worker /);
        expect(diffs).toMatch(/\+ container k8s-worker\/k8s_POD_kube-proxy-k8s-worker_kube-system_/);
        expect(diffs).toMatch(/\+ daemon k8s-worker\/kubelet /);
      }
      if (file === '11-recap.html') expect(await page.locator('figure[data-block="ownership-tree"] pre.output').textContent()).toMatch(/└── ReplicaSet/);
      const next = page.locator('nav.pager a.next');
      if ((await next.getAttribute('href')) === 'index.html') break;
      await next.click();
    }
    expect(visited).toEqual(pages);
    // The sidebar goes back, and the keyboard goes forward (assets/book.js).
    await page.click('nav.chapters a[href="03-kubelet-joins.html"]');
    await page.waitForURL(/03-kubelet-joins\.html$/, { waitUntil: 'load' });
    await page.keyboard.press('ArrowRight');
    await page.waitForURL(/04-deployment\.html$/);
    await page.click('#toggle-outputs');
    expect(await page.locator('.result details:not([open])').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('draws the cluster after each chapter from its snapshot: wide and on a phone, in dark and in print, offline', async () => {
    const transcript = JSON.parse(readFileSync(TRANSCRIPT, 'utf8')) as Transcript;
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${page.url()}: console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://') || url.startsWith('data:')) return route.continue();
      problems.push(`network request ${url}`);
      return route.abort();
    });
    const drawn = (selector: string, attribute: string) => page.locator(selector).evaluateAll((els, a) => els.map((e) => e.getAttribute(a) ?? ''), attribute);
    let previous: Snapshot | undefined;
    const wideChapters: string[] = [];
    for (const screen of [
      { width: 1280, name: 'wide' },
      { width: 390, name: 'phone' },
    ]) {
      await page.setViewportSize({ width: screen.width, height: 900 });
      previous = undefined;
      for (const chapter of transcript.chapters) {
        const snapshot = chapter.blocks.filter((b) => b.state?.snapshot).at(-1)?.state?.snapshot;
        if (!snapshot) continue;
        await page.goto(pathToFileURL(path.join(out, `${chapter.id}.html`)).href);
        if (podsIn(snapshot).size === 0 && (await page.locator('#cluster-diagram svg').count()) === 0) continue;
        // One of the two drawings shows: the wide one where it fits at 80 % or more, else the stacked one (always on a phone).
        const wideShown = await page.locator('#cluster-diagram .diagram-wide svg').isVisible();
        expect(await page.locator('#cluster-diagram .diagram-narrow svg').isVisible(), `${chapter.id} ${screen.name}`).toBe(!wideShown);
        if (screen.width < 640) expect(wideShown, chapter.id).toBe(false);
        const shownClass = wideShown ? '.diagram-wide' : '.diagram-narrow';
        const svg = page.locator(`#cluster-diagram ${shownClass} svg`);
        const shown = { shown: shownClass };
        if (wideShown) wideChapters.push(chapter.id);
        // Every pod of the snapshot, once, each sandbox drawn as its pause container.
        const pods = await drawn(`#cluster-diagram ${shown.shown} g.pod`, 'data-pod');
        expect(pods.length, chapter.id).toBe(podsIn(snapshot).size);
        expect(new Set(pods), chapter.id).toEqual(podsIn(snapshot));
        const withPause = await drawn(`#cluster-diagram ${shown.shown} g.pod:has(g.ctr.pause)`, 'data-pod');
        expect(new Set(withPause), chapter.id).toEqual(podsWithSandbox(snapshot));
        // What is new since the chapter before is marked: exactly the pods that were not in its snapshot.
        const fresh = await drawn(`#cluster-diagram ${shown.shown} g.pod.new`, 'data-pod');
        const before = previous ? podsIn(previous) : new Set<string>();
        expect(new Set(fresh), chapter.id).toEqual(new Set([...podsIn(snapshot)].filter((p) => !before.has(p))));
        previous = snapshot;
        if (chapter.id === '06-scheduler') {
          const nginx = await drawn(`#cluster-diagram ${shown.shown} g.pod[data-pod^="default/nginx-deployment-"]:has(g.ctr.pause)`, 'data-pod');
          expect(nginx).toHaveLength(2);
          expect(await page.locator(`#cluster-diagram ${shown.shown} g.edge.owns[data-to^="default/nginx-deployment-"]`).count()).toBe(2);
        }
        // Readable: the drawing is never shrunk below 80 %, so its 11 px text stays at 8.8 px or more.
        const scale = await svg.evaluate((el) => el.getBoundingClientRect().width / (el as SVGSVGElement).viewBox.baseVal.width);
        expect(scale, `${chapter.id} ${screen.name}`).toBeGreaterThanOrEqual(0.79);
        if (['06-scheduler', '10-second-node'].includes(chapter.id)) {
          // The sticky header would cover the drawing's top in a screenshot of the element alone.
          await page.addStyleTag({ content: 'header.top { position: static; }' });
          await page.locator('#cluster-diagram').screenshot({ path: path.join(RESULTS, `diagram-${chapter.id}-${screen.name}.png`) });
        }
      }
    }
    // At 1280 px the one-node chapters fit the wide drawing.
    expect(wideChapters).toContain('04-deployment');
    // A block that changed the cluster a lot has its own drawing, folded under it.
    for (const [id] of snapshotTimeline(transcript).blocks) {
      const chapter = transcript.chapters.find((c) => c.blocks.some((b) => b.id === id));
      await page.goto(pathToFileURL(path.join(out, `${chapter?.id}.html`)).href);
      expect(await page.locator(`figure[data-block="${id}"] details.block-diagram svg.cluster`).count(), id).toBeGreaterThan(0);
    }
    expect(snapshotTimeline(transcript).blocks.size).toBeGreaterThan(0);
    // Dark: the page's colours, not fixed ones; print: the wide drawing, no navigation.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(pathToFileURL(path.join(out, '10-second-node.html')).href);
    const fill = () =>
      page
        .locator('#cluster-diagram .diagram-wide .node-box')
        .first()
        .evaluate((el) => getComputedStyle(el).fill);
    const light = await fill();
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await fill()).not.toBe(light);
    await page.addStyleTag({ content: 'header.top { position: static; }' });
    await page.locator('#cluster-diagram').screenshot({ path: path.join(RESULTS, 'diagram-10-second-node-dark.png') });
    await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
    expect(await fill()).toBe(light);
    expect(await page.locator('#cluster-diagram .diagram-wide svg').isVisible()).toBe(true);
    expect(await page.locator('nav.chapters').isVisible()).toBe(false);
    await page.pdf({ path: path.join(RESULTS, 'diagram-10-second-node-print.pdf') });
    expect(problems).toEqual([]);
  });

  it('keeps a full-page screenshot of a chapter as a test artifact', async () => {
    mkdirSync(RESULTS, { recursive: true });
    const page = await browser.newPage();
    await page.goto(pathToFileURL(path.join(out, '02-api-server.html')).href);
    await page.screenshot({ path: path.join(RESULTS, 'render-02-api-server-full.png'), fullPage: true });
    expect(existsSync(path.join(RESULTS, 'render-02-api-server-full.png'))).toBe(true);
  });
});
