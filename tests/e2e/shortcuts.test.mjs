// Agents' keyboard shortcuts in a real browser: j/k move through the queue,
// o and Enter open, / goes to search, r replies, n writes an internal note,
// a assigns to me, ? lists them; none fires while typing in a field or with
// a modifier held, and customers get none.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, assertNoProblems, closePage, launch, screenshot, signedInPage } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const signedIn = (email) => signedInPage(browser, email);

const active = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return { id: el?.id ?? '', href: el?.getAttribute('href') ?? '', row: el?.closest('tr')?.rowIndex ?? -1 };
  });
const highlighted = (page) =>
  page.locator('[data-shortcut-rows] tbody tr.kb-current').evaluateAll((rows) => rows.map((r) => r.rowIndex));

test('in the queue j and k move, o and Enter open, / searches, typing is left alone', async () => {
  const page = await signedIn('agent@demo.test');
  await page.goto(`${BASE_URL}/demo/tickets?queue=all`);
  await page.locator('table.data.tickets tbody tr').nth(2).waitFor();
  await page.locator('body').click({ position: { x: 5, y: 300 } }); // nothing focused, as after a page load

  await page.keyboard.press('j');
  assert.deepEqual(await highlighted(page), [1], 'j highlights the first ticket');
  assert.equal((await active(page)).row, 1, 'and focuses its link');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  assert.deepEqual(await highlighted(page), [3]);
  await page.keyboard.press('k');
  assert.deepEqual(await highlighted(page), [2], 'k goes back one');
  await screenshot(page, 'shortcuts-queue-highlight');

  // With a modifier held the keys belong to the browser.
  await page.keyboard.press('Alt+j');
  await page.keyboard.press('Control+k');
  assert.deepEqual(await highlighted(page), [2], 'modifiers: no move');

  // / goes to the search field, and letters typed there stay there.
  await page.keyboard.press('/');
  assert.equal((await active(page)).id, 'q');
  await page.keyboard.type('jk/o?');
  assert.equal(await page.locator('#q').inputValue(), 'jk/o?');
  assert.deepEqual(await highlighted(page), [2], 'typing in the search moved nothing');
  assert.equal(await page.locator('#shortcuts-help').isVisible(), false, '? in a field opens nothing');
  await page.locator('#q').fill('');

  // o opens the highlighted ticket.
  await page.locator('body').click({ position: { x: 5, y: 300 } });
  const third = await page.locator('table.data.tickets tbody tr').nth(2).locator('a').first().getAttribute('href');
  await page.keyboard.press('j');
  assert.deepEqual(await highlighted(page), [3], 'j after a click continues from the highlight');
  await page.keyboard.press('o');
  await page.waitForURL(`${BASE_URL}${third}`);

  // In the queue again, Enter opens too (the row's link has the focus).
  await page.goto(`${BASE_URL}/demo/tickets?queue=all`);
  await page.locator('table.data.tickets tbody tr').first().waitFor();
  await page.locator('body').click({ position: { x: 5, y: 300 } });
  const first = await page.locator('table.data.tickets tbody tr').first().locator('a').first().getAttribute('href');
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${BASE_URL}${first}`);
  assertNoProblems(page);
  await closePage(page);
});

test('on a ticket r replies, n writes a note, a assigns to me, ? lists the shortcuts', async () => {
  const page = await signedIn('agent@demo.test');
  await page.goto(`${BASE_URL}/demo/tickets/new`);
  const subject = `Shortcut ticket ${Date.now()}`;
  await page.getByLabel('Subject').fill(subject);
  await page.getByRole('button', { name: 'Create ticket' }).click();
  await page.waitForURL(/\/demo\/tickets\/\d+\?notice=created/);
  await page.locator('main').click({ position: { x: 5, y: 5 } });

  await page.keyboard.press('n');
  assert.equal((await active(page)).id, 'body', 'n: the reply box has the focus');
  assert.equal(await page.locator('#internal').isChecked(), true, 'n: as an internal note');
  await page.keyboard.type('an'); // typing, not shortcuts
  assert.equal(await page.locator('#body').inputValue(), 'an');
  await page.locator('#body').fill('');
  await page.locator('main').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('r');
  assert.equal((await active(page)).id, 'body', 'r: the reply box has the focus');
  assert.equal(await page.locator('#internal').isChecked(), false, 'r: a public reply');

  await page.locator('main').click({ position: { x: 5, y: 5 } });
  assert.match(await page.locator('.assignment-now').innerText(), /Nobody is assigned/);
  await page.keyboard.press('a');
  await page.locator('.assignment-now').getByText('Alex Agent').waitFor();
  assert.match(await page.locator('.assignment-now').innerText(), /Assigned to Alex Agent/);

  await page.locator('main').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('?');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await dialog.waitFor();
  const listed = await dialog.locator('dt').allInnerTexts();
  for (const key of ['j', 'k', 'o', 'Enter', '/', 'r', 'n', 'a', '?']) {
    assert.ok(listed.some((t) => t.split(/\s+/).includes(key)), `the dialog lists ${key}: ${listed}`);
  }
  await screenshot(page, 'shortcuts-help');
  await page.keyboard.press('j'); // keys do nothing behind the open dialog
  await page.keyboard.press('Escape');
  assert.equal(await dialog.isVisible(), false, 'Escape closes the list');
  assertNoProblems(page);
  await closePage(page);
});

test('customers get no shortcuts', async () => {
  const page = await signedIn('customer@demo.test');
  await page.goto(`${BASE_URL}/demo/tickets`);
  assert.equal(await page.locator('script[src$="shortcuts.js"]').count(), 0);
  assert.equal(await page.locator('#shortcuts-help').count(), 0);
  await page.keyboard.press('j');
  assert.equal(await page.locator('tr.kb-current').count(), 0);
  assertNoProblems(page);
  await closePage(page);
});
