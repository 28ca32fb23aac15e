// Every page a person meets, in every role, looked at: each is saved at 1280
// and 390 px in light and dark (target/e2e/pages-*.png) and checked by
// axe-core (0 serious or critical violations; see lib.mjs `screenshot`). The
// tickets here carry hostile content a real helpdesk gets: a 200-character
// subject, a 300-character unbroken string, a 10,000-character reply, a
// right-to-left subject; and a customer with no tickets meets the empty state.
// Nothing may overflow the page sideways at either width.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, DEMO, assertNoProblems, closePage, expectConsoleError, largestContentfulPaint, launch, newPage, report, screenshot, signedInPage } from './lib.mjs';

const LONG_SUBJECT = (
  'Exported quarterly invoices for the Nordic subsidiaries arrive with the wrong currency symbol, ' +
  'rounded totals and missing VAT lines whenever the report is scheduled overnight from the portal'
).padEnd(200, '.').slice(0, 200);
const UNBROKEN = `https://files.example.test/${'a1B2c3D4'.repeat(36)}`.slice(0, 300);
const RTL_SUBJECT = 'לא ניתן להדפיס את החשבונית האחרונה';
const LONG_REPLY = Array.from({ length: 200 }, (_, i) => `Line ${i + 1} of the attached log: the export worker retried.`)
  .join('\n')
  .padEnd(10_000, 'x')
  .slice(0, 10_000);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const signedIn = (email, password = DEMO.password) => signedInPage(browser, email, { password });

const sideways = [];

