// Shared helpers for the real-browser tests: Debian's Chromium driven by
// playwright-core (never `npx playwright install`: it downloads a browser).
//
// Environment:
//   BASE_URL        the server to test (default http://127.0.0.1:8080, what
//                   `cargo run -- serve --demo` listens on)
//   CHROME_BIN      the browser (default /usr/bin/chromium)
//   SCREENSHOT_DIR  where screenshots go, relative paths from the repository
//                   root (default target/e2e)
//
// Every page made by `newPage` records console errors, uncaught exceptions
// and Content-Security-Policy violations; `assertNoProblems(page)` fails the
// test on any that were not announced with `expectConsoleError`.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const CHROME_BIN = process.env.CHROME_BIN || '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve(REPO_ROOT, process.env.SCREENSHOT_DIR || 'target/e2e');

/** The demo tenant `serve --demo` creates, and its accounts. */
export const DEMO = {
  tenant: 'demo',
  password: 'tessera-demo',
  accounts: [
    { email: 'admin@demo.test', role: 'Admin' },
    { email: 'agent@demo.test', role: 'Agent' },
    { email: 'customer@demo.test', role: 'Customer' },
  ],
};

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A headless Chromium. Close it in an `after` hook. */
export async function launch() {
  return chromium.launch({
    executablePath: CHROME_BIN,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

const problemsOf = new WeakMap();

/**
 * A page in a fresh browser context (its own cookies) of the given width and
 * colour scheme, watched for console errors, page errors and CSP violations.
 * Close it with `closePage`.
 */
export async function newPage(browser, { width = 1280, height, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({
    viewport: { width, height: height ?? (width < 600 ? 844 : 800) },
    colorScheme,
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  const state = { problems: [], expected: [] };
  problemsOf.set(page, state);

  const record = (kind, text) => {
    const index = state.expected.findIndex((pattern) => pattern.test(text));
    if (index >= 0) {
      state.expected.splice(index, 1);
      return;
    }
    state.problems.push(`${kind} on ${page.url()}: ${text}`);
  };
  page.on('console', (message) => {
    if (message.type() === 'error') record('console error', message.text());
  });
  page.on('pageerror', (error) => record('uncaught exception', String(error?.stack ?? error)));
  // Chromium also logs CSP violations to the console; the event catches the
  // report-only ones and anything the console wording might hide.
  await page.exposeFunction('__tesseraCspViolation', (text) => record('CSP violation', text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__tesseraCspViolation?.(
        `${event.effectiveDirective} blocked ${event.blockedURI || '(inline)'} ` +
          `at ${event.sourceFile || '?'}:${event.lineNumber}`,
      );
    });
  });
  return page;
}

/** Announces one console error the test expects (e.g. the status of a 4xx page). */
export function expectConsoleError(page, pattern) {
  problemsOf.get(page).expected.push(pattern);
}

/** Fails with every console error, page error and CSP violation seen so far. */
export function assertNoProblems(page) {
  const { problems } = problemsOf.get(page);
  assert.deepEqual(problems, [], `the browser reported problems:\n${problems.join('\n')}`);
}

export async function closePage(page) {
  await page.context().close();
}

/** Opens the sign-in page of `tenant`, fills it in and submits it. */
export async function signIn(page, tenant, email, password) {
  await page.goto(`${BASE_URL}/${tenant}/login`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Saves a full-page screenshot as `SCREENSHOT_DIR/<name>.png`; returns its path. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}
