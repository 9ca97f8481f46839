// Layer 4, renderer part: the built renderer in Chromium with real theme colours. Fast (no VS Code), so
// it covers what the notebook test cannot afford to: escaping, hundreds of thousands of errors, element
// identity across updates, the checklist's messages, every view in every theme.
//
//   npm run test:ui   (this file and the notebook test)
import { strict as assert } from 'node:assert';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { MIME, type ProgressMark } from '../../../media/renderer/payloads';
import {
  checklistPayload,
  demoDryRun,
  fleetMember,
  fleetPayload,
  HOSTILE_VALUE,
  hostileDryRun,
  progressPayload,
  runStatus,
  history,
  STARTED,
  verifyPayload,
} from '../../media/payloadFixtures';
import { launchChromium } from '../harness/chromium';
import { REPO_ROOT } from '../harness/codeServer';
import { buildRenderer, openGallery, type GalleryPage, type ThemeName } from './rendererGallery';

const SCREENSHOTS = path.join(REPO_ROOT, 'test-output/ui');

describe('notebook renderer in Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;
  let gallery: GalleryPage;

  before(async () => {
    const bundle = await buildRenderer();
    browser = await launchChromium();
    gallery = await openGallery(browser, bundle);
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
  });

  afterEach(() => {
    assert.deepEqual(gallery.errors.splice(0), [], 'uncaught errors in the page');
  });

  it('renders the demo dry run: verdict, counts, sample requests and rejected lines', async () => {
    await gallery.render('dry-run', MIME.dryRun, demoDryRun());
    const view = gallery.page.locator('#dry-run');
    await view.getByText('Dry run not passed').waitFor();
    assert.equal(await view.locator('[data-stat="valid"] .bf-stat-value').textContent(), '497');
    assert.equal(await view.locator('[data-stat="rejected"] .bf-stat-value').textContent(), '3');
    await view.getByText('secret ORDERS_API_TOKEN is not set', { exact: false }).waitFor();
    const firstRequest = await view.locator('.bf-sample .bf-code').first().textContent();
    assert.match(firstRequest ?? '', /^POST http:\/\/127\.0\.0\.1:8080\/orders\/ORD-100001\/resend\n/);
    const rejectedRow = view.locator('.bf-list tbody tr').first();
    assert.deepEqual(await rejectedRow.locator('td').allTextContents(), [
      '43',
      'ORD-100042',
      'field amount: expected a number, got "12,5"',
    ]);
  });

  it('shows record values as text and never as markup', async () => {
    await gallery.render('hostile', MIME.dryRun, hostileDryRun());
    const view = gallery.page.locator('#hostile');
    assert.equal(await view.locator('img').count(), 0);
    assert.equal(await gallery.page.evaluate(() => document.body.dataset.pwned), undefined);
    assert.equal(
      await view.locator('.bf-list tbody tr td.bf-key').first().textContent(),
      `${HOSTILE_VALUE}-0`,
    );
    assert.match(
      (await view.locator('.bf-code').first().textContent()) ?? '',
      /"note": "<img src=x onerror=/,
    );
  });

  it('caps 300,000 rejected records at 20 rows and says how many more there are', async () => {
    const view = gallery.page.locator('#hostile');
    assert.equal(await view.locator('.bf-list').first().locator('tbody tr').count(), 20);
    assert.equal(
      await view.locator('.bf-list .bf-more').first().textContent(),
      'and 299,980 more — all are in the ledger',
    );
  });

  it('updates live progress in place: same elements, new figures, nothing added', async () => {
    await gallery.render('progress', MIME.progress, progressPayload({}, 5));
    await gallery.page.evaluate(() => {
      const root = document.querySelector('#progress .bf-progress') as HTMLElement;
      const win = window as unknown as { marked: Element[]; added: number };
      win.marked = Array.from(root.querySelectorAll('*'));
      win.added = 0;
      new MutationObserver((records) => {
        for (const record of records)
          win.added += Array.from(record.addedNodes).filter((node) => node instanceof Element).length;
      }).observe(root, { childList: true, subtree: true });
    });
    for (let second = 6; second <= 15; second += 1) {
      await gallery.render('progress', MIME.progress, {
        status: runStatus({ done: second * 1000, succeeded: second * 1000 - 180, etaSeconds: 600 - second }),
        history: history(second),
      });
    }
    const result = await gallery.page.evaluate(() => {
      const win = window as unknown as { marked: Element[]; added: number };
      const root = document.querySelector('#progress .bf-progress') as HTMLElement;
      return {
        allStillThere: win.marked.every((node) => node.isConnected),
        sameCount: win.marked.length === root.querySelectorAll('*').length,
        added: win.added,
      };
    });
    // MutationObserver callbacks run as microtasks after each evaluate; all have run by now.
    assert.deepEqual(result, { allStillThere: true, sameCount: true, added: 0 });
    const view = gallery.page.locator('#progress');
    assert.equal(
      await view.locator('.bf-headline').textContent(),
      '15,000 of 50,000 records to process · 30 %',
    );
    assert.equal(await view.locator('.bf-bar').getAttribute('aria-valuenow'), '30.0');
    assert.equal(await view.locator('.bf-eta').textContent(), 'ETA 9 min 45 s');
  });

  it('shows hundreds of thousands of errors as one row per kind and a ten-hour chart in bounded nodes', async () => {
    const status = runStatus({
      state: 'halted',
      mode: 'production',
      environment: 'production',
      reason: 'error budget exhausted: 250,045 of 300,000 records failed (83 %)',
      done: 300_000,
      succeeded: 49_955,
      failed: 250_045,
      errorsByKind: { 'http-5xx': 250_000, timeout: 45 },
    });
    await gallery.render('errors', MIME.progress, { status, history: history(36_000, 8) });
    const view = gallery.page.locator('#errors');
    assert.equal(await view.locator('.bf-error-kind').count(), 2);
    assert.deepEqual(await view.locator('.bf-error-kind').first().locator('span').allTextContents(), [
      'HTTP 5xx',
      '250,000',
    ]);
    assert.ok((await view.locator('*').count()) < 150, 'a bounded number of elements');
    await view.getByText('Halted: error budget exhausted').waitFor();
    assert.equal(await view.locator('.bf-mode').textContent(), 'PRODUCTION');
  });

  it('re-renders one progress update with a 3,600-sample history in a few milliseconds', async () => {
    const payload = { status: runStatus(), history: history(3600) };
    await gallery.render('timing', MIME.progress, payload);
    const perUpdateMs = await gallery.page.evaluate((value) => {
      const win = window as unknown as { gallery: { render(id: string, mime: string, p: unknown): void } };
      const start = performance.now();
      for (let i = 0; i < 50; i += 1)
        win.gallery.render('timing', 'application/vnd.backfill.progress+json', value);
      return (performance.now() - start) / 50;
    }, payload);
    // Generous: the point is "well under the one-second update period", not a benchmark.
    assert.ok(perUpdateMs < 50, `${perUpdateMs.toFixed(1)} ms per update`);
  });

  it('asks the extension to check an item and does not check the box by itself', async () => {
    await gallery.render('checklist', MIME.checklist, checklistPayload());
    const item = gallery.page.locator('#checklist .bf-checklist-item').nth(1);
    await item.locator('input').click();
    assert.deepEqual(await gallery.posted(), [
      { type: 'toggleChecklistItem', cell: 'sign-off', item: 'support' },
    ]);
    assert.equal(await item.locator('input').isChecked(), false);
    assert.equal(await item.getAttribute('data-pending'), 'true');

    const recorded = checklistPayload();
    const support = recorded.items[1];
    if (support) support.checked = { by: 'ada', at: new Date().toISOString() };
    await gallery.render('checklist', MIME.checklist, recorded);
    assert.equal(await item.locator('input').isChecked(), true);
    assert.equal(await item.getAttribute('data-pending'), null);
    assert.match((await item.locator('.bf-checklist-note').textContent()) ?? '', /^checked by ada at /);
  });

  it('shows a sign-off that does not hold as unchecked, with the reason the extension gave, in every theme', async () => {
    const payload = checklistPayload();
    const why =
      'demo.backfill:73: checklist sign-off: item orders-owner: signed off by grace at 2026-12-06T10:00:00Z, but ' +
      'the job definitions changed since: grace signs it again (backfill sign demo.backfill --item orders-owner)';
    payload.items[0]!.problem = why;
    await gallery.render('unheld', MIME.checklist, payload);
    const view = gallery.page.locator('#unheld');
    const item = view.locator('.bf-checklist-item').first();
    assert.equal(await item.locator('input').isChecked(), false);
    assert.equal(await item.getAttribute('data-unheld'), 'true');
    const note = (await item.locator('.bf-checklist-note').textContent()) ?? '';
    assert.ok(note.includes(`but it does not hold: ${why}`), note);
    assert.match((await view.locator('.bf-context').textContent()) ?? '', /1 sign-off does not hold/);
    for (const theme of ['dark', 'light'] as ThemeName[]) {
      await gallery.setTheme(theme);
      await view.screenshot({ path: path.join(SCREENSHOTS, `renderer-${theme}-unheld-sign-off.png`) });
    }
    await gallery.setTheme('dark');
  });

  it('says which cell delivered the records a run skips', async () => {
    const status = runStatus({ skipped: 10, doneElsewhere: { 'small-batch': 10 } });
    await gallery.render('elsewhere', MIME.progress, { ...progressPayload(), status });
    const line = gallery.page.locator('#elsewhere .bf-done-elsewhere');
    assert.equal(await line.isVisible(), true);
    assert.equal(await line.textContent(), '10 skipped: done by small-batch');
    await gallery.render('local-only', MIME.progress, progressPayload());
    assert.equal(await gallery.page.locator('#local-only .bf-done-elsewhere').isHidden(), true);
  });

  it('renders verification results with the records that are not right', async () => {
    await gallery.render('verify', MIME.verify, verifyPayload());
    const view = gallery.page.locator('#verify');
    await view.getByText('496 of 500 records verified (99.2 %) · 3 to re-backfill').waitFor();
    assert.equal(await view.locator('tbody tr').count(), 4);
    assert.equal(await view.locator('tbody tr').first().getAttribute('data-tone'), 'danger');
  });

  it('says clearly when an output cannot be shown', async () => {
    await gallery.renderText('broken', MIME.progress, '{"status": ');
    await gallery.page
      .locator('#broken')
      .getByText('Backfill output could not be shown: the output is not valid JSON')
      .waitFor();
  });

  it('marks pauses, rate changes and an attach on the chart, with their labels', async () => {
    await gallery.render('marks', MIME.progress, { ...progressPayload({}, 120), marks: MARKS });
    const view = gallery.page.locator('#marks');
    const lines = view.locator('.bf-chart-mark');
    assert.deepEqual(
      await lines.evaluateAll((all) =>
        all.map((line) => [line.getAttribute('data-kind'), line.getAttribute('x1')]),
      ),
      [
        ['attached', '0'],
        ['paused', '201.7'],
        ['rate', '211.8'],
        ['resumed', '252.1'],
      ],
    );
    assert.deepEqual(
      await view.locator('.bf-chart-mark-label').allTextContents(),
      MARKS.map((m) => m.label),
    );
    // The same marks after an update, in the same elements (a live view redraws once a second).
    await gallery.render('marks', MIME.progress, { ...progressPayload({}, 121), marks: MARKS });
    assert.equal(await lines.count(), 4);
  });

  it("lists a distributed run's workers as text, the lost one marked, in every theme", async () => {
    const fleet = fleetPayload([
      fleetMember(),
      fleetMember({ id: 'h', host: HOSTILE_VALUE, pid: 5151 }),
      fleetMember({ id: 'l', host: 'worker-3', pid: 6161, health: 'lost', silentMs: 12_300 }),
    ]);
    await gallery.render('fleet', MIME.progress, { ...progressPayload(), fleet });
    const workers = gallery.page.locator('#fleet .bf-workers');
    assert.equal(await workers.locator('.bf-heading').textContent(), 'Workers — 2 alive, 1 lost, 0 ended');
    const rows = workers.locator('tbody tr');
    assert.equal(await rows.count(), 3);
    assert.deepEqual((await rows.nth(1).locator('td').allTextContents()).slice(0, 3), [
      HOSTILE_VALUE,
      '5151',
      '7',
    ]);
    assert.equal(await workers.locator('img').count(), 0);
    assert.equal(await gallery.page.evaluate(() => document.body.dataset.pwned), undefined);
    assert.equal(await rows.nth(2).getAttribute('data-tone'), 'danger');
    assert.equal(await rows.nth(2).locator('td.bf-state').textContent(), 'LOST: no heartbeat');
    // A local run's payload has no fleet: the list is hidden.
    await gallery.render('local', MIME.progress, progressPayload());
    assert.equal(await gallery.page.locator('#local .bf-workers').isHidden(), true);
    for (const theme of ['dark', 'light', 'high-contrast'] as ThemeName[]) {
      await gallery.setTheme(theme);
      await workers.screenshot({ path: path.join(SCREENSHOTS, `renderer-${theme}-workers.png`) });
    }
    await gallery.setTheme('dark');
  });

  for (const theme of ['dark', 'light', 'high-contrast', 'high-contrast-light'] as ThemeName[]) {
    it(`looks right in the ${theme} theme (screenshot)`, async () => {
      await showcase(gallery);
      await gallery.setTheme(theme);
      const file = path.join(SCREENSHOTS, `renderer-${theme}.png`);
      await gallery.page.screenshot({ path: file, fullPage: true });
      // The live view on its own, at full size: the one an operator stares at for hours.
      await gallery.page
        .locator('#show-progress')
        .screenshot({ path: path.join(SCREENSHOTS, `renderer-${theme}-progress.png`) });
      console.log(`      screenshot ${path.relative(REPO_ROOT, file)} (and -progress.png)`);
      if (theme.startsWith('high-contrast')) {
        // No dim greys: the footer, line numbers and chart marks take the full foreground.
        const [foreground, footer, lineNumber, markOpacity] = await gallery.page.evaluate(() =>
          [
            ['#show-dry-run .bf', 'color'],
            ['#show-dry-run .bf-footer', 'color'],
            ['#show-dry-run .bf-table td.bf-num', 'color'],
            ['#show-progress .bf-chart-mark', 'opacity'],
          ].map(([selector, property]) =>
            getComputedStyle(document.querySelector(selector!)!).getPropertyValue(property!),
          ),
        );
        const seen = { foreground, footer, lineNumber, markOpacity };
        assert.deepEqual(seen, {
          foreground: seen.foreground,
          footer: seen.foreground,
          lineNumber: seen.foreground,
          markOpacity: '1',
        });
      }
    });
  }
});

