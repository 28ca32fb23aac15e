// Nothing executes (issue 10): every payload of fixtures/xss-payloads.txt
// goes through every text input — ticket subject, description, tags, reply,
// internal note, user names, category names, attachment file names, the guest
// form, search boxes and paths that error pages may echo — and every view is
// rendered in headless Chromium twice, with the Content-Security-Policy
// honoured and with it bypassed: the agent's, customer's and guest's ticket
// pages, the lists, the edit and activity pages, the admin pages, the error
// pages and the HTML of every email the demo wrote. A payload that runs calls
// `__xss(id)` (a binding), a dialog (replaced by a reporter), or loads a URL
// outside the app: 0 of those, 0 CSP violations, and no `on*` attribute,
// script URL, foreign script, frame or object in any rendered DOM.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, DEMO, launch } from './lib.mjs';
import {
  auditDom,
  fieldErrors,
  htmlParts,
  loadPayloads,
  outboxMessages,
  pack,
  postForm,
  postMultipart,
  signInContext,
  ticketNumberOf,
  watchedContext,
} from './security-lib.mjs';

const DATA_DIR = process.env.DATA_DIR;
const T = `/${DEMO.tenant}`;
const RUN = `xssrun${Date.now().toString(36)}`;
/** Keeps names that must be unique (categories) apart from an earlier run's. */
const SHORT = (Date.now() % 46_656).toString(36);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const payloads = loadPayloads();
const noNewline = (text) => !text.includes('\n');
/** All payloads as one Markdown document, each its own paragraph. */
const document = (list) => list.map((p) => p.text).join('\n\n');
const half = Math.ceil(payloads.length / 2);

/** Waits until `check()` is true (polling), or fails after `ms`. */
async function eventually(what, check, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** The option values (ids) of the select named `name` on the page at `pathname`. */
async function optionIds(context, pathname, name) {
  const html = await (await context.request.get(`${BASE_URL}${pathname}`)).text();
  const select = html.match(new RegExp(`<select [^>]*name="${name}"[^>]*>([\\s\\S]*?)</select>`))?.[1] ?? '';
  return [...select.matchAll(/<option value="([0-9a-f-]{36})"/g)].map((m) => m[1]);
}

/** The ids `before` did not have. */
const added = (after, before) => after.filter((id) => !before.includes(id));

async function accessLinkFor(address) {
  let link;
  await eventually(`the access link mailed to ${address}`, () => {
    for (const { raw } of outboxMessages(DATA_DIR)) {
      if (!raw.includes(address)) continue;
      const text = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      const match = text.match(/\/demo\/access\/([A-Za-z0-9_-]{43})/);
      if (match) link = `${BASE_URL}/demo/access/${match[1]}`;
    }
    return Boolean(link);
  });
  return link;
}

// The oracle itself: what runs is counted, what could run is found. A
// battery whose oracle saw nothing could not fail.
test('the execution oracle and the DOM audit catch a planted payload, CSP on or bypassed', async () => {
  const planted =
    '<p>ok</p><img src=x onerror=__xss(1)><script>alert(2)</script><a href="javascript:__xss(3)">x</a>' +
    '<svg><animate onbegin=__xss(4) attributeName=x dur=1s /></svg><img src="/__xss/5">';
  for (const bypassCSP of [false, true]) {
    const watch = await watchedContext(browser, { bypassCSP });
    const page = await watch.context.newPage();
    await page.route(`${BASE_URL}/__email/**`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: planted,
        headers: bypassCSP ? {} : { 'content-security-policy': "script-src 'self'" },
      }),
    );
    watch.view = 'planted';
    await page.goto(`${BASE_URL}/__email/planted`, { waitUntil: 'load' });
    await page.waitForTimeout(300);
    const findings = await auditDom(page);
    assert.ok(findings.some((f) => f.includes('handler onerror')), findings.join('\n'));
    assert.ok(findings.some((f) => f.includes('javascript:')), findings.join('\n'));
    assert.ok(findings.some((f) => f.startsWith('script')), findings.join('\n'));
    assert.ok(watch.hits.some((h) => h.startsWith('loaded') && h.includes('/__xss/5')), watch.hits.join('\n'));
    if (bypassCSP) {
      assert.ok(watch.hits.some((h) => h.startsWith('executed 1 ')), watch.hits.join('\n'));
      assert.ok(watch.hits.some((h) => h.startsWith('executed alert:2 ')), watch.hits.join('\n'));
    } else {
      assert.ok(watch.hits.some((h) => h.startsWith('CSP violation')), watch.hits.join('\n'));
      assert.ok(!watch.hits.some((h) => h.startsWith('executed')), watch.hits.join('\n'));
    }
    await watch.context.close();
  }
});

