// Opens the built report in Debian's Chromium from disk (file://), checks what a reader sees
// against summary.json, and saves screenshots to reports/. A lab test because it starts a
// browser and Java (Allure); it needs no root and touches no network: every request that is
// not file:// is refused and counted.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCapture } from '../capture/decode-capture.ts';
import { ALLURE_RESULTS_DIR } from './allure.ts';
import { buildReport, type BuiltReport } from './build.ts';
import { casePageName, displayStatus } from './matrix.ts';
import { caseKey, CASE_STATUSES, type RunSummary } from './summary.ts';
import { sampleCurrent, writeSampleReport } from './testdata/samples.ts';

const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'reports');

/** Allure 2 result files (the format allure-vitest writes), one per case result. */
async function writeAllureResults(dir: string, summary: RunSummary): Promise<void> {
  await mkdir(dir, { recursive: true });
  const start = Date.parse(summary.startedAt);
  await Promise.all(
    summary.cases.map((c, i) => {
      const uuid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const result = {
        uuid,
        historyId: caseKey(c),
        name: `${c.id} [${c.speaker} vs ${c.peer}]`,
        fullName: `${c.fixture}#${c.id}#${c.speaker}#${c.peer}`,
        status: c.status,
        statusDetails: { message: c.reason, flaky: c.flaky },
        stage: 'finished',
        start,
        stop: start + Math.round(c.durationS * 1000),
        labels: [
          { name: 'parentSuite', value: c.fixture },
          { name: 'suite', value: c.speaker },
          { name: 'subSuite', value: c.peer },
          { name: 'feature', value: c.id },
        ],
        parameters: [{ name: 'seed', value: c.seed }],
        links: [],
        steps: [],
        attachments: [],
      };
      return writeFile(join(dir, `${uuid}-result.json`), JSON.stringify(result));
    }),
  );
}

describe('interop matrix in Chromium', () => {
  let root = '';
  let context: BrowserContext;
  let built: BuiltReport;
  const refused: string[] = [];
  const summary = sampleCurrent();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `pp-matrix-${process.pid}-`));
    const dir = await writeSampleReport(join(root, 'report'), summary);
    await writeAllureResults(join(dir, ALLURE_RESULTS_DIR), summary);
    built = await buildReport([dir]);
    await mkdir(SCREENSHOTS, { recursive: true });
    context = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1600, height: 1000 },
    });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      refused.push(url);
      return route.abort();
    });
  });

  afterAll(async () => {
    await context?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('shows every case with its status, the totals and the host versions of summary.json', async () => {
    const page = await context.newPage();
    await page.goto(pathToFileURL(built.matrixFile).href);
    const shown = await page.$$eval('.result', (els) => els.map((e) => [(e as HTMLElement).dataset.key!, (e as HTMLElement).dataset.status!, (e as HTMLElement).querySelector('a.status')!.textContent!]));
    expect(shown.map(([k, s]) => `${k} = ${s}`).sort()).toEqual(summary.cases.map((c) => `${caseKey(c)} = ${displayStatus(c)}`).sort());
    for (const [, status, label] of shown) expect(label).toContain(status === 'flaky' ? '≈' : status === 'passed' ? '✔' : status === 'failed' ? '✘' : status === 'broken' ? '⚠' : '–');

    for (const status of CASE_STATUSES) {
      expect(await page.locator(`[data-total="${status}"] .n`).innerText()).toBe(String(summary.totals[status]));
    }
    expect(await page.locator('[data-total="flaky"] .n').innerText()).toBe('1');
    const host = await page.$$eval('table.host td', (tds) => tds.map((td) => td.textContent));
    expect(host).toEqual([summary.host.kernel, summary.host.frr, summary.host.gobgp, summary.host.bird, summary.version]);
    await expect(page.locator('dl.legend dt').allInnerTexts()).resolves.toEqual(['✔ passed', '≈ flaky', '✘ failed', '≠ deviation', '⚠ broken', '– skipped']);

    await page.screenshot({ path: join(SCREENSHOTS, 'matrix.png'), fullPage: true });
    await page.close();
  });

  it('leads from a cell to the case page with its ladder and working artifact links', async () => {
    const c = summary.cases.find((x) => x.id === 'session.establish' && x.speaker === 'reference' && x.peer === 'frr' && x.fixture.startsWith('seed-000'))!;
    const page = await context.newPage();
    await page.goto(pathToFileURL(built.matrixFile).href);
    await page.click(`.result[data-key="${caseKey(c)}"] a.status`);
    expect(page.url()).toBe(pathToFileURL(join(built.outDir, 'cases', casePageName(c))).href);
    expect(await page.locator('#status').innerText()).toContain('passed');
    expect(await page.locator('svg.ladder g.msg').count()).toBe(11);
    expect(await page.locator('svg.ladder g.lifeline').count()).toBe(2);
    const box = await page.locator('svg.ladder').boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    await page.screenshot({ path: join(SCREENSHOTS, 'matrix-case.png'), fullPage: true });

    const log = page.locator('ul.artifact-list a', { hasText: 'router-bgpd.log' });
    await log.click();
    expect(await page.locator('body').innerText()).toContain(`artifact ${c.artifacts[2]}`);
    await page.close();
  });

  it('draws the ladder of a real FRR <-> GoBGP capture with every BGP message in it', async () => {
    const c = summary.cases.find((x) => x.id === 'addpath.multi-nexthop' && x.speaker === 'gobgp')!;
    const pcap = join(built.outDir, c.artifacts[0]!);
    let inCapture = 0;
    decodeCapture(await readFile(pcap), () => inCapture++);
    const page = await context.newPage();
    await page.goto(pathToFileURL(join(built.outDir, 'cases', casePageName(c))).href);
    expect(inCapture).toBeGreaterThan(10);
    expect(await page.locator('svg.ladder g.msg').count()).toBe(inCapture);
    expect(await page.locator('svg.ladder g.lifeline').count()).toBe(4);
    await page.locator('svg.ladder').screenshot({ path: join(SCREENSHOTS, 'matrix-ladder-frr-gobgp.png') });
    await page.close();
  });

  it('builds a single-file Allure report that opens from disk', async () => {
    expect(built.allure).toMatchObject({ built: true });
    if (!built.allure.built) return;
    expect(await readFile(built.allure.index, 'utf8')).not.toMatch(/googletagmanager|gtag\(/);
    const page = await context.newPage();
    await page.goto(pathToFileURL(built.allure.index).href);
    await page.waitForFunction(() => document.body.innerText.includes('31'), undefined, { timeout: 30_000 });
    expect(await page.title()).toMatch(/Allure/);
    // Host versions reach Allure's Environment panel.
    await page.waitForFunction(() => document.body.innerText.includes('6.18.44-fc-v669'), undefined, { timeout: 30_000 });
    expect(await page.locator('body').innerText()).toMatch(/FRR\s+8\.4\.4/);
    await page.screenshot({ path: join(SCREENSHOTS, 'allure.png') });
    await page.close();
  });

  it('made no request outside the report on disk', () => {
    expect(refused).toEqual([]);
  });
});