/** A run attached to at its first sample, paused at 40 s, slowed at 42 s, resumed at 50 s. */
const MARKS: ProgressMark[] = [
  { t: STARTED, kind: 'attached', label: 'attached (earlier history not kept)' },
  { t: STARTED + 40_000, kind: 'paused', label: 'paused' },
  { t: STARTED + 42_000, kind: 'rate', label: 'rate 50/s → 20/s' },
  { t: STARTED + 50_000, kind: 'resumed', label: 'resumed' },
];

/** One of each view, in the order a runbook shows them, for the screenshots. */
async function showcase(gallery: GalleryPage): Promise<void> {
  await gallery.page.evaluate(() => document.getElementById('outputs')?.replaceChildren());
  await gallery.render('show-checklist', MIME.checklist, checklistPayload());
  await gallery.render('show-dry-run', MIME.dryRun, demoDryRun());
  await gallery.render('show-progress', MIME.progress, { ...progressPayload({}, 120), marks: MARKS });
  await gallery.render(
    'show-halted',
    MIME.progress,
    progressPayload(
      {
        state: 'halted',
        mode: 'production',
        environment: 'production',
        reason: 'error budget exhausted: 5.2 % of the last 1,000 records failed (budget 1 %)',
        rate: { now: 0, average: 41.7, configured: 50, effective: 25 },
      },
      300,
    ),
  );
  await gallery.render('show-verify', MIME.verify, verifyPayload());
}
