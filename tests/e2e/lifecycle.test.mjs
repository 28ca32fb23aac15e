// The seed-001 lifecycle in a real browser: a customer's ticket is worked,
// resolved with notes the customer reads, and reopened by the customer's reply.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoProblems, closePage, launch, screenshot, BASE_URL, signedInPage } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const signedIn = (email) => signedInPage(browser, email);

test('a ticket is resolved with notes and reopened by the customer replying', async () => {
  const customer = await signedIn('customer@demo.test');
  await customer.goto(`${BASE_URL}/demo/tickets/new`);
  const subject = `VPN drops ${Date.now()}`;
  await customer.getByLabel('Subject').fill(subject);
  await customer.getByRole('button', { name: 'Create ticket' }).click();
  await customer.waitForURL(/\/demo\/tickets\/\d+\?notice=created/);
  const ticketUrl = customer.url().replace(/\?.*$/, '');

  const agent = await signedIn('agent@demo.test');
  await agent.goto(ticketUrl);
  await agent.getByLabel('Your reply').fill('The gateway lease was too short; fixed.');
  await agent.getByLabel('Resolution notes').fill('Raised the DHCP lease to 24 hours.');
  await agent.getByRole('button', { name: 'Send and resolve' }).click();
  await agent.getByText('Your reply was added.').waitFor();
  assert.match(await agent.locator('.ticket-head .badges').textContent(), /Resolved/);

  await customer.goto(ticketUrl);
  assert.match(await customer.locator('.resolution').textContent(), /Raised the DHCP lease to 24 hours/);
  await customer.getByLabel('Your reply').fill('It dropped again this morning.');
  await customer.getByRole('button', { name: 'Add Reply' }).click();
  await customer.getByText('Your reply was added.').waitFor();
  assert.match(await customer.locator('.ticket-head .badges').textContent(), /New/);
  await screenshot(customer, 'ticket-reopened-by-reply');

  await agent.goto(`${BASE_URL}/demo/tickets`);
  const row = agent.getByRole('row').filter({ hasText: subject });
  assert.match(await row.textContent(), /Reopened/);
  assertNoProblems(customer);
  assertNoProblems(agent);
  await closePage(customer);
  await closePage(agent);
});