/** The page scrolls sideways at neither width: long text wraps or scrolls in its own box. */
async function noteSidewaysScroll(page, label) {
  const own = page.viewportSize();
  try {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 });
      const culprits = await page.evaluate(() => {
        const limit = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= limit) return null;
        return [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > limit + 1 && !el.closest('.table-wrap'))
          .slice(-3)
          .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${[...el.classList].join('.')}`);
      });
      if (culprits) sideways.push(`${label} at ${width}px: ${culprits.join(', ')}`);
    }
  } finally {
    await page.setViewportSize(own);
  }
}

function assertNoSidewaysScroll() {
  assert.deepEqual(sideways.splice(0), [], 'pages scroll sideways');
}

/** Visits `path`, checks it loaded, saves and checks it (`screenshot`). */
async function look(page, path, name) {
  const response = await page.goto(`${BASE_URL}/demo${path}`);
  assert.equal(response.status(), 200, `${path} answered ${response.status()}`);
  await screenshot(page, `pages-${name}`);
  await noteSidewaysScroll(page, name);
}

async function createTicket(page, subject, description) {
  await page.goto(`${BASE_URL}/demo/tickets/new`);
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Description').fill(description);
  await page.getByRole('button', { name: 'Create ticket' }).click();
  await page.waitForURL(/\/demo\/tickets\/\d+\?notice=created/);
  return page.url().replace(/\?.*$/, '').replace(BASE_URL, '').replace('/demo', '');
}

describe('every page, every role', () => {
  let hostile; // the path of the ticket with the long subject

  test('signed out: sign-in, forgotten password, guest form', async () => {
    const page = await newPage(browser, { width: 1280 });
    await look(page, '/login', 'login');
    await look(page, '/password/forgot', 'password-forgot');
    await look(page, '/submit', 'guest-submit');
    // A form sent empty: the first error has the focus and every error is tied to its field.
    expectConsoleError(page, /status of 422/);
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.locator('[aria-invalid=true]').first().waitFor();
    const invalid = await page.locator('[aria-invalid=true]').evaluateAll((fields) =>
      fields.map((f) => ({ id: f.id, describedBy: f.getAttribute('aria-describedby') })),
    );
    assert.ok(invalid.length > 0, 'the empty form marks fields invalid');
    for (const { id, describedBy } of invalid) {
      assert.ok(describedBy, `#${id} is invalid but not described by its error`);
      for (const ref of describedBy.split(' ')) {
        assert.equal(await page.locator(`[id="${ref}"]`).count(), 1, `#${id} points at a missing #${ref}`);
      }
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), invalid[0].id, 'the first error has the focus');
    await screenshot(page, 'pages-guest-submit-errors');
    // A ticket link followed while signed out asks to sign in first.
    await page.goto(`${BASE_URL}/demo/tickets/999999`);
    assert.ok(page.url().startsWith(`${BASE_URL}/demo/login`), page.url());
    await screenshot(page, 'pages-login-from-link');
    assertNoSidewaysScroll();
    assertNoProblems(page);
    await closePage(page);
  });

  test('an agent: queue, hostile tickets, activity, edit, views, settings of their own', async () => {
    const page = await signedIn('agent@demo.test');
    hostile = await createTicket(page, LONG_SUBJECT, `A link that does not break:\n\n${UNBROKEN}\n\nand ${UNBROKEN}`);
    await page.getByLabel('Your reply').fill(LONG_REPLY);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByText('Your reply was added.').waitFor();
    // The flash message has the focus after the action, so it is read out.
    await page.waitForFunction(() => document.activeElement?.id === 'notice', null, { timeout: 3_000 });
    const rtl = await createTicket(page, RTL_SUBJECT, 'החשבונית האחרונה לא מודפסת.');
    assert.equal(await page.locator('h1').getAttribute('dir'), 'auto');

    await look(page, '/', 'home-agent');
    await look(page, '/tickets', 'queue-agent');
    // The queue as felt: Largest Contentful Paint of three loads in a row.
    const lcp = [];
    for (let i = 0; i < 3; i += 1) lcp.push(await largestContentfulPaint(page, `${BASE_URL}/demo/tickets?queue=all`));
    report(`lcp queue (/demo/tickets?queue=all, agent, 1280px): ${lcp.map((ms) => (ms === null ? 'none' : `${Math.round(ms)} ms`)).join(', ')}`);
    const row = page.getByRole('row').filter({ hasText: LONG_SUBJECT.slice(0, 40) }).first();
    await row.waitFor();
    assert.match(await row.locator('.badge').first().innerText(), /\S/, 'the status badge carries text');
    await look(page, hostile, 'ticket-hostile-agent');
    await look(page, rtl, 'ticket-rtl-agent');
    await look(page, `${hostile}/activity`, 'ticket-activity-agent');
    await look(page, `${hostile}/edit`, 'ticket-edit-agent');
    await look(page, '/tickets/new', 'ticket-new-agent');
    await look(page, '/tickets?q=no-such-ticket-anywhere', 'queue-no-match');
    await look(page, '/views', 'views-agent');
    await look(page, '/account/notifications', 'account-agent');
    assertNoSidewaysScroll();
    assertNoProblems(page);
    await closePage(page);
  });

  test('a customer: home, my tickets, a ticket, the form, settings', async () => {
    const page = await signedIn('customer@demo.test');
    await look(page, '/', 'home-customer');
    await look(page, '/tickets', 'my-tickets-customer');
    const first = await page.locator('table.data.tickets tbody tr a').first().getAttribute('href');
    await look(page, first.replace('/demo', ''), 'ticket-customer');
    await look(page, '/tickets/new', 'ticket-new-customer');
    await look(page, '/account/notifications', 'account-customer');
    // A ticket the customer may not see is simply not there.
    expectConsoleError(page, /status of 404/);
    const refused = await page.goto(`${BASE_URL}/demo${hostile}`);
    assert.equal(refused.status(), 404);
    await screenshot(page, 'pages-not-found');
    assertNoSidewaysScroll();
    assertNoProblems(page);
    await closePage(page);
  });

  test('an admin: every settings page, and a new customer with no tickets yet', async () => {
    const page = await signedIn('admin@demo.test');
    await look(page, '/', 'home-admin');
    for (const slug of ['', '/general', '/statuses', '/priorities', '/types', '/categories', '/groups', '/users',
      '/tags', '/guests', '/inbound', '/outbox', '/chat', '/audit']) {
      await look(page, `/admin${slug}`, `admin${slug.replace('/', '-') || '-overview'}`);
    }

    // A customer who has filed nothing yet.
    const email = `new-${Date.now()}@demo.test`;
    await page.goto(`${BASE_URL}/demo/admin/users`);
    const form = page.locator('form').filter({ has: page.getByRole('button', { name: /create user/i }) });
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('Name').fill('Nadia New');
    await form.getByLabel('Role').selectOption({ label: 'Customer' });
    await form.getByLabel(/Initial password/).fill('a-new-customer-password');
    await form.getByRole('button', { name: /create user/i }).click();
    await page.getByText('The user was created.').waitFor();
    assertNoSidewaysScroll();
    assertNoProblems(page);
    await closePage(page);

    const customer = await signedIn(email, 'a-new-customer-password');
    await look(customer, '/tickets', 'my-tickets-empty');
    assert.match(await customer.locator('.empty-state').innerText(), /No tickets yet\./);
    assertNoSidewaysScroll();
    assertNoProblems(customer);
    await closePage(customer);
  });
});
