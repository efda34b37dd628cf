#!/usr/bin/env node
// The two screenshots of an HTML report in docs/report.md (not a test; check_report.mjs is the test):
//   OUT_DIR/report-overview.png  the page from the top to the end of the errors table
//   OUT_DIR/report-rows.png      the row table's first rows, the first row opened
//
// usage: node tests/report/screenshots.mjs REPORT.html OUT_DIR [ROWS_SHOWN]
// (python3 tests/bench/report.py --keep DIR writes the report they were taken of.)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

const [report, outDir, rowsShown = '8'] = process.argv.slice(2);
if (!report || !outDir) {
  process.stderr.write('usage: node screenshots.mjs REPORT.html OUT_DIR [ROWS_SHOWN]\n');
  process.exit(2);
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  pipe: true,
  args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP * ~NOTFOUND'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(resolve(report)).href, { waitUntil: 'load' });
  await page.waitForSelector('#table-app[data-ready="1"]', { timeout: 30000 });

  // Top of the page down to the bottom of the errors section (cards, charts and tables).
  const staticBottom = await page.$eval('#errors', (el) => el.getBoundingClientRect().bottom + window.scrollY);
  await page.screenshot({
    path: `${outDir}/report-overview.png`,
    clip: { x: 0, y: 0, width: 1280, height: Math.ceil(staticBottom + 12) },
    captureBeyondViewport: true,
  });

  // The table: its toolbar and first rows, the first one opened.
  await page.click('#rows-table tbody tr.row');
  await page.waitForSelector('#rows-table tbody tr.detail');
  const clip = await page.evaluate((shown) => {
    const section = document.getElementById('rows').getBoundingClientRect();
    const rows = document.querySelectorAll('#rows-table tbody tr.row');
    const last = rows[Math.min(rows.length, shown) - 1].getBoundingClientRect();
    return { x: 0, y: section.top + window.scrollY - 8, width: 1280, height: last.bottom - section.top + 20 };
  }, Number(rowsShown));
  await page.screenshot({ path: `${outDir}/report-rows.png`, clip, captureBeyondViewport: true });
  process.stdout.write(`wrote ${outDir}/report-overview.png and ${outDir}/report-rows.png\n`);
} finally {
  await browser.close();
}
