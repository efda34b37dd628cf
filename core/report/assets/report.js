// llmeval report: the row table.
//
// The C++ side writes the static page (cards, charts, tables) and embeds every row as
// gzip+base64 JSON in script#report-data (layout: core/report/row_data.h). This script decodes
// it and builds a searchable, filterable, sortable, paginated table inside #table-app.
//
// Rules this file keeps:
// - Row data is untrusted user text: it only ever reaches the DOM through textContent /
//   createTextNode / dataset, never through innerHTML or attribute-built markup.
// - It must stay fast for 100,000 rows: filtering and sorting work on arrays of row indices,
//   and only the current page (50 rows) is ever turned into DOM nodes.
// - No console output, except console.error when the embedded data cannot be read.
// - No network: everything needed is inside the page.
(function () {
  'use strict';

  const PAGE_SIZE = 50;
  const SNIPPET_CHARS = 120;
  const SEARCH_DELAY_MS = 180;
  // Up to this many criteria get a column each; with more (datasets with per-row criteria can have
  // dozens, most of them empty on any row) one "Criteria" column lists each row's own results.
  const MAX_CRITERION_COLUMNS = 6;
  const MAX_CHIPS = 4;

  const VERDICT_PASS = 'pass';
  const VERDICT_FAIL = 'fail';

  const numberFormat = new Intl.NumberFormat('en-US');
  const fmtInt = (n) => numberFormat.format(n);

  // ---------------------------------------------------------------------------------------
  // Small DOM helpers. `el` only ever sets text through textContent.

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function append(parent, ...children) {
    for (const child of children) {
      if (child === null || child === undefined) continue;
      parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return parent;
  }

  // ---------------------------------------------------------------------------------------
  // Decoding script#report-data: base64 -> gzip -> UTF-8 JSON.

  function base64ToBytes(text) {
    // The C++ side may wrap long base64 lines; atob rejects whitespace.
    const binary = atob(text.replace(/\s+/g, ''));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  async function decodeReportData() {
    const script = document.getElementById('report-data');
    if (!script) throw new Error('the page has no script#report-data element');
    if (typeof DecompressionStream !== 'function') {
      throw new Error('this browser has no DecompressionStream; open the report in a current browser');
    }
    const bytes = base64ToBytes(script.textContent || '');
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    const data = JSON.parse(await new Response(stream).text());
    if (!data || !Array.isArray(data.rows)) throw new Error('the embedded data has no "rows" array');
    return data;
  }

  // ---------------------------------------------------------------------------------------
  // The model: per-row facts computed once, and the view state.

  // Verdict of a row as one word: pass, fail, error or invalid.
  function verdictOf(row) {
    if (!row) return '';
    if (row.s === 'error' || row.s === 'invalid') return row.s;
    return row.p === true ? VERDICT_PASS : VERDICT_FAIL;
  }

  // Rank used by the default "failures" sort: failing first, then error, invalid, passing.
  const VERDICT_RANK = { fail: 0, error: 1, invalid: 2, pass: 3 };

  function buildModel(data) {
    const rows = data.rows;
    const verdicts = rows.map(verdictOf);
    const counts = { all: rows.length, pass: 0, fail: 0, error: 0, invalid: 0, changed: 0 };
    const changeCounts = {};
    for (let i = 0; i < rows.length; i++) {
      counts[verdicts[i]] = (counts[verdicts[i]] || 0) + 1;
      const change = rows[i].ch;
      if (change) {
        counts.changed++;
        changeCounts[change] = (changeCounts[change] || 0) + 1;
      }
    }
    return {
      data,
      rows,
      criteria: Array.isArray(data.criteria) ? data.criteria.map(String) : [],
      hasTexts: Boolean(data.has_texts),
      baseline: data.baseline || null,
      baselineOnly: Array.isArray(data.baseline_only) ? data.baseline_only : [],
      verdicts,
      counts,
      changeCounts,
      sortCache: new Map(), // sort key -> Int32Array of all row indices in that order
      haystacks: null, // lower-cased search text per row, built on the first search
      criterionColumns: Array.isArray(data.criteria) && data.criteria.length <= MAX_CRITERION_COLUMNS,
    };
  }

  function criterionEntry(row, criterionIndex) {
    if (!Array.isArray(row.c)) return null;
    for (const entry of row.c) if (entry[0] === criterionIndex) return entry;
    return null;
  }

  function baselineEntry(row, criterionIndex) {
    if (!row.b || !Array.isArray(row.b.c)) return null;
    for (const entry of row.b.c) if (entry[0] === criterionIndex) return entry;
    return null;
  }

  // Search text: id, prompt, output, every reason, error kind and message.
  function haystackOf(row) {
    const parts = [String(row.i ?? ''), row.pr || '', row.o || ''];
    if (Array.isArray(row.c)) for (const entry of row.c) parts.push(String(entry[4] ?? ''));
    if (Array.isArray(row.e)) for (const part of row.e) parts.push(String(part ?? ''));
    return parts.join('\n').toLowerCase();
  }

  // Sorting is done once per sort key over all rows; filters then keep that order.
  function sortedIndices(model, key) {
    const cached = model.sortCache.get(key);
    if (cached) return cached;
    const { rows, verdicts } = model;
    const order = new Int32Array(rows.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const line = (i) => (typeof rows[i].l === 'number' ? rows[i].l : i);
    // Rows without a score (errors, invalid) go last in both score orders.
    const score = (i, missing) => (typeof rows[i].sc === 'number' ? rows[i].sc : missing);
    let compare;
    if (key === 'score-asc') {
      compare = (a, b) => score(a, Infinity) - score(b, Infinity) || line(a) - line(b);
    } else if (key === 'score-desc') {
      compare = (a, b) => score(b, -Infinity) - score(a, -Infinity) || line(a) - line(b);
    } else if (key === 'line') {
      compare = (a, b) => line(a) - line(b) || a - b;
    } else {
      compare = (a, b) =>
        VERDICT_RANK[verdicts[a]] - VERDICT_RANK[verdicts[b]] ||
        score(a, Infinity) - score(b, Infinity) ||
        line(a) - line(b);
    }
    // Infinity - Infinity is NaN: treat it as a tie.
    order.sort((a, b) => compare(a, b) || 0);
    model.sortCache.set(key, order);
    return order;
  }

  function statusMatcher(model, status) {
    const { rows, verdicts } = model;
    if (!status || status === 'all') return null;
    if (status === 'changed') return (i) => Boolean(rows[i].ch);
    if (status.startsWith('ch:')) {
      const change = status.slice(3);
      return (i) => rows[i].ch === change;
    }
    return (i) => verdicts[i] === status;
  }

  function criterionMatcher(model, criterion) {
    if (criterion === '') return null;
    const index = model.criteria.indexOf(criterion);
    return (i) => {
      const entry = criterionEntry(model.rows[i], index);
      return entry !== null && !entry[3];
    };
  }

  function searchMatcher(model, query) {
    const needle = query.trim().toLowerCase();
    if (!needle) return null;
    if (!model.haystacks) model.haystacks = model.rows.map(haystackOf);
    const haystacks = model.haystacks;
    return (i) => haystacks[i].includes(needle);
  }

  // Visible row indices for the current state, in display order.
  function applyView(model, state) {
    const order = sortedIndices(model, state.sort);
    const tests = [
      statusMatcher(model, state.status),
      criterionMatcher(model, state.criterion),
      searchMatcher(model, state.search),
    ].filter(Boolean);
    if (tests.length === 0) return order;
    const out = [];
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      let keep = true;
      for (const test of tests) {
        if (!test(i)) {
          keep = false;
          break;
        }
      }
      if (keep) out.push(i);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // Formatting.

  function fmtScore(value) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
    return value.toFixed(2);
  }

  // A criterion's own-scale score: integers stay integers (1–5 scales), others get 2 decimals.
  function fmtRawScore(value) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
    return Number.isInteger(value) ? String(value) : value.toFixed(2);
  }

  function fmtDelta(delta) {
    if (Math.abs(delta) < 0.005) return '±0.00';
    return (delta > 0 ? '+' : '−') + Math.abs(delta).toFixed(2);
  }

  function snippet(text) {
    if (!text) return '';
    const flat = String(text).replace(/\s+/g, ' ').trim();
    return flat.length > SNIPPET_CHARS ? flat.slice(0, SNIPPET_CHARS) + '…' : flat;
  }

  function snippetCell(text) {
    const td = el('td', 'snippet');
    append(td, el('div', 'clamp', snippet(text)));
    return td;
  }

  function badge(verdict, extraClass) {
    return el('span', 'badge ' + verdict + (extraClass ? ' ' + extraClass : ''), verdict || '—');
  }

  const CHANGE_LABELS = {
    regressed: 'regressed',
    fixed: 'fixed',
    new_error: 'new error',
    recovered: 'recovered',
    changed: 'changed',
    new: 'new',
  };

  // ---------------------------------------------------------------------------------------
  // Toolbar.

  function option(value, label) {
    const node = el('option', null, label);
    node.value = value;
    return node;
  }

  function buildStatusSelect(model) {
    const select = el('select');
    select.id = 'filter-status';
    const { counts } = model;
    const labelled = (name, count) => name + ' (' + fmtInt(count) + ')';
    append(
      select,
      option('all', labelled('All verdicts', counts.all)),
      option('fail', labelled('Failing', counts.fail)),
      option('pass', labelled('Passing', counts.pass)),
      option('error', labelled('Errors', counts.error)),
      option('invalid', labelled('Invalid', counts.invalid)),
    );
    if (model.baseline) {
      append(select, option('changed', labelled('Changed vs baseline', counts.changed)));
      // Finer "changed" filters, only for kinds that occur.
      for (const kind of Object.keys(CHANGE_LABELS)) {
        const count = model.changeCounts[kind];
        if (count) append(select, option('ch:' + kind, labelled('  · ' + CHANGE_LABELS[kind], count)));
      }
    }
    return select;
  }

  function buildCriterionSelect(model) {
    const select = el('select');
    select.id = 'filter-criterion';
    append(select, option('', 'Any criterion'));
    // Option values are criterion names, as the contract says; the matcher maps them to indices.
    for (const name of model.criteria) append(select, option(name, 'Failed: ' + name));
    select.disabled = model.criteria.length === 0;
    return select;
  }

  function buildSortSelect() {
    const select = el('select');
    select.id = 'sort';
    append(
      select,
      option('failures', 'Failures first'),
      option('score-asc', 'Score, low to high'),
      option('score-desc', 'Score, high to low'),
      option('line', 'Dataset line'),
    );
    return select;
  }

  function labelled(text, control) {
    const label = el('label', 'field');
    append(label, el('span', 'field-label', text), control);
    return label;
  }

  function buildToolbar(model) {
    const search = el('input');
    search.id = 'search';
    search.type = 'search';
    search.placeholder = model.hasTexts ? 'Search id, prompt, output, reasons…' : 'Search id, reasons, errors…';
    search.autocomplete = 'off';
    search.spellcheck = false;
    search.setAttribute('aria-label', 'Search rows');

    const status = buildStatusSelect(model);
    const criterion = buildCriterionSelect(model);
    const sort = buildSortSelect();
    const matchCount = el('span', 'match-count');
    matchCount.id = 'match-count';
    matchCount.setAttribute('aria-live', 'polite');

    const bar = el('div', 'toolbar');
    append(
      bar,
      labelled('Search', search),
      labelled('Verdict', status),
      labelled('Criterion', criterion),
      labelled('Sort', sort),
      matchCount,
    );
    return { bar, search, status, criterion, sort, matchCount };
  }

  function buildPager() {
    const prev = el('button', 'pager-button', '‹ Previous');
    prev.id = 'prev';
    prev.type = 'button';
    const next = el('button', 'pager-button', 'Next ›');
    next.id = 'next';
    next.type = 'button';
    const info = el('span', 'page-info');
    info.id = 'page-info';
    const bar = el('div', 'pager');
    append(bar, prev, info, next);
    return { bar, prev, next, info };
  }

  // ---------------------------------------------------------------------------------------
  // Table.

  function buildTableHead(model) {
    const thead = el('thead');
    const tr = el('tr');
    const th = (text, className) => el('th', className, text);
    append(tr, th('Line', 'num'), th('Id'), th('Verdict'), th('Score', 'num'));
    if (model.criterionColumns) {
      for (const name of model.criteria) {
        const cell = th(name, 'num crit-head');
        cell.title = name;
        append(tr, cell);
      }
    } else if (model.criteria.length) {
      append(tr, th('Criteria'));
    }
    if (model.hasTexts) append(tr, th('Prompt', 'text-head'), th('Output', 'text-head'));
    if (model.baseline) append(tr, th('Baseline'));
    append(thead, tr);
    return thead;
  }

  function columnCount(model) {
    const criteriaColumns = model.criterionColumns ? model.criteria.length : model.criteria.length ? 1 : 0;
    return 4 + criteriaColumns + (model.hasTexts ? 2 : 0) + (model.baseline ? 1 : 0);
  }

  function verdictCell(row, verdict) {
    const td = el('td', 'verdict');
    append(td, badge(verdict));
    if (Array.isArray(row.e) && row.e[0]) {
      append(td, ' ', el('span', 'error-kind', row.e[0]));
    }
    return td;
  }

  function criterionCell(row, index) {
    const entry = criterionEntry(row, index);
    if (!entry) return el('td', 'num muted', '—');
    const td = el('td', 'num crit ' + (entry[3] ? 'pass' : 'fail'), fmtRawScore(entry[1]));
    if (entry[7]) td.classList.add('fallback');
    return td;
  }

  function baselineCell(row) {
    const td = el('td', 'baseline-cell');
    const base = row.b;
    if (base) {
      append(td, badge(verdictOf(base), 'small'));
      if (typeof row.sc === 'number' && typeof base.sc === 'number') {
        const delta = row.sc - base.sc;
        const direction = Math.abs(delta) < 0.005 ? 'same' : delta > 0 ? 'up' : 'down';
        append(td, ' ', el('span', 'delta ' + direction, fmtDelta(delta)));
      }
    }
    if (row.ch) append(td, ' ', el('span', 'change ' + row.ch, CHANGE_LABELS[row.ch] || row.ch));
    if (!base && !row.ch) td.textContent = '—';
    return td;
  }

  // Compact form: one chip per criterion the row has, failing ones first.
  function criteriaChipsCell(model, row) {
    const td = el('td', 'chips');
    const entries = Array.isArray(row.c) ? [...row.c] : [];
    entries.sort((a, b) => (a[3] ? 1 : 0) - (b[3] ? 1 : 0));
    for (const entry of entries.slice(0, MAX_CHIPS)) {
      const name = model.criteria[entry[0]] !== undefined ? model.criteria[entry[0]] : '#' + entry[0];
      const chip = el('span', 'chip ' + (entry[3] ? 'pass' : 'fail'));
      append(chip, el('span', 'chip-name', name), ' ', el('span', 'chip-score', fmtRawScore(entry[1])));
      chip.title = name;
      append(td, chip, ' ');
    }
    if (entries.length > MAX_CHIPS) append(td, el('span', 'chip more', '+' + (entries.length - MAX_CHIPS)));
    if (entries.length === 0) td.textContent = '—';
    return td;
  }

  function buildRow(model, index, expanded) {
    const row = model.rows[index];
    const verdict = model.verdicts[index];
    const tr = el('tr', 'row ' + verdict + (expanded ? ' open' : ''));
    tr.dataset.line = String(row.l);
    tr.dataset.index = String(index);
    tr.tabIndex = 0;
    tr.setAttribute('aria-expanded', expanded ? 'true' : 'false');
    const id = el('td', 'id', row.i);
    id.title = String(row.i ?? '');
    append(
      tr,
      el('td', 'num line', row.l),
      id,
      verdictCell(row, verdict),
      el('td', 'num score', fmtScore(row.sc)),
    );
    if (model.criterionColumns) {
      model.criteria.forEach((_, ci) => append(tr, criterionCell(row, ci)));
    } else if (model.criteria.length) {
      append(tr, criteriaChipsCell(model, row));
    }
    if (model.hasTexts) {
      append(tr, snippetCell(row.pr), snippetCell(row.o));
    }
    if (model.baseline) append(tr, baselineCell(row));
    return tr;
  }

  // ---------------------------------------------------------------------------------------
  // Detail row.

  function textBlock(title, text) {
    const block = el('div', 'detail-block');
    append(block, el('h4', null, title), el('pre', 'text', text));
    return block;
  }

  // A pairwise order's verdict as the judge named it ("A", "B", "tie") in terms of the row's
  // answers: shown_as_a "a" means output_a was shown as A.
  function orderWinner(shownAsA, winner) {
    if (winner === 'A') return shownAsA;
    if (winner === 'B') return shownAsA === 'a' ? 'b' : 'a';
    return 'tie';
  }

  // A criterion's human label, jurors and pairwise verdicts (entry[8]; row_data.h), or null.
  function criterionExtras(entry) {
    const extras = entry[8];
    if (!extras || typeof extras !== 'object') return null;
    const box = el('div', 'extras');
    if (typeof extras.lb === 'number') {
      append(box, el('p', 'extra-line', 'Human label: ' + fmtRawScore(extras.lb)));
    }
    if (typeof extras.w === 'string') {
      const line = el('p', 'extra-line winner');
      append(line, 'Resolved winner: ', el('strong', null, extras.w === 'tie' ? 'tie' : 'answer ' + extras.w));
      if (extras.pi) append(line, ' ', el('span', 'flag inconsistent', 'position inconsistent'));
      append(box, line);
      if (Array.isArray(extras.or) && extras.or.length) {
        const list = el('ol', 'orders');
        for (const order of extras.or) {
          const [shownAsA, winner, reason, judge] = order;
          const item = el('li');
          const first = shownAsA === 'b' ? 'output_b' : 'output_a';
          const picked = orderWinner(shownAsA, winner);
          append(
            item,
            el('span', 'order-shown', first + ' shown first'),
            ' → judge chose ',
            el('strong', null, String(winner)),
            ' (' + (picked === 'tie' ? 'tie' : 'answer ' + picked) + ')',
            reason ? ': ' : '',
            reason ? el('span', 'reason', reason) : null,
            judge ? ' · ' : '',
            judge ? el('span', 'judge', judge) : null,
          );
          append(list, item);
        }
        append(box, list);
      }
    }
    if (Array.isArray(extras.j) && extras.j.length) {
      const head = el('p', 'extra-line', 'Jury of ' + extras.j.length);
      if (extras.t) append(head, ' ', el('span', 'flag tie', 'tie: as many jurors passed as failed'));
      const list = el('ul', 'jurors');
      for (const juror of extras.j) {
        const [provider, jurorModel, score, status, reason, winner] = juror;
        const item = el('li', 'juror' + (typeof score === 'number' ? '' : ' abstained'));
        append(item, el('strong', 'juror-name', provider), jurorModel ? ' (' + jurorModel + ')' : '', ': ');
        if (typeof score === 'number') {
          append(item, el('span', 'juror-score', winner ? 'winner ' + winner + " (b's points: " + fmtRawScore(score) + ')' : fmtRawScore(score)));
        } else {
          append(item, el('span', 'juror-score', 'abstained'));
        }
        if (status && status !== 'ok') append(item, ' ', el('span', 'flag status', status));
        if (reason) append(item, ' — ', el('span', 'reason', reason));
        append(list, item);
      }
      append(box, head, list);
    }
    return box.childNodes.length ? box : null;
  }

  function criteriaTable(model, row) {
    const table = el('table', 'grid detail-criteria');
    const head = el('tr');
    const headings = ['Criterion', 'Score', 'Normalized', 'Verdict', 'Reason', 'Judge', 'Latency', 'Fallback'];
    if (model.baseline) headings.push('Baseline');
    for (const text of headings) append(head, el('th', null, text));
    append(table, append(el('thead'), head));
    const body = el('tbody');
    for (const entry of row.c || []) {
      const [ci, score, normalized, pass, reason, judge, latency, fallback] = entry;
      const tr = el('tr');
      const name = model.criteria[ci] !== undefined ? model.criteria[ci] : '#' + ci;
      append(
        tr,
        el('td', 'crit-name', name),
        el('td', 'num', fmtRawScore(score)),
        el('td', 'num', fmtScore(normalized)),
        append(el('td'), badge(pass ? VERDICT_PASS : VERDICT_FAIL, 'small')),
        el('td', 'reason', reason || '—'),
        el('td', 'judge', judge || '—'),
        el('td', 'num', latency ? fmtInt(latency) + ' ms' : '—'),
        el('td', null, fallback ? 'yes' : 'no'),
      );
      if (model.baseline) {
        const base = baselineEntry(row, ci);
        const td = el('td', 'num');
        if (base) {
          append(td, fmtScore(base[1]) + ' ', badge(base[2] ? VERDICT_PASS : VERDICT_FAIL, 'small'));
        } else {
          td.textContent = '—';
        }
        append(tr, td);
      }
      append(body, tr);
      const extras = criterionExtras(entry);
      if (extras) {
        const sub = el('tr', 'crit-extra');
        const cell = el('td');
        cell.colSpan = headings.length;
        append(cell, extras);
        append(sub, cell);
        append(body, sub);
      }
    }
    append(table, body);
    return table;
  }

  function buildDetail(model, index) {
    const row = model.rows[index];
    const tr = el('tr', 'detail');
    tr.dataset.line = String(row.l);
    const td = el('td');
    td.colSpan = columnCount(model);
    const box = el('div', 'detail-box');

    const facts = el('p', 'detail-facts');
    append(facts, 'Line ', el('strong', null, row.l), ' · id ', el('code', null, row.i), ' · ');
    append(facts, badge(model.verdicts[index], 'small'), ' · score ', el('strong', null, fmtScore(row.sc)));
    if (row.b) {
      append(facts, ' · baseline ', badge(verdictOf(row.b), 'small'));
      if (typeof row.b.sc === 'number') append(facts, ' ', fmtScore(row.b.sc));
    }
    if (row.ch) append(facts, ' ', el('span', 'change ' + row.ch, CHANGE_LABELS[row.ch] || row.ch));
    if (row.ma !== undefined || row.mb !== undefined) {
      append(facts, ' · a: ', el('code', null, row.ma || '—'), ' · b: ', el('code', null, row.mb || '—'));
    }
    append(box, facts);

    if (Array.isArray(row.e) && row.e.length) {
      const error = el('div', 'detail-error');
      append(error, el('strong', null, row.e[0] || 'error'), ': ', row.e.slice(1).join(' '));
      append(box, error);
    }
    if (Array.isArray(row.c) && row.c.length) {
      const wrap = el('div', 'table-scroll');
      append(wrap, criteriaTable(model, row));
      append(box, wrap);
    }
    if (row.pr !== undefined || row.o !== undefined) {
      const texts = el('div', 'detail-texts');
      if (row.pr !== undefined) append(texts, textBlock('Prompt', row.pr));
      if (row.o !== undefined) append(texts, textBlock('Output', row.o));
      append(box, texts);
    }
    append(td, box);
    append(tr, td);
    return tr;
  }

  // ---------------------------------------------------------------------------------------
  // Rows only in the baseline: listed under the table, they have no row of their own.

  function buildBaselineOnly(model) {
    const rows = model.baselineOnly;
    if (!model.baseline || rows.length === 0) return null;
    const details = el('details', 'baseline-only');
    append(details, el('summary', null, fmtInt(rows.length) + ' row(s) only in the baseline'));
    const list = el('ul');
    const shown = rows.slice(0, 500);
    for (const row of shown) {
      const item = el('li');
      append(item, 'line ' + row.l + ' · ', el('code', null, row.i), ' · ', badge(verdictOf(row), 'small'));
      append(item, ' ' + fmtScore(row.sc));
      append(list, item);
    }
    if (rows.length > shown.length) append(list, el('li', 'muted', '… and ' + fmtInt(rows.length - shown.length) + ' more'));
    append(details, list);
    return details;
  }

  // ---------------------------------------------------------------------------------------
  // The app: wires state, controls and rendering.

  function startApp(app, model) {
    const toolbar = buildToolbar(model);
    const pager = buildPager();
    const table = el('table', 'grid rows-table');
    table.id = 'rows-table';
    const tbody = el('tbody');
    append(table, buildTableHead(model), tbody);
    const scroll = el('div', 'table-scroll');
    append(scroll, table);
    const empty = el('p', 'none empty', model.rows.length ? 'No rows match.' : 'This report has no rows.');
    empty.hidden = true;

    app.textContent = '';
    append(app, toolbar.bar, scroll, empty, pager.bar, buildBaselineOnly(model));

    const state = { search: '', status: 'all', criterion: '', sort: 'failures', page: 0 };
    const expanded = new Set(); // row indices whose detail is open
    let visible = sortedIndices(model, state.sort);

    function pageCount() {
      return Math.max(1, Math.ceil(visible.length / PAGE_SIZE));
    }

    function renderCounts() {
      const total = model.rows.length;
      toolbar.matchCount.textContent =
        visible.length === total
          ? fmtInt(total) + ' rows'
          : fmtInt(visible.length) + ' of ' + fmtInt(total) + ' rows';
      const first = state.page * PAGE_SIZE;
      const last = Math.min(first + PAGE_SIZE, visible.length);
      pager.info.textContent =
        total === 0
          ? '0 rows in this report'
          : visible.length === 0
          ? 'No rows match (0 of ' + fmtInt(total) + ')'
          : 'Rows ' + fmtInt(first + 1) + '–' + fmtInt(last) + ' of ' + fmtInt(visible.length) +
            ' · page ' + fmtInt(state.page + 1) + ' of ' + fmtInt(pageCount());
      pager.prev.disabled = state.page === 0;
      pager.next.disabled = state.page >= pageCount() - 1;
    }

    function renderPage() {
      const fragment = document.createDocumentFragment();
      const first = state.page * PAGE_SIZE;
      const last = Math.min(first + PAGE_SIZE, visible.length);
      for (let k = first; k < last; k++) {
        const index = visible[k];
        const open = expanded.has(index);
        fragment.appendChild(buildRow(model, index, open));
        if (open) fragment.appendChild(buildDetail(model, index));
      }
      tbody.replaceChildren(fragment);
      empty.hidden = visible.length !== 0;
      renderCounts();
    }

    function refilter() {
      visible = applyView(model, state);
      state.page = 0;
      renderPage();
    }

    function toggleRow(tr) {
      const index = Number(tr.dataset.index);
      const next = tr.nextElementSibling;
      if (expanded.has(index)) {
        expanded.delete(index);
        if (next && next.classList.contains('detail')) next.remove();
        tr.classList.remove('open');
        tr.setAttribute('aria-expanded', 'false');
      } else {
        expanded.add(index);
        tr.after(buildDetail(model, index));
        tr.classList.add('open');
        tr.setAttribute('aria-expanded', 'true');
      }
    }

    let searchTimer = 0;
    toolbar.search.addEventListener('input', () => {
      // Debounced: with 100,000 rows each keystroke would otherwise rescan everything.
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        state.search = toolbar.search.value;
        refilter();
      }, SEARCH_DELAY_MS);
    });
    toolbar.status.addEventListener('change', () => {
      state.status = toolbar.status.value;
      refilter();
    });
    toolbar.criterion.addEventListener('change', () => {
      state.criterion = toolbar.criterion.value;
      refilter();
    });
    toolbar.sort.addEventListener('change', () => {
      state.sort = toolbar.sort.value;
      refilter();
    });
    pager.prev.addEventListener('click', () => {
      if (state.page > 0) {
        state.page--;
        renderPage();
      }
    });
    pager.next.addEventListener('click', () => {
      if (state.page < pageCount() - 1) {
        state.page++;
        renderPage();
      }
    });
    tbody.addEventListener('click', (event) => {
      // Selecting text inside an open detail must not close it: only summary rows toggle.
      const tr = event.target.closest('tr.row');
      if (tr && tbody.contains(tr)) toggleRow(tr);
    });
    tbody.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' && event.key !== ' ') return;
      const tr = event.target.closest('tr.row');
      if (!tr || event.target !== tr) return;
      event.preventDefault();
      toggleRow(tr);
    });

    renderPage();
  }

  function showFailure(app, error) {
    app.textContent = '';
    const message = el('p', 'load-error');
    append(message, el('strong', null, 'The row table could not be shown: '), String(error && error.message ? error.message : error));
    append(app, message);
    app.dataset.ready = 'error';
    console.error('llmeval report: cannot read the embedded row data:', error);
  }

  async function main() {
    const app = document.getElementById('table-app');
    if (!app) return; // Nothing to build into.
    try {
      const model = buildModel(await decodeReportData());
      startApp(app, model);
      app.dataset.ready = '1';
    } catch (error) {
      showFailure(app, error);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', main);
  } else {
    main();
  }
})();
