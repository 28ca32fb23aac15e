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
//
// `screenshot(page, name)` is how a test says "a person would look at this
// page": it saves the page at both widths (1280 and 390 px) in both colour
// schemes, runs axe-core at 1280 px light and 390 px dark (so each scheme and
// each width is checked; failing on any serious or critical violation) and
// notes the page's CSS+JS weight. Counts go to
// `SCREENSHOT_DIR/report.txt`, which tests/it/browser.rs prints.

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
 * colour scheme (with `javaScriptEnabled: false`, as a browser with scripts off), watched for console errors, page errors and CSP violations.
 * Close it with `closePage`.
 */
export async function newPage(browser, { width = 1280, height, colorScheme = 'light', javaScriptEnabled = true } = {}) {
  const context = await browser.newContext({
    viewport: { width, height: height ?? (width < 600 ? 844 : 800) },
    colorScheme,
    reducedMotion: 'reduce',
    javaScriptEnabled,
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

/**
 * A new page (options as for `newPage`) signed in to the demo tenant as
 * `email`, on its home page.
 */
export async function signedInPage(browser, email, { password = DEMO.password, ...options } = {}) {
  const page = await newPage(browser, { width: 1280, ...options });
  await signIn(page, DEMO.tenant, email, password);
  await page.waitForURL(`**/${DEMO.tenant}/`);
  return page;
}

/** The widths and colour schemes every looked-at page is saved and checked in. */
export const VIEWS = [
  { width: 1280, colorScheme: 'light', axe: true },
  { width: 1280, colorScheme: 'dark' },
  { width: 390, colorScheme: 'light' },
  { width: 390, colorScheme: 'dark', axe: true },
];

/** Largest CSS+JS a page may ship (bytes over the wire, first visit). */
export const MAX_ASSET_BYTES = 100 * 1024;

/**
 * Saves full-page screenshots of the page as it is now at each of `VIEWS`
 * (`SCREENSHOT_DIR/<name>-<width>-<scheme>.png`; a width or scheme at the end
 * of `name` is dropped, all four are taken), checks the ones marked `axe`
 * with axe-core and the page's CSS+JS weight, then puts the page back to its own width and
 * scheme. Returns the paths.
 */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const base = name.replace(/(-(1280|390|light|dark))+$/, '');
  const own = { viewport: page.viewportSize(), colorScheme: await currentScheme(page) };
  const files = [];
  const lesser = new Map();
  let rules = 0;
  try {
    for (const view of VIEWS) {
      await page.setViewportSize({ width: view.width, height: view.width < 600 ? 844 : 800 });
      await page.emulateMedia({ colorScheme: view.colorScheme });
      const label = `${base}-${view.width}-${view.colorScheme}`;
      const file = path.join(SCREENSHOT_DIR, `${label}.png`);
      await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
      files.push(file);
      if (!view.axe) continue;
      const result = await checkA11y(page, label);
      rules = Math.max(rules, result.passes);
      for (const v of result.lesser) lesser.set(v, (lesser.get(v) ?? 0) + 1);
    }
  } finally {
    await page.setViewportSize(own.viewport);
    await page.emulateMedia({ colorScheme: own.colorScheme });
  }
  report(
    `axe ${base} (${page.url().replace(BASE_URL, '')}): 0 serious or critical at 1280 light and 390 dark ` +
      `(${rules} rules passed)` +
      (lesser.size ? `; lesser: ${[...lesser].map(([v, n]) => `${v} x${n}`).join(', ')}` : ''),
  );
  await checkWeight(page, base);
  return files;
}

async function currentScheme(page) {
  return page.evaluate(() => (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
}

const require = createRequire(import.meta.url);
let axeSource;

/**
 * Runs axe-core (all its rules) on the page as it is now; fails on any
 * serious or critical violation, naming rule, element and help. Returns how
 * many rules passed and the lesser (moderate, minor) violations. Evaluated through the DevTools protocol, so the
 * page's Content-Security-Policy (no inline scripts) does not stop it.
 */
export async function checkA11y(page, label) {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(axeSource);
  }
  const results = await page.evaluate(async () => {
    const { violations, passes } = await window.axe.run(document, { resultTypes: ['violations'] });
    return {
      passes: passes.length,
      violations: violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`),
      })),
    };
  });
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id} (${v.help}):\n    ${v.nodes.join('\n    ')}`),
    [],
    `axe-core found serious or critical accessibility violations on ${label} (${page.url()})`,
  );
  return {
    passes: results.passes,
    lesser: results.violations.map((v) => `${v.impact} ${v.id} (${v.nodes.length})`),
  };
}

/**
 * The CSS and JavaScript the page loaded: bytes over the wire and decoded.
 * Fails when more than `MAX_ASSET_BYTES` went over the wire.
 */
export async function checkWeight(page, label) {
  const weight = await page.evaluate(() => {
    const assets = performance
      .getEntriesByType('resource')
      .filter((e) => e.initiatorType === 'script' || e.initiatorType === 'link' || /\.(css|js)(\?|$)/.test(e.name));
    return {
      files: assets.length,
      // A file answered from the memory cache has transferSize 0: count its
      // encoded size then, which is what its first visit cost.
      transferred: assets.reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize), 0),
      decoded: assets.reduce((sum, e) => sum + e.decodedBodySize, 0),
    };
  });
  report(
    `weight ${label} (${page.url().replace(BASE_URL, '')}): ${weight.files} CSS+JS files, ` +
      `${(weight.transferred / 1024).toFixed(1)} KB over the wire, ${(weight.decoded / 1024).toFixed(1)} KB decoded`,
  );
  assert.ok(
    weight.transferred <= MAX_ASSET_BYTES,
    `${label} ships ${weight.transferred} bytes of CSS+JS (more than ${MAX_ASSET_BYTES})`,
  );
  return weight;
}

/** Appends a line to `SCREENSHOT_DIR/report.txt` (printed by tests/it/browser.rs). */
export function report(line) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  appendFileSync(path.join(SCREENSHOT_DIR, 'report.txt'), `${line}\n`);
}

/**
 * Loads `url` and returns its Largest Contentful Paint in milliseconds as the
 * browser measured it (null if it reported none within 3 s). Reported, not
 * asserted: the time depends on the machine.
 */
export async function largestContentfulPaint(page, url) {
  await page.goto(url);
  return page.evaluate(
    () =>
      new Promise((resolve) => {
        new PerformanceObserver((list) => {
          const entries = list.getEntries();
          resolve(entries[entries.length - 1].startTime);
        }).observe({ type: 'largest-contentful-paint', buffered: true });
        setTimeout(() => resolve(null), 3_000);
      }),
  );
}
