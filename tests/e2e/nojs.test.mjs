// The core flows with JavaScript off, as some browsers, proxies and screen
// reader set-ups run: a customer creates a ticket and replies, an agent
// replies and changes the status. Plain forms and redirects do all of it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BASE_URL, SCREENSHOT_DIR, closePage, launch, signedInPage } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const signedIn = (email) => signedInPage(browser, email, { width: 390, javaScriptEnabled: false });

const shot = (page, name) =>
  page.screenshot({ path: path.join(SCREENSHOT_DIR, `nojs-${name}-390-light.png`), fullPage: true });

test('without JavaScript a ticket is created, replied to and its status changed', async () => {
  const customer = await signedIn('customer@demo.test');
  assert.equal(await customer.evaluate(() => typeof window.htmx), 'undefined', 'scripts are really off');
  await customer.goto(`${BASE_URL}/demo/tickets/new`);
  const subject = `No-script ticket ${Date.now()}`;
  await customer.getByLabel('Subject').fill(subject);
  await customer.getByLabel('Description').fill('Filed from a browser with JavaScript off.');
  await customer.getByLabel('Category', { exact: true }).selectOption({ label: 'Billing' });
  await customer.getByRole('button', { name: 'Create ticket' }).click();
  await customer.waitForURL(/\/demo\/tickets\/\d+\?notice=created/);
  assert.equal(await customer.getByRole('heading', { level: 1 }).innerText(), subject);
  assert.match(await customer.locator('.ticket-meta').innerText(), /Billing/);
  const ticket = customer.url().replace(/\?.*$/, '');

  await customer.getByLabel('Your reply').fill('Still happening, no scripts here.');
  await customer.getByRole('button', { name: 'Add Reply' }).click();
  await customer.getByText('Your reply was added.').waitFor();
  assert.match(await customer.locator('.conversation').innerText(), /Still happening, no scripts here/);
  await shot(customer, 'customer-ticket');

  const agent = await signedIn('agent@demo.test');
  await agent.goto(ticket);
  await agent.getByRole('button', { name: 'Assign to me' }).click();
  await agent.waitForURL(`${ticket}**`);
  assert.match(await agent.locator('.assignment-now').innerText(), /Assigned to Alex Agent/);
  await agent.getByLabel('Your reply').fill('Looking into it with scripts off too.');
  await agent.getByRole('button', { name: 'Send and mark waiting' }).click();
  await agent.getByText('Your reply was added.').waitFor();
  assert.match(await agent.locator('.ticket-head .badges').innerText(), /Awaiting customer/);

  await agent.getByRole('link', { name: 'Edit Ticket' }).click();
  await agent.getByLabel('Status').selectOption({ label: 'In Progress' });
  await agent.getByRole('button', { name: /save/i }).click();
  await agent.waitForURL(`${ticket}**`);
  assert.match(await agent.locator('.ticket-head .badges').innerText(), /In Progress/);
  await shot(agent, 'agent-ticket');

  await customer.goto(ticket);
  assert.match(await customer.locator('.conversation').innerText(), /Looking into it with scripts off too/);
  await closePage(customer);
  await closePage(agent);
});
