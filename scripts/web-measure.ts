/**
 * Page figures for specs/web.md and the README: weight (every file the page loads, gzipped, as
 * served) and first render on loopback in headless Chromium against a running server, as the
 * median of N fresh loads (new browser context each: no cache) with min and max.
 *
 *   npm run serve -- --broker=sim &        # then, once it listens:
 *   npx tsx scripts/web-measure.ts http://127.0.0.1:8377 [runs=7]
 */
import { launchBrowser } from '../integration/helpers/browser.js';

const base = process.argv[2] ?? 'http://127.0.0.1:8377';
const runs = Number(process.argv[3] ?? 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[]) => `median ${Math.round(median(xs))} ms (min ${Math.round(Math.min(...xs))}, max ${Math.round(Math.max(...xs))}, n=${xs.length})`;

const browser = await launchBrowser();
const fcp: number[] = [];
const positions: number[] = [];
const chart: number[] = [];
const ready: number[] = [];
let bytes = 0;
let files = 0;
try {
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    const cdp = await page.createCDPSession();
    await cdp.send('Network.enable');
    let runBytes = 0;
    let runFiles = 0;
    cdp.on('Network.loadingFinished', (e) => {
      runBytes += e.encodedDataLength;
      runFiles++;
    });
    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
    const t = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      positions: performance.getEntriesByName('riskwire:positions')[0]?.startTime ?? NaN,
      chart: performance.getEntriesByName('riskwire:chart')[0]?.startTime ?? NaN,
      ready: performance.getEntriesByName('riskwire:first-render')[0]?.startTime ?? NaN,
    }));
    fcp.push(t.fcp);
    positions.push(t.positions);
    chart.push(t.chart);
    ready.push(t.ready);
    // the SSE stream never finishes loading, so what is counted is the page's files and first API answers
    if (i === 0) [bytes, files] = [runBytes, runFiles];
    await ctx.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(`page weight on the wire (first load, gzip, headers included): ${(bytes / 1024).toFixed(1)} KB in ${files} responses\n`);
process.stdout.write(`first contentful paint: ${spread(fcp)}\n`);
process.stdout.write(`live positions filled: ${spread(positions)}\n`);
process.stdout.write(`timeline chart drawn: ${spread(chart)}\n`);
process.stdout.write(`first render with data (both): ${spread(ready)}\n`);
