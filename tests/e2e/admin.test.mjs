// Admin settings in a real browser: the settings pages are reached from the
// navigation, an invalid form explains itself at the field, a new status can be
// added and retired (and then is no longer offered), and the audit log shows it.
// Only new, uniquely named rows are touched, so the demo's own data stays as the
// other browser tests expect it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, assertNoProblems, closePage, expectConsoleError, launch, newPage, screenshot, signIn, BASE_URL } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('an admin adds and retires a status, with errors at the field and a line in the audit log', async () => {
  const page = await newPage(browser, { width: 1280 });
  await signIn(page, DEMO.tenant, 'admin@demo.test', DEMO.password);
  await page.waitForURL('**/demo/');
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.waitForURL('**/demo/admin');
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Statuses' }).click();
  await page.waitForURL('**/demo/admin/statuses');

  // Nothing typed: the name explains itself (a 422 page, as it should be).
  expectConsoleError(page, /the server responded with a status of 422/);
  await page.getByRole('button', { name: 'Add status' }).click();
  const name = page.locator('#name-add');
  await assert.doesNotReject(page.getByText('Enter a name.').waitFor());
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  assert.equal(await name.getAttribute('aria-describedby'), 'name-add-error');

  const status = `On hold ${Date.now()}`;
  await name.fill(status);
  await page.getByLabel('Category').selectOption({ label: 'Waiting on customer' });
  await page.getByRole('button', { name: 'Add status' }).click();
  await page.getByText('Added.').waitFor();
  const row = page.getByRole('row').filter({ has: page.locator(`input[value="${status}"]`) });
  await screenshot(page, 'admin-statuses-1280');

  await row.getByRole('button', { name: 'Retire' }).click();
  await page.getByText('Your changes are saved.').waitFor();
  assert.match(await page.getByRole('row').filter({ has: page.locator(`input[value="${status}"]`) }).textContent(), /Retired/);

  // A retired status is not offered on a ticket's edit form.
  await page.goto(`${BASE_URL}/demo/tickets`);
  const first = page.locator('table.data.tickets tbody tr a').first();
  const href = await first.getAttribute('href');
  await page.goto(`${BASE_URL}${href}/edit`);
  const offered = await page.locator('#status option').allTextContents();
  assert.ok(offered.length > 0, 'the edit form offers statuses');
  assert.ok(!offered.includes(status), `${status} is retired and not offered`);

  await page.goto(`${BASE_URL}/demo/admin/audit`);
  const audit = await page.locator('table.audit').textContent();
  assert.match(audit, new RegExp(`add: ${status}`));
  assert.match(audit, new RegExp(`retire: ${status}`));
  await screenshot(page, 'admin-audit-1280');
  assertNoProblems(page);
  await closePage(page);
});

test('an agent does not find the settings', async () => {
  const page = await newPage(browser, { width: 1280 });
  await signIn(page, DEMO.tenant, 'agent@demo.test', DEMO.password);
  await page.waitForURL('**/demo/');
  assert.equal(await page.getByRole('link', { name: 'Settings', exact: true }).count(), 0);
  expectConsoleError(page, /the server responded with a status of 404/);
  const response = await page.goto(`${BASE_URL}/demo/admin/general`);
  assert.equal(response.status(), 404);
  await closePage(page);
});
