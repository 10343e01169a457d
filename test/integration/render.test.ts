import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSite } from '../../src/render/index.js';
import { loadBook } from '../../src/runner/load-book.js';
import { readTranscript } from '../../src/runner/record/transcript.js';

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

  it('keeps a full-page screenshot of a chapter as a test artifact', async () => {
    mkdirSync(RESULTS, { recursive: true });
    const page = await browser.newPage();
    await page.goto(pathToFileURL(path.join(out, '02-api-server.html')).href);
    await page.screenshot({ path: path.join(RESULTS, 'render-02-api-server-full.png'), fullPage: true });
    expect(existsSync(path.join(RESULTS, 'render-02-api-server-full.png'))).toBe(true);
  });
});
