// Attachments in a real browser: files dropped on the drop zone are listed
// with their sizes, one can be removed before sending, and the ones left are
// uploaded with the ticket; an image shows as a thumbnail on the ticket page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, assertNoProblems, closePage, launch, newPage, screenshot, signIn, BASE_URL } from './lib.mjs';

// A 1×1 PNG.
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('files dropped on the drop zone are listed, one is removed, the rest are uploaded', async () => {
  const page = await newPage(browser, { width: 1280 });
  await signIn(page, DEMO.tenant, 'customer@demo.test', DEMO.password);
  await page.waitForURL('**/demo/');
  await page.goto(`${BASE_URL}/demo/tickets/new`);
  const zone = page.locator('[data-drop-zone]');
  await zone.waitFor();

  // What a drag from the desktop delivers: a DataTransfer holding files.
  const dataTransfer = await page.evaluateHandle((png) => {
    const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File(['twelve bytes'], 'notes.txt', { type: 'text/plain' }));
    transfer.items.add(new File([bytes], 'pixel.png', { type: 'image/png' }));
    transfer.items.add(new File(['x'.repeat(2048)], 'mistake.log', { type: 'text/plain' }));
    return transfer;
  }, PNG_BASE64);
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });

  const chosen = page.locator('[data-drop-zone-files] li');
  await assert.doesNotReject(chosen.nth(2).waitFor());
  assert.deepEqual(
    (await chosen.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim()),
    ['notes.txt (12 bytes) Remove', 'pixel.png (70 bytes) Remove', 'mistake.log (2 KB) Remove'],
  );
  await page.getByRole('button', { name: 'Remove mistake.log' }).click();
  assert.equal(await chosen.count(), 2);
  assert.equal(await page.locator('#attachments').evaluate((input) => input.files.length), 2);
  await screenshot(page, 'attachments-drop-zone-1280');

  const subject = `Dropped files ${Date.now()}`;
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Description').fill('Two files, dropped.');
  await page.getByRole('button', { name: 'Create ticket' }).click();
  await page.waitForURL(/\/demo\/tickets\/\d+\?notice=created/);

  const files = page.locator('ul.attachments').first();
  await assert.doesNotReject(files.getByRole('link', { name: 'notes.txt' }).waitFor());
  assert.match(await files.textContent(), /notes\.txt\s*\(12 bytes\)/);
  assert.match(await files.textContent(), /pixel\.png\s*\(70 bytes\)/);
  assert.doesNotMatch(await files.textContent(), /mistake\.log/);
  // The thumbnail is served inline and loads in the page.
  const thumbnail = files.getByRole('img', { name: 'pixel.png' });
  await thumbnail.waitFor();
  await page.waitForFunction((img) => img.complete, await thumbnail.elementHandle());
  assert.equal(await thumbnail.evaluate((img) => img.naturalWidth), 1);
  await screenshot(page, 'attachments-ticket-1280');
  assertNoProblems(page);
  await closePage(page);
});
