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
import { livePods } from '../helpers/live-pods.js';
import { podsWithSandbox } from '../helpers/snapshot-pods.js';

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
    for (const name of ['index.html', '01-kubelet.html', '15-recap.html']) {
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
      if (file === '15-recap.html') expect(await page.locator('figure[data-block="ownership-tree"] pre.output').textContent()).toMatch(/└── ReplicaSet/);
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
    // "Unfold all" opens every block's details (commands, state, drawings: the outputs are open already), then says "Fold all".
    expect(await page.locator('#toggle-outputs').textContent()).toBe('Unfold all');
    await page.click('#toggle-outputs');
    expect(await page.locator('.result details:not([open])').count()).toBe(0);
    expect(await page.locator('#toggle-outputs').textContent()).toBe('Fold all');
    await page.click('#toggle-outputs');
    expect(await page.locator('.result details[open]').count()).toBe(0);
    expect(await page.locator('#toggle-outputs').textContent()).toBe('Unfold all');
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
        if (livePods(snapshot).size === 0 && (await page.locator('#cluster-diagram svg').count()) === 0) continue;
        // One of the two drawings shows: the wide one where it fits at 80 % or more, else the stacked one (two nodes on a phone).
        const wideShown = await page.locator('#cluster-diagram .diagram-wide svg').isVisible();
        expect(await page.locator('#cluster-diagram .diagram-narrow svg').isVisible(), `${chapter.id} ${screen.name}`).toBe(!wideShown);
        if (screen.width < 640 && Number(await page.locator('#cluster-diagram figure').getAttribute('data-nodes')) > 1)
          expect(wideShown, chapter.id).toBe(false);
        const shownClass = wideShown ? '.diagram-wide' : '.diagram-narrow';
        const svg = page.locator(`#cluster-diagram ${shownClass} svg`);
        if (wideShown) wideChapters.push(chapter.id);
        // Every live pod of the snapshot, once (what Docker keeps of deleted pods is listed, not drawn), each sandbox as its pause container.
        const pods = await drawn(`#cluster-diagram ${shownClass} g.pod`, 'data-pod');
        expect(pods.length, chapter.id).toBe(livePods(snapshot).size);
        expect(new Set(pods), chapter.id).toEqual(livePods(snapshot));
        const withPause = await drawn(`#cluster-diagram ${shownClass} g.pod:has(g.ctr.pause)`, 'data-pod');
        expect(new Set(withPause), chapter.id).toEqual(new Set([...podsWithSandbox(snapshot)].filter((p) => livePods(snapshot).has(p))));
        // What is new since the chapter before is marked: exactly the pods that were not drawn in it.
        const fresh = await drawn(`#cluster-diagram ${shownClass} g.pod.new`, 'data-pod');
        const before = previous ? livePods(previous) : new Set<string>();
        expect(new Set(fresh), chapter.id).toEqual(new Set([...livePods(snapshot)].filter((p) => !before.has(p))));
        previous = snapshot;
        // Every arrow names its reason (its tooltip), and the list under the drawing has one line per arrow.
        const reasons = await drawn(`#cluster-diagram ${shownClass} g.edge`, 'data-reason');
        expect(
          reasons.every((r) => r.length > 0),
          chapter.id,
        ).toBe(true);
        if (reasons.length) expect(await page.locator('#cluster-diagram details.arrows li').count(), chapter.id).toBe(reasons.length);
        // Screen readers: the drawing is an image named and described by its title and desc.
        expect(await svg.getAttribute('role')).toBe('img');
        const description = await svg.evaluate((el) => document.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent ?? '');
        for (const pod of livePods(snapshot)) expect(description, chapter.id).toContain(`Pod ${pod}`);
        if (chapter.id === '06-scheduler') {
          const nginx = await drawn(`#cluster-diagram ${shownClass} g.pod[data-pod^="default/nginx-deployment-"]:has(g.ctr.pause)`, 'data-pod');
          expect(nginx).toHaveLength(2);
          expect(await page.locator(`#cluster-diagram ${shownClass} g.edge.owns[data-to^="default/nginx-deployment-"]`).count()).toBe(2);
        }
        if (chapter.id === '07-pod-network') {
          // The replaced pods are gone (said once), and cri-dockerd, restarted by the book, runs.
          expect(await page.locator('#cluster-diagram p.removed').textContent()).toMatch(
            /Gone since the drawing before: pod default\/nginx-deployment-\S+, pod default\/nginx-deployment-/,
          );
          expect(await page.locator(`#cluster-diagram ${shownClass} g.daemon[data-daemon="cri-dockerd"]`).getAttribute('class')).toContain('state-running');
        }
        // Readable: the drawing is never shrunk below 80 %, so its 11 px text stays at 8.8 px or more.
        const scale = await svg.evaluate((el) => el.getBoundingClientRect().width / (el as SVGSVGElement).viewBox.baseVal.width);
        expect(scale, `${chapter.id} ${screen.name}`).toBeGreaterThanOrEqual(0.79);
        if (['06-scheduler', '07-pod-network', '10-second-node'].includes(chapter.id)) {
          // The sticky header would cover the drawing's top in a screenshot of the element alone.
          await page.addStyleTag({ content: 'header.top { position: static; }' });
          await page.locator('#cluster-diagram').screenshot({ path: path.join(RESULTS, `diagram-${chapter.id}-${screen.name}.png`) });
        }
      }
    }
    // At 1280 px every chapter's wide drawing fits, the two-node ones too.
    expect(wideChapters).toEqual(expect.arrayContaining(['04-deployment', '10-second-node', '15-recap']));
    // The chapter about two nodes shows them side by side at 1280 px.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(pathToFileURL(path.join(out, '10-second-node.html')).href);
    const boxes = await page
      .locator('#cluster-diagram .diagram-wide g.node > rect.node-box')
      .evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ x: r.x, y: r.y, w: r.width })));
    expect(boxes).toHaveLength(2);
    const [master, worker] = boxes as [{ x: number; y: number; w: number }, { x: number; y: number; w: number }];
    expect(Math.abs(master.y - worker.y)).toBeLessThan(1);
    expect(worker.x).toBeGreaterThanOrEqual(master.x + master.w);
    // A block that changed the cluster a lot has its own drawing, folded under it.
    for (const [id] of snapshotTimeline(transcript).blocks) {
      const chapter = transcript.chapters.find((c) => c.blocks.some((b) => b.id === id));
      await page.goto(pathToFileURL(path.join(out, `${chapter?.id}.html`)).href);
      expect(await page.locator(`figure[data-block="${id}"] details.block-diagram svg.cluster`).count(), id).toBeGreaterThan(0);
    }
    expect(snapshotTimeline(transcript).blocks.size).toBeGreaterThan(0);
    // Dark: the page's colours, not fixed ones; print: the stacked drawing at its own size, light, no navigation.
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
    expect(await page.locator('#cluster-diagram .diagram-narrow svg').isVisible()).toBe(true);
    expect(await page.locator('#cluster-diagram .diagram-wide svg').isVisible()).toBe(false);
    const printScale = await page
      .locator('#cluster-diagram .diagram-narrow svg')
      .evaluate((el) => el.getBoundingClientRect().width / (el as SVGSVGElement).viewBox.baseVal.width);
    expect(printScale).toBeGreaterThanOrEqual(0.99);
    expect(await page.locator('nav.chapters').isVisible()).toBe(false);
    await page.pdf({ path: path.join(RESULTS, 'diagram-10-second-node-print.pdf') });
    await page.emulateMedia({ media: 'screen', colorScheme: 'light' });
    expect(problems).toEqual([]);
  });

  // One test per width and medium (light, dark, print): each goes through every page of the book, and a test that runs
  // past a minute makes vitest's worker time out reporting it (vitest-dev/vitest#8164).
  async function readsWell(width: number, medium: 'light' | 'dark' | 'print') {
    const page = await browser.newPage();
    const pages = ['index.html', ...(await loadBook(path.join(ROOT, 'book'))).chapters.map((c) => `${c.id}.html`)];
    /** Every rendered text's colour against the first opaque background behind it (SVG aside: site-contrast.test.ts). */
    const lowContrast = () =>
      page.evaluate(() => {
        const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
        const lum = ([r = 0, g = 0, b = 0]: number[]) => {
          const f = (v: number) => {
            const c = v / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
          };
          return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
        };
        const ratio = (a: number[], b: number[]) => {
          const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
          return (hi + 0.05) / (lo + 0.05);
        };
        const background = (el: Element | null): number[] => {
          for (; el; el = el.parentElement) {
            const c = parse(getComputedStyle(el).backgroundColor);
            if (c.length === 3 || (c[3] ?? 0) > 0.99) return c.slice(0, 3);
          }
          return [255, 255, 255];
        };
        const low: string[] = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const el = node.parentElement;
          if (!el || !node.textContent?.trim() || el.closest('svg, script')) continue;
          if (el.getClientRects().length === 0 || getComputedStyle(el).visibility === 'hidden') continue;
          const r = ratio(parse(getComputedStyle(el).color), background(el));
          if (r < 4.5) low.push(`${el.tagName.toLowerCase()}.${el.className} "${node.textContent.trim().slice(0, 30)}" ${r.toFixed(2)}`);
        }
        return [...new Set(low)].slice(0, 20);
      });
    const sideways = () =>
      page.evaluate(() => {
        const doc = document.documentElement;
        return doc.scrollWidth > doc.clientWidth ? `page ${doc.scrollWidth} > ${doc.clientWidth}` : '';
      });
    await page.setViewportSize({ width, height: 900 });
    if (medium !== 'print') {
      for (const scheme of [medium]) {
        await page.emulateMedia({ media: 'screen', colorScheme: scheme });
        for (const name of pages) {
          await page.goto(pathToFileURL(path.join(out, name)).href);
          // Every block's details open: outputs, commands, state diffs and drawings are checked too.
          await page.evaluate(() => {
            for (const d of document.querySelectorAll('details')) d.open = true;
          });
          expect(await sideways(), `${name} ${width} ${scheme}`).toBe('');
          expect(await lowContrast(), `${name} ${width} ${scheme}`).toEqual([]);
          // Full-page pictures of a few pages only: of all of them they took half a minute.
          if (scheme === 'light' && width === 1280 && ['index.html', '10-second-node.html', '14-break-it.html'].includes(name))
            await page.screenshot({ path: path.join(RESULTS, `page-${name.replace('.html', '')}-1280.png`), fullPage: true });
          if (width === 390) await page.screenshot({ path: path.join(RESULTS, `page-${name.replace('.html', '')}-390-${scheme}.png`) });
        }
      }
    } else {
      // Print: nothing is cut at the right edge (code and outputs wrap), the drawing at a readable size.
      await page.emulateMedia({ media: 'print', colorScheme: 'light' });
      for (const name of pages) {
        await page.goto(pathToFileURL(path.join(out, name)).href);
        const cut = await page.evaluate(() =>
          [...document.querySelectorAll('pre')]
            .filter((p) => p.getClientRects().length > 0 && p.scrollWidth > p.clientWidth + 1)
            .map((p) => p.textContent?.slice(0, 40)),
        );
        expect(cut, `${name} print ${width}`).toEqual([]);
        expect(await sideways(), `${name} print ${width}`).toBe('');
      }
    }
    await page.close();
  }
  for (const width of [390, 1280]) {
    for (const scheme of ['light', 'dark'] as const)
      it(`reads well on every page at ${width} px, ${scheme}: no sideways page scroll, all text at 4.5:1 or more`, () => readsWell(width, scheme), 120_000);
    it(`prints every page at ${width} px: nothing cut at the right edge, no sideways scroll`, () => readsWell(width, 'print'), 120_000);
  }
  it('prints the second node chapter to PDF (a test artifact)', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(pathToFileURL(path.join(out, '10-second-node.html')).href);
    await page.pdf({ path: path.join(RESULTS, 'page-10-second-node-print.pdf') });
    await page.close();
  });

  it('serves a reader: the page before the chapter list on a phone, a skip link, anchors below the header, ← → kept inside code, copy buttons, an index that says what and how', async () => {
    const page = await browser.newPage();
    const open = (name: string) => page.goto(pathToFileURL(path.join(out, name)).href);
    // Phone: the chapter's title and text on the first screen, the chapter list after the chapter (the header links there).
    await page.setViewportSize({ width: 390, height: 844 });
    await open('05-controller-manager.html');
    const h1 = await page.locator('main h1').boundingBox();
    expect(h1?.y ?? 900).toBeLessThan(300);
    const nav = await page.locator('nav.chapters').boundingBox();
    const main = await page.locator('main').boundingBox();
    expect(nav?.y ?? 0).toBeGreaterThan((main?.y ?? 0) + (main?.height ?? 0) - 1);
    expect(await page.locator('header a.to-chapters').isVisible()).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });
    await open('05-controller-manager.html');
    expect(await page.locator('header a.to-chapters').isVisible()).toBe(false);
    // The skip link is the first stop of the keyboard, and takes it to the content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip-link');
    expect(await page.locator('.skip-link').isVisible()).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // "On this page" lists the sections of a long chapter; an anchor lands below the sticky header.
    await open('10-second-node.html');
    const toc = page.locator('nav.on-this-page a');
    expect(await toc.count()).toBeGreaterThanOrEqual(4);
    const target = (await toc.nth(2).getAttribute('href')) ?? '';
    await toc.nth(2).click();
    await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    const headerBottom = await page.locator('header.top').evaluate((el) => el.getBoundingClientRect().bottom);
    const top = await page.locator(target).evaluate((el) => el.getBoundingClientRect().top);
    expect(top).toBeGreaterThanOrEqual(headerBottom);
    // ← → change pages, but not while a code block has the focus (it scrolls sideways instead).
    await open('02-api-server.html');
    const code = page.locator('figure[data-block="node-ip"] > pre');
    await code.focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForTimeout(200);
    expect(page.url()).toMatch(/02-api-server\.html$/);
    expect(await code.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
    await page.locator('main h1').click();
    await page.keyboard.press('ArrowRight');
    await page.waitForURL(/03-kubelet-joins\.html$/);
    // Copy buttons copy the block's code.
    await browser.grantPermissions(['clipboard-read', 'clipboard-write']);
    await open('03-kubelet-joins.html');
    const button = page.locator('figure[data-block="kubectl-get-nodes-ready"] button.copy');
    await button.click();
    await expect.poll(() => button.textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('kubectl get nodes -o wide\n');
    // The index says what the reader builds, how to run it, and where to start.
    await open('index.html');
    const intro = (await page.locator('.intro').textContent()) ?? '';
    expect(intro).toMatch(/by hand/);
    expect(intro).toContain('npm ci');
    expect(intro).toContain('npx book machine up && npx book run');
    expect(await page.locator('.intro a[href="00-machine.html"]').count()).toBe(1);
  });

  it('keeps a full-page screenshot of a chapter as a test artifact', async () => {
    mkdirSync(RESULTS, { recursive: true });
    const page = await browser.newPage();
    await page.goto(pathToFileURL(path.join(out, '02-api-server.html')).href);
    await page.screenshot({ path: path.join(RESULTS, 'render-02-api-server-full.png'), fullPage: true });
    expect(existsSync(path.join(RESULTS, 'render-02-api-server-full.png'))).toBe(true);
  });
});
