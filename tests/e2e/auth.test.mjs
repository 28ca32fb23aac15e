// Signing in and out in a real browser, as each demo role, at desktop and
// phone widths, in light and dark mode.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BASE_URL,
  DEMO,
  assertNoProblems,
  closePage,
  expectConsoleError,
  launch,
  newPage,
  screenshot,
  signIn,
} from './lib.mjs';

const HOME = `${BASE_URL}/${DEMO.tenant}/`;
const LOGIN = `${BASE_URL}/${DEMO.tenant}/login`;

describe('signing in and out', () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  // First, so that a later successful sign-in clears the failure it counts.
  test('a wrong password says so and marks the fields invalid', async () => {
    const page = await newPage(browser, { width: 1280, colorScheme: 'light' });
    try {
      // The re-rendered form answers 422, which Chromium logs as a failed load.
      expectConsoleError(page, /the server responded with a status of 422/);
      await signIn(page, DEMO.tenant, 'agent@demo.test', 'not-the-password');
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.equal((await alert.innerText()).trim(), 'Email or password is incorrect.');
      assert.equal(page.url(), LOGIN, 'stays on the sign-in page');

      const email = page.getByLabel('Email', { exact: true });
      assert.equal(await email.getAttribute('aria-invalid'), 'true');
      assert.equal(await email.getAttribute('aria-describedby'), 'login-error');
      assert.equal(await email.inputValue(), 'agent@demo.test', 'the email is kept');
      await page
        .waitForFunction(() => document.activeElement?.id === 'email', null, { timeout: 3_000 })
        .catch(() => assert.fail('the email field has the focus, to be corrected'));
      const password = page.getByLabel('Password', { exact: true });
      assert.equal(await password.getAttribute('aria-invalid'), 'true');
      assert.equal(await password.inputValue(), '', 'the password is not echoed back');

      await screenshot(page, 'auth-wrong-password-1280-light');
      assertNoProblems(page);
    } finally {
      await closePage(page);
    }
  });

  for (const { email, role } of DEMO.accounts) {
    test(`${role.toLowerCase()} signs in, sees the home page for the role, and signs out`, async () => {
      for (const view of [
        { width: 1280, colorScheme: 'light' },
        { width: 390, colorScheme: 'dark' },
      ]) {
        const page = await newPage(browser, view);
        const where = `${role} at ${view.width}px ${view.colorScheme}`;
        try {
          await signIn(page, DEMO.tenant, email, DEMO.password);
          await page.waitForURL(HOME);

          const heading = page.getByRole('heading', { level: 1 });
          assert.match(await heading.innerText(), /^Welcome, /, where);
          assert.equal((await page.locator('.role-badge').innerText()).trim(), role, where);

          const nav = page.locator('nav[aria-label=Main]');
          const links = (await nav.getByRole('link').allInnerTexts()).map((t) => t.trim());
          assert.ok(links.includes('Home'), `${where}: ${links}`);
          assert.equal(links.includes('Settings'), role === 'Admin', `${where}: ${links}`);
          assert.equal(links.includes('My tickets'), role === 'Customer', `${where}: ${links}`);
          assert.equal(
            await nav.getByRole('link', { name: 'Home' }).getAttribute('aria-current'),
            'page',
            where,
          );

          // One call saves (and checks) both widths and schemes.
          if (view.width === 1280) await screenshot(page, `auth-home-${role.toLowerCase()}`);

          await page.getByRole('button', { name: 'Sign out', exact: true }).click();
          await page.waitForURL(`${LOGIN}?notice=signed_out`);
          const notice = page.getByRole('status');
          await notice.waitFor();
          assert.equal((await notice.innerText()).trim(), 'You have signed out.', where);
          assert.equal(await page.locator('.role-badge').count(), 0, `${where}: still signed in`);

          // Signed out means signed out: home sends the browser back to sign in.
          await page.goto(HOME);
          assert.ok(page.url().startsWith(LOGIN), `${where}: home after sign-out is ${page.url()}`);

          assertNoProblems(page);
        } finally {
          await closePage(page);
        }
      }
    });
  }
});
