// The seed-000 flow in a real browser: create a ticket through the form (with
// the chained category selects driven by htmx), see it in the list, reply to it,
// and the split view beside it on a wide screen.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, assertNoProblems, closePage, launch, newPage, screenshot, signIn, BASE_URL } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a customer creates a ticket through the form and finds it in the list', async () => {
  const page = await newPage(browser, { width: 1280 });
  await signIn(page, DEMO.tenant, 'customer@demo.test', DEMO.password);
  await page.waitForURL('**/demo/');
  await page.goto(`${BASE_URL}/demo/tickets`);
  await page.getByRole('link', { name: 'Create new ticket' }).click();
  await page.waitForURL('**/demo/tickets/new');

  const subject = `Browser-made ticket ${Date.now()}`;
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Description').fill('The **export** button does nothing.\n\n- open reports\n- click export');
  await page.getByLabel('Type', { exact: true }).selectOption({ label: 'Bug' });
  await page.getByLabel('Priority').selectOption({ label: 'High' });
  // Chained categories: choosing a level fetches the next one (htmx).
  await page.getByLabel('Category', { exact: true }).selectOption({ label: 'Technical' });
  await page.getByLabel('Type of issue').selectOption({ label: 'Access' });
  await page.getByLabel('Item').selectOption({ label: 'Password reset' });
  await screenshot(page, 'ticket-new-1280');
  await page.getByRole('button', { name: 'Create ticket' }).click();

  await page.waitForURL(/\/demo\/tickets\/\d+\?notice=created/);
  await assert.doesNotReject(page.getByText(/Ticket TKT-\d{6} created/).waitFor());
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), subject);
  // Beside it, the list arrives once in view, with this ticket marked.
  const current = page.locator('.split-list tr[aria-current="true"]');
  await current.waitFor();
  assert.match(await current.textContent(), new RegExp(subject));
  assert.match(await page.locator('.ticket-meta').textContent(), /Technical › Access › Password reset/);
  assert.equal(await page.locator('.description strong').textContent(), 'export');

  await page.getByLabel('Your reply').fill('Adding: it happens in Firefox too.');
  await page.getByRole('button', { name: 'Add Reply' }).click();
  await page.getByText('Your reply was added.').waitFor();
  assert.match(await page.locator('.conversation').textContent(), /it happens in Firefox too/);
  await screenshot(page, 'ticket-detail-1280');

  await page.goto(`${BASE_URL}/demo/tickets`);
  const row = page.getByRole('row').filter({ hasText: subject });
  await row.waitFor();
  assert.match(await row.textContent(), /New/);
  assert.match(await row.textContent(), /by Casey Customer/);
  assertNoProblems(page);
  await closePage(page);
});

test('on a phone the ticket opens as its own page with a way back', async () => {
  const page = await newPage(browser, { width: 390, colorScheme: 'dark' });
  // The hidden list beside the ticket is never fetched on a narrow screen.
  const sideRequests = [];
  page.on('request', (request) => {
    if (request.url().includes('/tickets/side')) sideRequests.push(request.url());
  });
  await signIn(page, DEMO.tenant, 'agent@demo.test', DEMO.password);
  await page.waitForURL('**/demo/');
  await page.goto(`${BASE_URL}/demo/tickets`);
  const first = page.locator('table.tickets tbody tr a').first();
  await first.click();
  await page.waitForURL(/\/demo\/tickets\/\d+$/);
  assert.equal(await page.locator('.split-list').isVisible(), false);
  assert.equal(await page.getByRole('link', { name: '← Back to all tickets' }).isVisible(), true);
  await page.waitForLoadState('networkidle');
  assert.deepEqual(sideRequests, []);
  await screenshot(page, 'ticket-detail-390-dark');
  assertNoProblems(page);
  await closePage(page);
});

test('an agent deletes their reply with its Delete button', async () => {
  const page = await newPage(browser, { width: 1280 });
  await signIn(page, DEMO.tenant, 'agent@demo.test', DEMO.password);
  await page.waitForURL('**/demo/');
  await page.goto(`${BASE_URL}/demo/tickets`);
  await page.locator('table.tickets tbody tr a').first().click();
  await page.waitForURL(/\/demo\/tickets\/\d+$/);
  const text = `A reply to take back ${Date.now()}`;
  await page.getByLabel('Your reply').fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.getByText('Your reply was added.').waitFor();

  // Every Delete button posts the page's one token form to its own reply's address.
  const reply = page.locator('.conversation > li').filter({ hasText: text });
  await reply.getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(/\?notice=reply_deleted$/);
  await page.getByText('The reply was deleted.').waitFor();
  assert.equal(await page.locator('.conversation').getByText(text).count(), 0);
  assert.match(
    await page.locator('.conversation > li.deleted').last().textContent(),
    /Reply deleted by Alex Agent on/,
  );
  assertNoProblems(page);
  await closePage(page);
});