test(`${payloads.length} XSS payloads through every input run nowhere, CSP on or bypassed`, { timeout: 170_000 }, async () => {
  assert.ok(payloads.length >= 200, `${payloads.length} payloads`);
  const started = Date.now();
  // Mail written before this test (the demo's, other tests') is not ours.
  const mailBefore = new Set(DATA_DIR ? outboxMessages(DATA_DIR).map(({ name }) => name) : []);
  const setup = {};
  for (const role of ['admin', 'agent', 'customer']) {
    setup[role] = await browser.newContext();
    await signInContext(setup[role], `${role}@demo.test`);
  }
  const { admin, agent, customer } = setup;
  const inputs = {};
  const count = (input, n) => {
    inputs[input] = (inputs[input] ?? 0) + n;
  };

  // Admin: the helpdesk's name (on every page and mail), names of
  // categories, types, priorities and statuses, and user names (invited: the
  // invitation mails them).
  const form = `${T}/tickets/new`;
  const before = {
    category: await optionIds(agent, form, 'category'),
    type: await optionIds(agent, form, 'type'),
    priority: await optionIds(agent, form, 'priority'),
  };
  const settings = await admin.newPage();
  await settings.goto(`${BASE_URL}${T}/admin/general`);
  await settings.locator('#name').fill(pack(payloads.slice(60), 120, { fits: noNewline })[0]);
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await settings.waitForURL(/notice=saved/);
  await settings.close();
  count('helpdesk name', 1);
  for (const chunk of pack(payloads, 76, { fits: noNewline }).slice(0, 14)) {
    const name = `${SHORT} ${chunk}`;
    const response = await postForm(admin, `${T}/admin/categories`, [['parent', ''], ['name', name]]);
    assert.ok(response.status() < 400, `category ${name}: ${response.status()}`);
    count('category names', 1);
  }
  const short = pack(payloads.slice(100), 35, { fits: noNewline });
  for (const [i, chunk] of short.slice(0, 12).entries()) {
    const name = `${SHORT} ${chunk}`;
    const [pathname, fields] = [
      [`${T}/admin/types`, [['name', name]]],
      [`${T}/admin/priorities`, [['name', name], ['rank', String(20 + i)], ['color', '#2563eb']]],
      [`${T}/admin/statuses`, [['name', name], ['category', 'open'], ['color', '#2563eb']]],
    ][i % 3];
    const response = await postForm(admin, pathname, fields);
    assert.ok(response.status() < 400, `${pathname} ${name}: ${response.status()} ${await fieldErrors(response)}`);
    count('type, priority and status names', 1);
  }
  const categories = added(await optionIds(agent, form, 'category'), before.category);
  const types = added(await optionIds(agent, form, 'type'), before.type);
  const priorities = added(await optionIds(agent, form, 'priority'), before.priority);
  assert.ok(categories.length >= 10, `${categories.length} payload categories`);
  assert.ok(types.length >= 3 && priorities.length >= 3, `${types.length} types, ${priorities.length} priorities`);
  const view = await postForm(agent, `${T}/views`, [
    ['name', `${SHORT} ${pack(payloads.slice(150), 70, { fits: noNewline })[0]}`],
    ['query', 'queue=all'],
    ['shared', '1'],
  ]);
  assert.ok(view.status() < 400, `saved view: ${view.status()} ${await fieldErrors(view)}`);
  count('saved view name', 1);
  const people = [];
  for (const [i, name] of pack(payloads, 120, { fits: noNewline }).slice(0, 14).entries()) {
    const email = `${RUN}-${i}@example.test`;
    const response = await postForm(admin, `${T}/admin/users`, [
      ['email', email],
      ['name', name],
      ['role', 'customer'],
      ['password', ''],
      ['invite', '1'],
    ]);
    assert.ok(response.status() < 400, `user ${name}: ${response.status()} ${await response.text()}`);
    people.push(email);
    count('user names', 1);
  }

  // Agent: tickets whose subjects, descriptions, tags, categories and
  // requesters (payload-named people) carry every payload that fits.
  const subjects = pack(payloads, 200, { fits: noNewline });
  const tagged = payloads
    .map((p) => p.text.trim())
    .filter((text) => noNewline(text) && !text.includes(',') && text !== '' && [...text].length <= 40);
  const tags = [];
  for (let i = 0; i < tagged.length; i += 20) tags.push(tagged.slice(i, i + 20).join(','));
  const carriers = [];
  for (const [i, subject] of subjects.entries()) {
    const response = await postMultipart(agent, `${T}/tickets`, [
      ['subject', subject],
      ['description', subject.split(' ').join('\n\n')],
      ['requester', people[i % people.length]],
      ['category', categories[i % categories.length]],
      ['type', types[i % types.length]],
      ['priority', priorities[i % priorities.length]],
      ['tags', tags[i % tags.length] ?? ''],
    ]);
    carriers.push(await ticketNumberOf(response));
  }
  count('subjects', subjects.length);
  count('tags', tagged.length);

  // Two tickets of the customer carrying every payload in the description, an
  // agent's reply, an internal note and the customer's reply, with payload
  // file names on each.
  const fileNames = pack(payloads, 200, { fits: noNewline, separator: ' ' }).map((name) => `${name}.txt`);
  let fileIndex = 0;
  const files = () =>
    Array.from({ length: 10 }, () => ({ name: fileNames[fileIndex++ % fileNames.length], bytes: Buffer.from(`file ${fileIndex}\n`) }));
  const big = [];
  for (const [i, list] of [payloads.slice(0, half), payloads.slice(half)].entries()) {
    const create = await postMultipart(
      agent,
      `${T}/tickets`,
      [
        ['subject', `${RUN} big ${i} "><img src=x onerror=__xss(0)>`],
        ['description', document(list)],
        ['requester', 'customer@demo.test'],
        ['category', categories[i]],
        ['tags', tags[tags.length - 1 - i] ?? ''],
      ],
      files(),
    );
    const number = await ticketNumberOf(create);
    big.push(number);
    const replies = [
      [agent, [['body', document(payloads)], ['action', 'send']]],
      [agent, [['body', document(payloads)], ['internal', '1'], ['action', 'send']]],
      [customer, [['body', document(payloads)], ['action', 'send']]],
    ];
    for (const [context, fields] of replies) {
      const response = await postMultipart(context, `${T}/tickets/${number}/replies`, fields, files());
      assert.equal(response.status(), 303, `reply on ${number}: ${await response.text()}`);
    }
    count('descriptions (whole corpus)', 0.5);
    count('replies (whole corpus)', 1);
    count('internal notes (whole corpus)', 1);
    count('customer replies (whole corpus)', 1);
  }
  count('attachment file names', fileIndex);

  // A guest: name, subject and description through the public form, then a
  // reply of theirs and one of the agent's on the guest page.
  let guestLink;
  let guestNumber;
  if (DATA_DIR) {
    const guest = await browser.newContext();
    const address = `${RUN}-guest@example.test`;
    const response = await postMultipart(guest, `${T}/submit`, [
      ['email', address],
      ['name', pack(payloads.slice(20), 100, { fits: noNewline })[0]],
      ['subject', subjects[0]],
      ['description', document(payloads)],
      ['category', categories[0]],
      ['website', ''],
    ]);
    assert.ok(response.status() < 400, `guest submit: ${response.status()} ${await fieldErrors(response)}`);
    guestLink = await accessLinkFor(address);
    const opened = await guest.request.get(guestLink);
    assert.equal(opened.status(), 200);
    guestNumber = Number(opened.url().match(/\/access\/tickets\/(\d+)/)?.[1]);
    assert.ok(guestNumber, `the access link opened a ticket: ${opened.url()}`);
    const reply = await postMultipart(guest, `${T}/access/tickets/${guestNumber}/replies`, [['body', document(payloads)]]);
    assert.ok(reply.status() < 400, `guest reply: ${reply.status()}`);
    const staff = await postMultipart(agent, `${T}/tickets/${guestNumber}/replies`, [['body', document(payloads)], ['action', 'send']]);
    assert.equal(staff.status(), 303);
    setup.guest = guest;
    count('guest form (name, subject, description, reply)', 4);
  }
  const setupSeconds = (Date.now() - started) / 1000;

  // The views, by who sees them.
  const searches = pack(payloads, 300, { fits: noNewline }).slice(0, 4);
  const q = (text) => encodeURIComponent(text);
  const views = {
    agent: [
      `${T}/tickets?queue=all`,
      `${T}/views`,
      `${T}/tickets?queue=all&q=${q(RUN)}`,
      ...searches.map((s) => `${T}/tickets?queue=all&q=${q(s)}`),
      ...big.map((n) => `${T}/tickets/${n}`),
      ...carriers.slice(0, 3).map((n) => `${T}/tickets/${n}`),
      `${T}/tickets/${big[0]}/activity`,
      `${T}/tickets/${big[0]}/edit`,
      `${T}/tickets/${carriers[0]}/edit`,
      ...(guestNumber ? [`${T}/tickets/${guestNumber}`] : []),
    ],
    admin: [
      `${T}/admin`,
      `${T}/admin/general`,
      `${T}/admin/types`,
      `${T}/admin/priorities`,
      `${T}/admin/statuses`,
      `${T}/admin/users`,
      `${T}/admin/users?q=${q(searches[0])}`,
      `${T}/admin/categories`,
      `${T}/admin/tags`,
      `${T}/admin/tags?q=${q(searches[1])}`,
      `${T}/admin/audit`,
      `${T}/admin/outbox`,
      `${T}/admin/guests`,
    ],
    customer: [`${T}/tickets`, `${T}/tickets?q=${q(searches[2])}`, ...big.map((n) => `${T}/tickets/${n}`)],
    guest: guestNumber ? [`${T}/access/tickets/${guestNumber}`] : [],
    anonymous: [
      ...searches.slice(0, 2).map((s) => `${T}/tickets/${q(s)}`),
      `${T}/${q(searches[0])}`,
      `/${q(searches[1])}/login`,
      `${T}/login?next=${q(searches[2])}`,
      `${T}/login?next=${q('javascript:__xss(0)')}`,
      `${T}/submit?subject=${q(searches[3])}`,
    ],
  };
  count('search boxes (tickets, users, tags)', 5);
  count('error and sign-in paths', views.anonymous.length);

  const hits = [];
  const findings = [];
  let rendered = 0;
  let shown = 0;
  for (const bypassCSP of [false, true]) {
    for (const [role, paths] of Object.entries(views)) {
      if (paths.length === 0) continue;
      const storageState = setup[role] ? await setup[role].storageState() : undefined;
      const watch = await watchedContext(browser, { bypassCSP, storageState });
      const page = await watch.context.newPage();
      for (const pathname of paths) {
        watch.view = `${role} ${decodeURIComponent(pathname).slice(0, 120)}`;
        await page.goto(`${BASE_URL}${pathname}`, { waitUntil: 'load' });
        await page.waitForTimeout(30);
        for (const finding of await auditDom(page)) findings.push(`${watch.view} (${watch.mode}): ${finding}`);
        shown += (await page.content()).split('__xss(').length - 1;
        rendered += 1;
      }
      await page.close();
      hits.push(...watch.hits);
      await watch.context.close();
    }
  }

  const renderSeconds = (Date.now() - started) / 1000 - setupSeconds;

  // The email HTML: every message written since this test began, as a browser would show it,
  // a few messages to a page (one document after the other).
  let emails = 0;
  if (DATA_DIR) {
    const ours = () => outboxMessages(DATA_DIR).filter(({ name }) => !mailBefore.has(name));
    const expected = people.length + 1;
    await eventually(`${expected} mails of this run in the outbox`, () => ours().length >= expected);
    // The rest of the notifications, sent by the background worker.
    let last = { count: -1, at: Date.now() };
    await eventually('the outbox to settle', () => {
      const count = ours().length;
      if (count !== last.count) last = { count, at: Date.now() };
      return Date.now() - last.at >= 1500;
    });
    const watch = await watchedContext(browser, { bypassCSP: true });
    const page = await watch.context.newPage();
    let html = '';
    await page.route(`${BASE_URL}/__email/**`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
    const parts = ours().flatMap(({ name, raw }) => htmlParts(raw).map((part) => ({ name, part })));
    for (let i = 0; i < parts.length; i += 20) {
      const batch = parts.slice(i, i + 20);
      html = batch.map(({ part }) => part).join('\n');
      watch.view = `emails ${batch.map(({ name }) => name).join(', ')}`;
      await page.goto(`${BASE_URL}/__email/${i}`, { waitUntil: 'load' });
      await page.waitForTimeout(30);
      for (const finding of await auditDom(page)) findings.push(`${watch.view}: ${finding}`);
      shown += html.split('__xss(').length - 1;
      emails += batch.length;
    }
    hits.push(...watch.hits);
    await watch.context.close();
    assert.ok(emails >= expected, `${emails} email HTML parts rendered`);
  }
  for (const context of Object.values(setup)) await context.close();

  const seconds = (Date.now() - started) / 1000;
  console.log(
    `xss: ${payloads.length} payloads; inputs ${JSON.stringify(inputs)}; ` +
      `${rendered} page renders (CSP on and bypassed) + ${emails} email HTML parts; ` +
      `${shown} payload calls shown as inert text or attributes; ` +
      `${hits.length} executions, ${findings.length} DOM findings; ` +
      `setup ${setupSeconds.toFixed(1)} s, pages ${renderSeconds.toFixed(1)} s, total ${seconds.toFixed(1)} s`,
  );
  assert.deepEqual(hits, [], `payloads executed:\n${hits.slice(0, 40).join('\n')}`);
  assert.deepEqual(findings, [], `script-capable markup in the DOM:\n${findings.slice(0, 40).join('\n')}`);
  // Not vacuous: the payloads were there to run, as text.
  assert.ok(shown >= payloads.length * 4, `${shown} payload calls shown`);
});

// Hostile attachments opened in the browser (top-level, inline or embedded
// in a page of our origin that allows our own scripts, the FreeScout CSP
// bypass): served as downloads with nosniff and a sandbox, none of them runs.
test('hostile attachments run nothing when opened or embedded', async () => {
  const agent = await browser.newContext();
  await signInContext(agent, 'agent@demo.test');
  const files = [
    ['page.html', '<html><script>__xss(901)</script><img src=x onerror=__xss(902)></html>'],
    ['drawing.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="__xss(903)"><script>__xss(904)</script></svg>'],
    ['page.xhtml', '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><script>__xss(905)</script></html>'],
    ['steal.js', '__xss(906); alert(906);'],
    ['gifjs.gif', 'GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;__xss(907);//'],
    ['pdfhtml.pdf', '%PDF-1.4\n<html><script>__xss(908)</script></html>\n%%EOF\n'],
    ['style.css', 'body{background:url(/__xss/909)}'],
    ['html-as.txt', '<html><script>__xss(910)</script></html>'],
    ['html-as.png', '<html><body onload="__xss(911)"></body></html>'],
  ];
  const response = await postMultipart(
    agent,
    `${T}/tickets`,
    [['subject', `${RUN} hostile files`], ['description', 'files'], ['requester', 'customer@demo.test']],
    files.map(([name, text]) => ({ name, bytes: Buffer.from(text, 'latin1') })),
  );
  const number = await ticketNumberOf(response);
  const html = await (await agent.request.get(`${BASE_URL}${T}/tickets/${number}`)).text();
  const link = {};
  for (const match of html.matchAll(/href="([^"]+\/attachments\/[0-9a-f-]{36})" download>([^<]+)</g)) link[match[2]] = match[1];
  assert.equal(Object.keys(link).length, files.length, JSON.stringify(link));

  const embed = `<!doctype html><title>embed</title>
    <script src="${link['steal.js']}"></script><script src="${link['gifjs.gif']}"></script>
    <script src="${link['page.html']}"></script>
    <link rel="stylesheet" href="${link['style.css']}">
    <iframe src="${link['page.html']}"></iframe><iframe src="${link['drawing.svg']}?inline=1"></iframe>
    <object data="${link['drawing.svg']}"></object><embed src="${link['page.xhtml']}">
    <img src="${link['drawing.svg']}?inline=1"><img src="${link['gifjs.gif']}?inline=1">`;
  const storageState = await agent.storageState();
  let opened = 0;
  const hits = [];
  for (const bypassCSP of [false, true]) {
    const watch = await watchedContext(browser, { bypassCSP, storageState });
    const page = await watch.context.newPage();
    for (const [name] of files) {
      for (const suffix of ['', '?inline=1']) {
        watch.view = `${name}${suffix} opened`;
        const download = page.waitForEvent('download', { timeout: 5_000 }).catch(() => null);
        const navigation = await page.goto(`${BASE_URL}${link[name]}${suffix}`).catch((error) => error);
        const downloaded = await download;
        await downloaded?.cancel();
        const rendered = navigation && !(navigation instanceof Error);
        // Only a raster image may show in the tab; everything else downloads.
        if (rendered) {
          assert.match(navigation.headers()['content-type'], /^image\/(png|jpeg|gif|webp)$/, `${name}${suffix}`);
        } else {
          assert.ok(downloaded, `${name}${suffix} neither downloaded nor shown: ${navigation?.message}`);
        }
        opened += 1;
      }
    }
    watch.view = 'attachments embedded in a page of our origin';
    await page.route(`${BASE_URL}/__email/**`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: embed,
        headers: bypassCSP ? {} : { 'content-security-policy': "script-src 'self'; style-src 'self'" },
      }),
    );
    await page.goto(`${BASE_URL}/__email/embed`, { waitUntil: 'load' });
    await page.waitForTimeout(500);
    hits.push(...watch.hits.filter((hit) => !hit.startsWith('CSP violation')));
    await watch.context.close();
  }
  await agent.close();
  console.log(`hostile attachments: ${files.length} files, ${opened} opened top-level, embedded 10 ways; ${hits.length} executions`);
  assert.deepEqual(hits, [], hits.join('\n'));
});
