#!/usr/bin/env node
// Headless-Chromium check of an llmeval HTML report (`llmeval report ... -o report.html`).
//
// usage:
//   node tests/report/check_report.mjs --report PATH.html [options]
//
// options:
//   --report PATH          the report to check (required); loaded from a file:// URL
//   --screenshot OUT.png   save a full-page screenshot (after the checks, first row expanded)
//   --expect-rows N        the report must hold exactly N rows
//   --expect-compare       the report must have been written with --compare (#compare, "changed" filter)
//   --search TEXT          search for TEXT (default: an id picked from the data)
//   --search-expect K      TEXT must match exactly K rows (default: counted from the embedded data)
//   --expect-decode-error  the embedded data is broken on purpose: expect data-ready="error", a visible
//                          message and exactly that console.error (the other checks are skipped)
//   --color-scheme S       light (default) or dark, for the screenshot
//   --width PX             viewport width (default 1280)
//   --timeout MS           how long #table-app may take to become ready (default 30000)
//   --max-ready-ms MS      also fail when it took longer than MS
//
// Environment: CHROMIUM = browser binary (default /usr/bin/chromium). Runs headless with --no-sandbox
// (CI runs as root), over a pipe, with every host name mapped to nowhere: the page must not need the
// network, and any request other than the report file itself is aborted and counted as a failure.
//
// Expectations are computed independently from the embedded data, decoded here with node:zlib:
// row count, verdict counts, search matches, failing-criterion matches, sort order, compare changes.
// Fails (exit 1, one "FAIL" line per failed check) on: console messages of any kind (the report must be
// silent), page errors, dialogs (XSS), extra or failed requests, #table-app not ready in time, charts
// missing in #criteria / #latency, wrong number of body rows, page-info / match-count without the
// total, search not narrowing, status "fail" showing other verdicts, next page not moving, a click not
// opening the row detail, hostile text rendered as markup, and (with a baseline) #compare or the
// "changed" filter missing. Prints one "ok" line per check passed and a summary. Exit 0 only when all pass.

import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import puppeteer from 'puppeteer-core';

const PAGE_SIZE = 50;
const STEP_TIMEOUT_MS = 15000;

// ---------------------------------------------------------------------------------------------
// Command line.

function usage(message) {
  if (message) process.stderr.write(`check_report: ${message}\n`);
  process.stderr.write(
    'usage: node check_report.mjs --report PATH.html [--screenshot OUT.png] [--expect-rows N]\n' +
      '       [--expect-compare] [--search TEXT [--search-expect K]] [--expect-decode-error]\n' +
      '       [--color-scheme light|dark] [--width PX] [--timeout MS] [--max-ready-ms MS]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    report: null,
    screenshot: null,
    expectRows: null,
    expectCompare: false,
    search: null,
    searchExpect: null,
    expectDecodeError: false,
    colorScheme: 'light',
    width: 1280,
    timeout: 30000,
    maxReadyMs: null,
  };
  const valueFlags = {
    '--report': (v) => (opts.report = v),
    '--screenshot': (v) => (opts.screenshot = v),
    '--expect-rows': (v) => (opts.expectRows = integer('--expect-rows', v)),
    '--search': (v) => (opts.search = v),
    '--search-expect': (v) => (opts.searchExpect = integer('--search-expect', v)),
    '--color-scheme': (v) => {
      if (v !== 'light' && v !== 'dark') usage('--color-scheme is light or dark');
      opts.colorScheme = v;
    },
    '--width': (v) => (opts.width = integer('--width', v)),
    '--timeout': (v) => (opts.timeout = integer('--timeout', v)),
    '--max-ready-ms': (v) => (opts.maxReadyMs = integer('--max-ready-ms', v)),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') usage();
    else if (arg === '--expect-compare') opts.expectCompare = true;
    else if (arg === '--expect-decode-error') opts.expectDecodeError = true;
    else if (valueFlags[arg]) {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      valueFlags[arg](argv[++i]);
    } else usage(`unknown argument: ${arg}`);
  }
  if (!opts.report) usage('--report is required');
  if (opts.searchExpect !== null && opts.search === null) usage('--search-expect needs --search');
  return opts;
}

