// The public results site in a real browser (Debian's chromium driven by playwright-core):
// the ranking and a unit page of a published round show exactly the numbers of the published
// snapshot (downloaded through the site, its SHA-256 the published hash), the language switch
// works, a provisional revision is marked as such, an earlier revision is marked superseded,
// and an unpublished round is not reachable (404). Screenshots go to $ARTIFACTS_DIR.
//
// Environment: RESULTS_URL (e.g. http://127.0.0.1:50060), ROUND_PATH (default
// /2023/hcm-2023-district), UNPUBLISHED_PATH (default /2023/hcm-2023-department),
// ARTIFACTS_DIR (default ./artifacts), CHROMIUM (default /usr/bin/chromium).
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const base = process.env.RESULTS_URL ?? 'http://127.0.0.1:50060';
const roundPath = process.env.ROUND_PATH ?? '/2023/hcm-2023-district';
const unpublishedPath = process.env.UNPUBLISHED_PATH ?? '/2023/hcm-2023-department';
const artifacts = process.env.ARTIFACTS_DIR ?? new URL('./artifacts', import.meta.url).pathname;
mkdirSync(artifacts, { recursive: true });

let checks = 0;
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  checks += 1;
}
function equal(actual, expected, message) {
  check(JSON.stringify(actual) === JSON.stringify(expected),
    `${message}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
}

// The published snapshot, through the site's download, checked against its hash.
const download = await fetch(`${base}${roundPath}/snapshot.json`);
equal(download.status, 200, 'the snapshot downloads');
const bytes = Buffer.from(await download.arrayBuffer());
const hash = createHash('sha256').update(bytes).digest('hex');
equal(download.headers.get('x-content-sha256'), hash, 'the download hashes to the published hash');
equal(download.headers.get('etag'), `"${hash}"`, 'the ETag is the content hash');
const snapshot = JSON.parse(bytes.toString('utf8'));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext({ locale: 'vi-VN', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  // The ranking: every row's rank, total and group scores are the snapshot's.
  let response = await page.goto(`${base}${roundPath}`);
  equal(response.status(), 200, 'the ranking page loads');
  equal(await page.getAttribute('html', 'lang'), 'vi', 'Vietnamese by default');
  const rows = await page.$$eval('table.ranking tbody tr', (trs) => trs.map((tr) => ({
    unit: tr.dataset.unit,
    rank: tr.querySelector('td').textContent.trim(),
    values: [...tr.querySelectorAll('data')].map((d) => d.value),
    shown: [...tr.querySelectorAll('data')].map((d) => d.textContent),
  })));
  equal(rows.length, snapshot.units.length, 'one row per published unit');
  snapshot.units.forEach((unit, i) => {
    const row = rows[i];
    equal(row.unit, unit.unit, `row ${i + 1} is the published unit`);
    equal(row.rank, String(unit.rank), `${unit.unit}: rank`);
    const expected = [unit.total, ...unit.groups.map((g) => g.score)];
    equal(row.values, expected, `${unit.unit}: total and group scores`);
    equal(row.shown, expected.map((v) => v.replace('.', ',')), `${unit.unit}: shown with a decimal comma`);
  });
  check(await page.isVisible('[data-state="provisional"]'), 'the provisional revision is marked');
  check(await page.isVisible('.provisional-note'), 'the provisional note is shown');
  check((await page.textContent('code.hash')).trim() === hash, 'the page shows the published hash');
  equal(snapshot.revision, Number(new URL(await page.getAttribute('.downloads a[href*="snapshot.json"]', 'href'), base).searchParams.get('revision')),
    'the snapshot link names the revision shown');
  // No number on the page that the snapshot does not have.
  const published = new Set();
  for (const unit of snapshot.units) {
    published.add(unit.total);
    unit.groups.forEach((g) => published.add(g.score));
    for (const indicator of unit.indicators) {
      const detail = indicator.explanation?.detail;
      if (detail?.type === 'min_max') { published.add(detail.min.decimal); published.add(detail.max.decimal); }
    }
  }
  const allValues = await page.$$eval('main data', (ds) => ds.map((d) => d.value));
  for (const value of allValues) check(published.has(value), `${value} on the ranking page is a published number`);
  await page.screenshot({ path: `${artifacts}/ranking-vi.png`, fullPage: true });

  // The language switch.
  await page.click('header a.lang');
  equal(await page.getAttribute('html', 'lang'), 'en', 'the switch goes to English');
  check((await page.textContent('table.ranking thead')).includes('Rank'), 'English headings');
  check((await page.textContent('.status')).includes('Provisional'), 'provisional in English too');
  const english = await page.$$eval('table.ranking tbody tr:first-child data', (ds) => ds.map((d) => d.textContent));
  equal(english[0], snapshot.units[0].total, 'English shows the decimal point');
  await page.click('header a.lang');
  equal(await page.getAttribute('html', 'lang'), 'vi', 'and back to Vietnamese');

  // A unit page: every indicator's score and explanation, each group's score.
  const unit = snapshot.units[Math.min(2, snapshot.units.length - 1)];
  response = await page.goto(`${base}${roundPath}/units/${unit.unit}`);
  equal(response.status(), 200, 'the unit page loads');
  const lines = await page.$$eval('section.scorecard tbody tr', (trs) => trs.map((tr) => ({
    code: tr.dataset.indicator,
    score: tr.querySelector('data').value,
    explanation: tr.querySelector('td.explain code').textContent,
  })));
  equal(lines.map((l) => l.code), unit.indicators.map((i) => i.code), `${unit.unit}: every indicator`);
  unit.indicators.forEach((indicator, i) => {
    equal(lines[i].score, indicator.score, `${unit.unit} ${indicator.code}: score`);
    equal(lines[i].explanation, indicator.explanation.summary, `${unit.unit} ${indicator.code}: explanation`);
  });
  const groups = await page.$$eval('section.groups tbody tr', (trs) => trs.map((tr) => tr.querySelector('data').value));
  equal(groups, unit.groups.map((g) => g.score), `${unit.unit}: group scores`);
  equal(await page.textContent('dd.total data'), unit.total.replace('.', ','), `${unit.unit}: total`);
  equal(await page.getAttribute('dd.rank data', 'value'), String(unit.rank), `${unit.unit}: rank`);
  await page.screenshot({ path: `${artifacts}/unit-vi.png`, fullPage: true });

  // The revision history: an earlier revision is still shown, marked superseded.
  if (snapshot.revision > 1) {
    response = await page.goto(`${base}${roundPath}?revision=1`);
    equal(response.status(), 200, 'revision 1 is still served');
    check(await page.isVisible('.superseded'), 'revision 1 is marked superseded');
  }

  // Unpublished rounds are not reachable.
  response = await page.goto(`${base}${unpublishedPath}`);
  equal(response.status(), 404, 'an unpublished round is not found');
  response = await page.goto(`${base}${unpublishedPath}/snapshot.json`);
  equal(response.status(), 404, 'an unpublished snapshot is not found');

  // On a phone.
  const phone = await browser.newContext({ locale: 'vi-VN', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
  const small = await phone.newPage();
  await small.goto(`${base}${roundPath}`);
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `the page fits a phone's width (overflow ${overflow}px)`);
  await small.screenshot({ path: `${artifacts}/ranking-phone.png`, fullPage: true });
} finally {
  await browser.close();
}
console.log(`results browser test: ${checks} checks passed; screenshots in ${artifacts}`);
