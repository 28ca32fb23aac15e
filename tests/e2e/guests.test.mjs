// Guest submission in a real browser: someone without an account finds the
// public form from the sign-in page, files a request (the chained category
// picker included), opens the link from the email Tessera wrote (an .eml file
// in the server's data directory, the demo's mail transport) and replies.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEMO, BASE_URL, assertNoProblems, closePage, launch, newPage, screenshot } from './lib.mjs';

const DATA_DIR = process.env.DATA_DIR;

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The text of every mail to `address` (quoted-printable and base64 parts decoded). */
function mailsTo(address) {
  const dir = path.join(DATA_DIR, 'outbox');
  let files = [];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith('.eml'));
  } catch {
    return [];
  }
  return files
    .map((name) => readFileSync(path.join(dir, name), 'utf8'))
    .filter((text) => text.includes(address))
    .map((text) => {
      const unfolded = text.replace(/=\r?\n/g, '');
      const decoded = unfolded
        .split(/\r?\n\r?\n/)
        .map((block) => (/^[A-Za-z0-9+/=\r\n]+$/.test(block.trim()) ? Buffer.from(block, 'base64').toString('utf8') : ''))
        .join('\n');
      return `${unfolded}\n${decoded}`;
    });
}

async function accessLinkFor(address) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const mail of mailsTo(address)) {
      const match = mail.match(/\/demo\/access\/([A-Za-z0-9_-]{43})/);
      if (match) return `${BASE_URL}/demo/access/${match[1]}`;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no access link was mailed to ${address}`);
}

test('a guest files a request from the public form and follows it by the emailed link', { skip: !DATA_DIR && 'DATA_DIR is not set' }, async () => {
  const page = await newPage(browser, { width: 390 });
  await page.goto(`${BASE_URL}/${DEMO.tenant}/login`);
  await page.getByRole('link', { name: 'Submit a request' }).click();
  await page.waitForURL('**/demo/submit');
  await screenshot(page, 'guest-submit-390');

  const address = `guest-${Date.now()}@example.test`;
  await page.locator('#email').fill(address);
  await page.locator('#name').fill('Gail Guest');
  await page.getByLabel('Subject').fill('Invoice shows the wrong address');
  await page.getByLabel('Description').fill('The street name is misspelled on invoice 1042.');
  await page.locator('#category-1').selectOption({ index: 1 });
  await page.getByRole('button', { name: 'Submit request' }).click();
  const received = page.getByText(/We received your request \S+; we emailed you a link to follow it/);
  await received.waitFor();
  const number = (await received.textContent()).match(/request (\S+);/)[1];

  const link = await accessLinkFor(address);
  await page.goto(link);
  await page.waitForURL(/\/demo\/access\/tickets\/\d+$/);
  assert.ok(!page.url().includes(link.split('/').pop()), 'the token left the address bar');
  assert.equal(await page.locator('.ticket-number').textContent(), number);
  await page.getByLabel('Your reply').fill('Also on invoice 1043.');
  await page.getByRole('button', { name: 'Add Reply' }).click();
  await page.getByText('Your reply was added.').waitFor();
  assert.match(await page.locator('.conversation').textContent(), /Also on invoice 1043/);
  await screenshot(page, 'guest-ticket-390');
  assertNoProblems(page);
  await closePage(page);
});