function integer(flag, value) {
  if (!/^\d+$/.test(value)) usage(`${flag} needs a whole number, got "${value}"`);
  return Number(value);
}

// ---------------------------------------------------------------------------------------------
// The embedded data, decoded independently of report.js, and expectations derived from it.

function readEmbeddedData(html) {
  const match = /<script\b[^>]*\bid="report-data"[^>]*>([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error('no <script id="report-data"> in the page');
  const json = gunzipSync(Buffer.from(match[1].replace(/\s+/g, ''), 'base64')).toString('utf8');
  const data = JSON.parse(json);
  if (!data || !Array.isArray(data.rows)) throw new Error('embedded data has no "rows" array');
  return data;
}

const fmt = (n) => new Intl.NumberFormat('en-US').format(n);

function verdictOf(row) {
  if (row.s === 'error' || row.s === 'invalid') return row.s;
  return row.p === true ? 'pass' : 'fail';
}

// Same fields as the contract's search: id, prompt, output, reasons, error kind and message.
function haystackOf(row) {
  const parts = [String(row.i ?? ''), row.pr || '', row.o || ''];
  for (const entry of row.c || []) parts.push(String(entry[4] ?? ''));
  for (const part of row.e || []) parts.push(String(part ?? ''));
  return parts.join('\n').toLowerCase();
}

function searchMatches(data, text) {
  const needle = text.trim().toLowerCase();
  const lines = new Set();
  let count = 0;
  for (const row of data.rows) {
    if (!needle || haystackOf(row).includes(needle)) {
      count++;
      lines.add(String(row.l));
    }
  }
  return { count, lines };
}

// Expected display order of the contract's sorts (ties by line).
function expectedOrder(data, key) {
  const rank = { fail: 0, error: 1, invalid: 2, pass: 3 };
  const score = (r, missing) => (typeof r.sc === 'number' ? r.sc : missing);
  const byLine = (a, b) => a.l - b.l;
  const cmp = {
    failures: (a, b) => rank[verdictOf(a)] - rank[verdictOf(b)] || score(a, Infinity) - score(b, Infinity) || byLine(a, b),
    'score-asc': (a, b) => score(a, Infinity) - score(b, Infinity) || byLine(a, b),
    'score-desc': (a, b) => score(b, -Infinity) - score(a, -Infinity) || byLine(a, b),
  }[key];
  return [...data.rows].sort((a, b) => cmp(a, b) || 0 || byLine(a, b));
}

// A short piece of hostile text from the data, to search for and see rendered as text: preferably
// something tag-like ("<img ...", "</script>"), else any text with a "<".
function findHostileNeedle(data) {
  let fallback = null;
  for (const row of data.rows) {
    const texts = [row.i, row.pr, row.o, ...(row.c || []).map((c) => c[4]), ...(row.e || [])];
    for (const text of texts) {
      if (typeof text !== 'string') continue;
      const tag = /<[a-z!/]/i.exec(text);
      const at = tag ? tag.index : text.indexOf('<');
      if (at < 0) continue;
      const needle = text.slice(at, at + 30).split('\n')[0].trim();
      if (needle.length < 3) continue;
      if (tag) return needle;
      if (fallback === null) fallback = needle;
    }
  }
  return fallback;
}

// ---------------------------------------------------------------------------------------------
// Check bookkeeping.

const results = { passed: 0, failed: 0 };

function pass(name, detail) {
  results.passed++;
  process.stdout.write(`ok   ${name}${detail ? ` (${detail})` : ''}\n`);
}

function skip(name, why) {
  process.stdout.write(`skip ${name} (${why})\n`);
}

function fail(name, message) {
  results.failed++;
  process.stdout.write(`FAIL ${name}: ${message}\n`);
}

async function check(name, body) {
  try {
    const detail = await body();
    pass(name, detail);
    return true;
  } catch (error) {
    fail(name, error && error.message ? error.message : String(error));
    return false;
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// ---------------------------------------------------------------------------------------------
// Page helpers.

async function tableState(page) {
  return page.evaluate(() => {
    const text = (sel) => (document.querySelector(sel) || {}).textContent || '';
    const rows = [...document.querySelectorAll('#rows-table tbody tr.row')];
    return {
      lines: rows.map((tr) => tr.dataset.line),
      verdicts: rows.map((tr) => ((tr.querySelector('.badge') || {}).textContent || '').trim().toLowerCase()),
      pageInfo: text('#page-info'),
      matchCount: text('#match-count'),
    };
  });
}

// Matches the number as a whole token: "100" must not match inside "100,000".
function mentionsNumber(text, n) {
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const forms = [fmt(n), String(n)].map(escape).join('|');
  return new RegExp(`(^|[^\\d,.])(${forms})($|[^\\d,.]|[.,](?!\\d))`).test(text);
}

// The contract's match-count starts with the number of matching rows ("12 of 100,000 rows").
function leadingNumber(text) {
  const match = /\d[\d,]*/.exec(text);
  return match ? Number(match[0].replace(/,/g, '')) : null;
}

async function waitForMatchCount(page, count) {
  try {
    await page.waitForFunction(
      (count) => {
        const text = (document.querySelector('#match-count') || {}).textContent || '';
        const match = /\d[\d,]*/.exec(text);
        return match !== null && Number(match[0].replace(/,/g, '')) === count;
      },
      { timeout: STEP_TIMEOUT_MS, polling: 50 },
      count,
    );
  } catch {
    const state = await tableState(page);
    throw new Error(`#match-count never showed ${fmt(count)} matching rows; it says "${state.matchCount}"`);
  }
}

async function setSelect(page, selector, value) {
  const values = await page.$$eval(`${selector} option`, (opts) => opts.map((o) => o.value));
  expect(values.includes(value), `${selector} has no option "${value}" (has: ${values.join(', ')})`);
  await page.select(selector, value);
}

async function setSearch(page, text) {
  await page.click('#search', { count: 3 });
  await page.keyboard.press('Backspace');
  if (text) await page.keyboard.type(text, { delay: 0 });
}

// Back to the default view: no search, all verdicts, any criterion, failures first, page 1.
async function resetView(page, total) {
  await setSearch(page, '');
  await page.select('#filter-status', 'all');
  await page.select('#filter-criterion', '');
  await page.select('#sort', 'failures');
  await waitForMatchCount(page, total);
}

function sameLines(shown, expected) {
  return shown.length === expected.length && shown.every((line, k) => line === expected[k]);
}

// ---------------------------------------------------------------------------------------------
// The checks.

async function checkCharts(page, data) {
  const judged = data.rows.some((r) => r.s === 'ok');
  for (const section of ['criteria', 'latency']) {
    if (!judged) {
      skip(`chart in #${section}`, 'no judged rows, nothing to chart');
      continue;
    }
    await check(`chart in #${section}`, async () => {
      const boxes = await page.$$eval(`#${section} svg.chart rect.bar`, (rects) =>
        rects.map((r) => {
          const box = r.getBoundingClientRect();
          return { w: box.width, h: box.height };
        }),
      );
      expect(boxes.length > 0, `no svg.chart rect.bar in #${section}`);
      const drawn = boxes.filter((b) => b.w > 0 && b.h > 0).length;
      expect(drawn > 0, `${boxes.length} bars in #${section}, none with a non-zero box`);
      return `${drawn} of ${boxes.length} bars drawn`;
    });
  }
}

async function checkInitialTable(page, data) {
  const total = data.rows.length;
  const state = await tableState(page);
  await check('first page row count', async () => {
    const want = Math.min(PAGE_SIZE, total);
    expect(state.lines.length === want, `${state.lines.length} tr.row in #rows-table tbody, expected ${want}`);
    return `${want} tr.row`;
  });
  await check('page-info mentions the total', async () => {
    expect(mentionsNumber(state.pageInfo, total), `#page-info "${state.pageInfo}" does not mention ${fmt(total)}`);
    return `"${state.pageInfo}"`;
  });
  await check('match-count mentions the total', async () => {
    expect(leadingNumber(state.matchCount) === total, `#match-count "${state.matchCount}" does not start with ${fmt(total)}`);
    return `"${state.matchCount}"`;
  });
  await check('default sort: failures first', async () => {
    const want = expectedOrder(data, 'failures').slice(0, PAGE_SIZE).map((r) => String(r.l));
    expect(sameLines(state.lines, want), `first lines ${state.lines.slice(0, 5)} expected ${want.slice(0, 5)}`);
    return `first line ${want[0] ?? '-'}`;
  });
}

async function checkPaging(page, total) {
  if (total <= PAGE_SIZE) {
    await check('next page', async () => {
      const disabled = await page.$eval('#next', (b) => b.disabled);
      expect(disabled, `#next is enabled with only ${total} rows`);
      return 'single page, #next disabled';
    });
    return;
  }
  await check('next page', async () => {
    const before = await tableState(page);
    await page.click('#next');
    await page.waitForFunction(
      (first) => {
        const tr = document.querySelector('#rows-table tbody tr.row');
        return tr && tr.dataset.line !== first;
      },
      { timeout: STEP_TIMEOUT_MS, polling: 50 },
      before.lines[0],
    ).catch(() => {
      throw new Error(`the first row stayed line ${before.lines[0]} after #next`);
    });
    const after = await tableState(page);
    expect(mentionsNumber(after.pageInfo, PAGE_SIZE + 1), `#page-info "${after.pageInfo}" does not mention row ${PAGE_SIZE + 1}`);
    const want = Math.min(PAGE_SIZE, total - PAGE_SIZE);
    expect(after.lines.length === want, `page 2 has ${after.lines.length} rows, expected ${want}`);
    await page.click('#prev');
    await page.waitForFunction(
      (first) => (document.querySelector('#rows-table tbody tr.row') || {}).dataset?.line === first,
      { timeout: STEP_TIMEOUT_MS, polling: 50 },
      before.lines[0],
    ).catch(() => {
      throw new Error('#prev did not go back to the first page');
    });
    return `line ${before.lines[0]} -> ${after.lines[0]}, "${after.pageInfo}"`;
  });
}

async function checkDetail(page, data) {
  if (data.rows.length === 0) return skip('row detail', 'no rows');
  await check('row detail', async () => {
    const first = await page.$('#rows-table tbody tr.row');
    expect(first, 'no row to click');
    const line = await first.evaluate((tr) => tr.dataset.line);
    await first.click();
    const detail = await page
      .waitForFunction(
        (line) => {
          const tr = document.querySelector(`#rows-table tbody tr.row[data-line="${line}"]`);
          const next = tr && tr.nextElementSibling;
          if (!next || !next.classList.contains('detail')) return null;
          const box = next.getBoundingClientRect();
          return box.height > 0 ? next.textContent : null;
        },
        { timeout: STEP_TIMEOUT_MS, polling: 50 },
        line,
      )
      .then((h) => h.jsonValue())
      .catch(() => {
        throw new Error(`clicking row line ${line} showed no visible tr.detail under it`);
      });
    const row = data.rows.find((r) => String(r.l) === line);
    const squash = (s) => String(s).replace(/\s+/g, ' ').trim();
    const text = squash(detail);
    const wanted = [];
    for (const entry of row.c || []) if (data.criteria[entry[0]] !== undefined) wanted.push(data.criteria[entry[0]]);
    if (row.e && row.e[1]) wanted.push(row.e[1]);
    if (typeof row.pr === 'string' && row.pr.trim()) wanted.push(row.pr.slice(0, 60));
    for (const piece of wanted) {
      expect(text.includes(squash(piece)), `detail of line ${line} lacks "${squash(piece).slice(0, 60)}"`);
    }
    // A second click closes it again.
    await page.click(`#rows-table tbody tr.row[data-line="${line}"]`);
    const closed = await page.$eval(
      `#rows-table tbody tr.row[data-line="${line}"]`,
      (tr) => !(tr.nextElementSibling && tr.nextElementSibling.classList.contains('detail')),
    );
    expect(closed, 'a second click did not close the detail');
    return `line ${line}, ${wanted.length} expected texts present, closes again`;
  });
}

async function checkSearch(page, data, opts) {
  const total = data.rows.length;
  let text = opts.search;
  if (text === null) {
    // An id from the middle of the file; prefer one that narrows to few rows.
    const candidates = [data.rows[Math.floor(total / 2)], data.rows[total - 1], data.rows[0]].filter(Boolean);
    let best = null;
    for (const row of candidates) {
      const got = searchMatches(data, String(row.i));
      if (got.count >= 1 && (!best || got.count < best.count)) best = { text: String(row.i), count: got.count };
    }
    text = best ? best.text : '';
    if (total === 0) return skip('search', 'no rows');
  }
  await check(`search "${text}"`, async () => {
    expect(text.trim() !== '', 'nothing to search for');
    const want = searchMatches(data, text);
    if (opts.searchExpect !== null) {
      expect(want.count === opts.searchExpect, `the data has ${want.count} rows matching, --search-expect says ${opts.searchExpect}`);
    }
    if (total > 1 && opts.search === null) expect(want.count < total, 'no search text in the data narrows the rows');
    await setSearch(page, text);
    await waitForMatchCount(page, want.count);
    const state = await tableState(page);
    expect(state.lines.length === Math.min(PAGE_SIZE, want.count), `${state.lines.length} rows shown, expected ${Math.min(PAGE_SIZE, want.count)}`);
    const stray = state.lines.filter((line) => !want.lines.has(line));
    expect(stray.length === 0, `rows not matching "${text}" shown: lines ${stray.slice(0, 5).join(', ')}`);
    if (total > 1) expect(want.count < total, `search "${text}" does not narrow the ${fmt(total)} rows`);
    await setSearch(page, '');
    await waitForMatchCount(page, total);
    return `${fmt(want.count)} of ${fmt(total)} rows, "${state.matchCount}"`;
  });
}

async function checkStatusFail(page, data) {
  const total = data.rows.length;
  await check('status filter "fail"', async () => {
    const failing = data.rows.filter((r) => verdictOf(r) === 'fail');
    await setSelect(page, '#filter-status', 'fail');
    await waitForMatchCount(page, failing.length);
    const state = await tableState(page);
    expect(state.lines.length === Math.min(PAGE_SIZE, failing.length), `${state.lines.length} rows shown, expected ${Math.min(PAGE_SIZE, failing.length)}`);
    const others = state.verdicts.filter((v) => v !== 'fail');
    expect(others.length === 0, `non-failing verdicts shown: ${[...new Set(others)].join(', ')}`);
    const lines = new Set(failing.map((r) => String(r.l)));
    const stray = state.lines.filter((l) => !lines.has(l));
    expect(stray.length === 0, `lines that do not fail in the data: ${stray.slice(0, 5).join(', ')}`);
    await setSelect(page, '#filter-status', 'all');
    await waitForMatchCount(page, total);
    return `${fmt(failing.length)} failing rows, all badges "fail"`;
  });
}

async function checkCriterionFilter(page, data) {
  const total = data.rows.length;
  const criteria = data.criteria || [];
  if (criteria.length === 0) return;
  // The criterion that fails most often, so the check has something to show.
  const failures = criteria.map((_, ci) => data.rows.filter((r) => (r.c || []).some((e) => e[0] === ci && !e[3])));
  let ci = 0;
  failures.forEach((rows, k) => {
    if (rows.length > failures[ci].length) ci = k;
  });
  const name = criteria[ci];
  await check(`criterion filter "${name}"`, async () => {
    await setSelect(page, '#filter-criterion', name);
    await waitForMatchCount(page, failures[ci].length);
    const state = await tableState(page);
    const lines = new Set(failures[ci].map((r) => String(r.l)));
    const stray = state.lines.filter((l) => !lines.has(l));
    expect(stray.length === 0, `rows where "${name}" passed are shown: lines ${stray.slice(0, 5).join(', ')}`);
    await setSelect(page, '#filter-criterion', '');
    await waitForMatchCount(page, total);
    return `${fmt(failures[ci].length)} rows`;
  });
}

async function checkSort(page, data) {
  await check('sort "score-asc"', async () => {
    await setSelect(page, '#sort', 'score-asc');
    const want = expectedOrder(data, 'score-asc').slice(0, PAGE_SIZE).map((r) => String(r.l));
    await page
      .waitForFunction(
        (first) => (document.querySelector('#rows-table tbody tr.row') || {}).dataset?.line === first,
        { timeout: STEP_TIMEOUT_MS, polling: 50 },
        want[0],
      )
      .catch(() => {});
    const state = await tableState(page);
    expect(sameLines(state.lines, want), `first lines ${state.lines.slice(0, 5)}, expected ${want.slice(0, 5)}`);
    await setSelect(page, '#sort', 'failures');
    return `first line ${want[0] ?? '-'}`;
  });
}

async function checkCompare(page, data, opts) {
  const hasBaseline = Boolean(data.baseline);
  if (opts.expectCompare) {
    await check('embedded data has a baseline', async () => {
      expect(hasBaseline, '--expect-compare, but the embedded data has "baseline": null');
      return data.baseline.name;
    });
  }
  if (!hasBaseline) {
    await check('no "changed" filter without a baseline', async () => {
      const values = await page.$$eval('#filter-status option', (o) => o.map((x) => x.value));
      expect(!values.includes('changed'), '"changed" offered although there is no baseline');
      const compare = await page.$('#compare');
      expect(!compare, '#compare present although there is no baseline');
      return 'none';
    });
    return;
  }
  await check('#compare section', async () => {
    const ok = await page.$eval('#compare', (s) => s.getBoundingClientRect().height > 0).catch(() => false);
    expect(ok, 'no visible section#compare');
    return 'present';
  });
  await check('status filter "changed"', async () => {
    const total = data.rows.length;
    const changed = data.rows.filter((r) => r.ch);
    await setSelect(page, '#filter-status', 'changed');
    await waitForMatchCount(page, changed.length);
    const state = await tableState(page);
    const lines = new Set(changed.map((r) => String(r.l)));
    const stray = state.lines.filter((l) => !lines.has(l));
    expect(stray.length === 0, `unchanged rows shown: lines ${stray.slice(0, 5).join(', ')}`);
    await setSelect(page, '#filter-status', 'all');
    await waitForMatchCount(page, total);
    return `${fmt(changed.length)} changed rows`;
  });
  await check('baseline column', async () => {
    const heads = await page.$$eval('#rows-table thead th', (ths) => ths.map((th) => th.textContent.trim()));
    expect(heads.some((h) => /baseline/i.test(h)), `no Baseline column among: ${heads.join(', ')}`);
    return 'present';
  });
}

// Hostile texts must come out as text: search for one, open its row, and look for the literal text.
async function checkHostileText(page, data) {
  const needle = findHostileNeedle(data);
  const total = data.rows.length;
  await check('hostile text rendered as text', async () => {
    if (needle !== null) {
      const want = searchMatches(data, needle);
      await setSearch(page, needle);
      await waitForMatchCount(page, want.count);
      await page.click('#rows-table tbody tr.row');
      const shown = await page
        .waitForFunction(
          (needle) => {
            const detail = document.querySelector('#rows-table tbody tr.detail');
            return detail && detail.textContent.includes(needle);
          },
          { timeout: STEP_TIMEOUT_MS, polling: 50 },
          needle,
        )
        .then(() => true)
        .catch(() => false);
      expect(shown, `the detail does not show the literal text ${JSON.stringify(needle)}`);
    }
    const bad = await page.evaluate(() => {
      const allowed = new Set(
        'DIV SPAN P TABLE THEAD TBODY TFOOT TR TH TD CAPTION BUTTON INPUT SELECT OPTION LABEL PRE CODE STRONG EM SMALL B I H3 H4 H5 UL OL LI DL DT DD DETAILS SUMMARY NOSCRIPT BR'.split(' '),
      );
      const inApp = [...document.querySelectorAll('#table-app *')].map((n) => n.tagName).filter((t) => !allowed.has(t));
      const active = [...document.querySelectorAll('img, iframe, object, embed, frame, video, audio, link[href], base')].map((n) => n.tagName);
      return [...new Set([...inApp, ...active])];
    });
    expect(bad.length === 0, `unexpected elements in the page: ${bad.join(', ')}`);
    if (needle !== null) {
      await setSearch(page, '');
      await waitForMatchCount(page, total);
    }
    return needle === null ? 'no "<" in the data; element whitelist ok' : `${JSON.stringify(needle)} shown literally`;
  });
}

// ---------------------------------------------------------------------------------------------
// Main.

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const reportPath = resolve(opts.report);
  const reportUrl = pathToFileURL(reportPath).href;

  let data = null;
  try {
    data = readEmbeddedData(readFileSync(reportPath, 'utf8'));
  } catch (error) {
    if (!opts.expectDecodeError) {
      fail('embedded data', `cannot decode script#report-data: ${error.message}`);
      return finish();
    }
  }
  if (data && !opts.expectDecodeError) {
    pass('embedded data', `${fmt(data.rows.length)} rows, ${(data.criteria || []).length} criteria, baseline ${data.baseline ? 'yes' : 'no'}`);
    if (opts.expectRows !== null) {
      await check('row count', async () => {
        expect(data.rows.length === opts.expectRows, `the report holds ${data.rows.length} rows, expected ${opts.expectRows}`);
        return fmt(opts.expectRows);
      });
    }
  }

  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    pipe: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-domain-reliability',
      '--disable-sync',
      // Any host name resolves to nowhere: nothing can leave the machine, whatever the page asks for.
      '--host-resolver-rules=MAP * ~NOTFOUND',
      `--window-size=${opts.width},900`,
    ],
  });
  const cleanup = async () => {
    await browser.close().catch(() => {});
  };
  process.once('SIGINT', () => cleanup().then(() => process.exit(130)));
  process.once('SIGTERM', () => cleanup().then(() => process.exit(143)));

  const events = { console: [], pageErrors: [], dialogs: [], requests: [], badRequests: [], failedRequests: [] };
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: opts.width, height: 900, deviceScaleFactor: 1 });
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: opts.colorScheme }]);

    page.on('console', (msg) => events.console.push({ type: msg.type(), text: msg.text() }));
    page.on('pageerror', (error) => events.pageErrors.push(error && error.message ? error.message : String(error)));
    page.on('dialog', (dialog) => {
      events.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      dialog.dismiss().catch(() => {});
    });
    page.on('requestfailed', (req) => events.failedRequests.push(`${req.url().slice(0, 200)} (${req.failure()?.errorText})`));
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      const url = req.url();
      events.requests.push(url);
      if (url.split('#')[0] === reportUrl) {
        req.continue().catch(() => {});
      } else {
        events.badRequests.push(url.slice(0, 200));
        req.abort('blockedbyclient').catch(() => {});
      }
    });

    const started = Date.now();
    await page.goto(reportUrl, { waitUntil: 'load', timeout: opts.timeout });
    const loadMs = Date.now() - started;

    let ready = null;
    await check('#table-app ready', async () => {
      const state = await page
        .waitForFunction(
          () => {
            const app = document.getElementById('table-app');
            const value = app && app.dataset.ready;
            return value === '1' || value === 'error' ? value : null;
          },
          { timeout: opts.timeout, polling: 20 },
        )
        .then((h) => h.jsonValue())
        .catch(() => null);
      const readyMs = Date.now() - started;
      const inPage = Math.round(await page.evaluate(() => performance.now()));
      if (opts.expectDecodeError) {
        expect(state === 'error', `data-ready is ${JSON.stringify(state)}, expected "error" for broken data`);
      } else {
        expect(state !== null, `data-ready="1" not reached within ${opts.timeout} ms`);
        expect(state === '1', 'data-ready="error": the page could not decode its data');
        if (opts.maxReadyMs !== null) expect(readyMs <= opts.maxReadyMs, `ready after ${readyMs} ms, limit ${opts.maxReadyMs} ms`);
      }
      ready = { readyMs, loadMs };
      return `data-ready="${state}" ${readyMs} ms after navigation start (load event ${loadMs} ms, page clock ${inPage} ms)`;
    });

    if (opts.expectDecodeError) {
      if (ready) {
        await check('decode error is visible', async () => {
          const text = await page.$eval('#table-app', (app) => (app.getBoundingClientRect().height > 0 ? app.innerText.trim() : ''));
          expect(text.length > 0, '#table-app shows no message');
          return JSON.stringify(text.slice(0, 80));
        });
        await check('decode error is logged once', async () => {
          const errors = events.console.filter((m) => m.type === 'error');
          expect(errors.length === 1, `${errors.length} console errors, expected 1`);
          events.console = events.console.filter((m) => m.type !== 'error');
          return JSON.stringify(errors[0].text.slice(0, 80));
        });
      }
    } else if (ready) {
      const total = data.rows.length;
      await checkCharts(page, data);
      await checkInitialTable(page, data);
      await checkPaging(page, total);
      await checkDetail(page, data);
      await checkSearch(page, data, opts);
      await checkStatusFail(page, data);
      await checkCriterionFilter(page, data);
      await checkSort(page, data);
      await checkCompare(page, data, opts);
      await checkHostileText(page, data);
      if (opts.screenshot) {
        await check('screenshot', async () => {
          await resetView(page, total);
          // Show one open detail: the screenshot documents the design of both.
          const first = await page.$('#rows-table tbody tr.row');
          if (first) await first.click();
          await page.evaluate(() => window.scrollTo(0, 0));
          const png = await page.screenshot({ fullPage: true, type: 'png' });
          writeFileSync(opts.screenshot, png);
          return `${opts.screenshot}, ${png.length} bytes`;
        });
      }
    }
    if (opts.expectDecodeError && opts.screenshot) {
      writeFileSync(opts.screenshot, await page.screenshot({ fullPage: true, type: 'png' }));
    }
    // Give late events (debounce timers, lazy errors) a moment to arrive.
    await new Promise((r) => setTimeout(r, 300));
  } catch (error) {
    fail('browser session', error && error.stack ? error.stack : String(error));
  } finally {
    await cleanup();
  }

  await check('console silent', async () => {
    const bad = events.console;
    expect(bad.length === 0, bad.map((m) => `[${m.type}] ${m.text.slice(0, 300)}`).join(' | '));
    return 'no console messages';
  });
  await check('no page errors', async () => {
    expect(events.pageErrors.length === 0, events.pageErrors.join(' | '));
    return '0';
  });
  await check('no dialogs (XSS)', async () => {
    expect(events.dialogs.length === 0, events.dialogs.join(' | '));
    return '0';
  });
  await check('no requests but the report', async () => {
    expect(events.badRequests.length === 0, `extra requests: ${events.badRequests.join(', ')}`);
    expect(events.failedRequests.length === 0, `failed requests: ${events.failedRequests.join(', ')}`);
    return `${events.requests.length} request(s), all the report file`;
  });
  return finish();
}

function finish() {
  const total = results.passed + results.failed;
  process.stdout.write(
    results.failed === 0
      ? `PASS: all ${total} checks passed\n`
      : `FAILED: ${results.failed} of ${total} checks failed\n`,
  );
  process.exitCode = results.failed === 0 ? 0 : 1;
}

main().catch((error) => {
  process.stdout.write(`FAIL check_report: ${error && error.stack ? error.stack : error}\n`);
  process.exitCode = 1;
});
