// Helpers of the security tests (xss.test.mjs): the payload corpus, forms
// posted through a browser context's own cookies, the execution oracle, the
// DOM audit and the demo's outbox (.eml files).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_URL, DEMO } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * The payloads of fixtures/xss-payloads.txt: `{ id, text }`, `XSSID` replaced
 * by the id and `⏎` by a newline; `;;` lines are comments.
 */
export function loadPayloads() {
  const lines = readFileSync(path.join(HERE, 'fixtures', 'xss-payloads.txt'), 'utf8').split('\n');
  const payloads = [];
  for (const line of lines) {
    if (line === '' || line.startsWith(';;')) continue;
    const id = payloads.length + 1;
    payloads.push({ id, text: line.replaceAll('XSSID', String(id)).replaceAll('⏎', '\n') });
  }
  return payloads;
}

/**
 * Packs payload texts into strings of at most `max` characters joined by
 * `separator`, skipping payloads that `fits` refuses or that alone are too long.
 */
export function pack(payloads, max, { separator = ' ', fits = () => true } = {}) {
  const chunks = [];
  let current = '';
  for (const { text } of payloads) {
    if (!fits(text) || [...text].length > max) continue;
    const next = current === '' ? text : `${current}${separator}${text}`;
    if ([...next].length > max) {
      chunks.push(current);
      current = text;
    } else {
      current = next;
    }
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

/** The CSRF token of the forms `context` is shown (one per browser). */
export async function csrfToken(context) {
  const response = await context.request.get(`${BASE_URL}/${DEMO.tenant}/login`);
  const match = (await response.text()).match(/name="csrf_token" value="([^"]+)"/);
  assert.ok(match, 'the sign-in page has a CSRF token');
  return match[1];
}

/** Posts `fields` ([name, value] pairs, in order) as a form; no redirects followed. */
export async function postForm(context, pathname, fields) {
  const token = await csrfToken(context);
  const body = new URLSearchParams([['csrf_token', token], ...fields]).toString();
  return context.request.post(`${BASE_URL}${pathname}`, {
    data: body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    maxRedirects: 0,
  });
}

/** Posts `fields` and `files` ({ name, bytes }) as multipart, the token first. */
export async function postMultipart(context, pathname, fields, files = []) {
  const token = await csrfToken(context);
  const form = new FormData();
  form.append('csrf_token', token);
  for (const [name, value] of fields) form.append(name, value);
  for (const file of files) {
    form.append('attachments', new Blob([file.bytes], { type: 'application/octet-stream' }), file.name);
  }
  return context.request.post(`${BASE_URL}${pathname}`, { multipart: form, maxRedirects: 0 });
}

/** Signs `context` in through the form; fails unless it lands on the home page. */
export async function signInContext(context, email, password = DEMO.password) {
  const response = await postForm(context, `/${DEMO.tenant}/login`, [
    ['email', email],
    ['password', password],
  ]);
  assert.equal(response.status(), 303, `signing in ${email}`);
}

/** The field errors a refused form shows, for failure messages. */
export async function fieldErrors(response) {
  const html = await response.text();
  return [...html.matchAll(/class="field-error"[^>]*>([^<]*)</g)].map((m) => m[1]).join('; ') || html.slice(0, 300);
}

/** The ticket number a create form redirected to. */
export async function ticketNumberOf(response) {
  const location = response.headers().location ?? '';
  const match = location.match(/\/tickets\/(\d+)/);
  if (!match) assert.fail(`a redirect to the new ticket, got ${response.status()}: ${await fieldErrors(response)}`);
  return Number(match[1]);
}

// ---- the execution oracle ----

/**
 * Replaces the dialogs with reporters before any page script runs, in every
 * frame: a payload that calls alert(), confirm(), prompt() or print() is
 * counted even where the page's binding is missing.
 */
function hookScript() {
  const report = (how, argument) => {
    try {
      window.__xss(`${how}:${String(argument)}`);
    } catch {
      // An opaque frame: page.on('dialog') still sees real dialogs.
    }
  };
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    try {
      Object.defineProperty(window, name, { value: (argument) => report(name, argument), configurable: false });
    } catch {
      // Already replaced in this realm.
    }
  }
}

/**
 * A browser context watched for executions: the `__xss` binding, dialogs,
 * loads of `/__xss/…` or of any other origin, and CSP violations (markup that
 * only the policy stopped). `hits` collects them, each tagged with the view
 * being rendered (`watch.view`).
 */
export async function watchedContext(browser, { bypassCSP, storageState } = {}) {
  const context = await browser.newContext({
    bypassCSP,
    storageState,
    viewport: { width: 1280, height: 900 },
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const watch = { context, hits: [], view: '', mode: bypassCSP ? 'CSP bypassed' : 'CSP on' };
  const hit = (kind, detail) => watch.hits.push(`${kind} ${detail} in ${watch.view} (${watch.mode})`);
  const origin = new URL(BASE_URL).origin;
  await context.exposeBinding('__xss', ({ frame }, argument) => hit('executed', `${argument} [frame ${frame.url()}]`));
  await context.exposeBinding('__xssCsp', (_source, text) => hit('CSP violation', text));
  await context.addInitScript(hookScript);
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__xssCsp?.(`${event.effectiveDirective} blocked ${event.blockedURI || '(inline)'} sample ${event.sample}`);
    });
  });
  await context.route(
    (url) => url.origin !== origin || url.pathname.startsWith('/__xss/'),
    (route) => {
      const url = route.request().url();
      hit('loaded', url);
      return route.fulfill({ status: 204, body: '' });
    },
  );
  context.on('page', (page) => {
    page.on('dialog', (dialog) => {
      hit('dialog', `${dialog.type()}:${dialog.message()}`);
      dialog.dismiss().catch(() => {});
    });
    page.on('popup', (popup) => hit('popup', popup.url()));
  });
  return watch;
}

/**
 * Everything in the page's DOM (every frame) that could run script: `on*`
 * attributes, script URLs in any URL-bearing attribute, scripts that are not
 * our own static files, frames, objects, `<base>`, meta refresh, and SVG/SMIL
 * animations that could set a URL. Returns the findings as strings.
 */
export async function auditDom(page) {
  const findings = [];
  for (const frame of page.frames()) {
    const found = await frame
      .evaluate(() => {
        const out = [];
        const urlAttributes = new Set([
          'href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'background', 'poster',
          'lowsrc', 'dynsrc', 'codebase', 'cite', 'srcset', 'ping', 'manifest', 'icon', 'values',
          'to', 'from', 'by', 'content',
        ]);
        const scriptUrl = /^(javascript|vbscript|data|livescript|mocha):/;
        const describe = (el) => `<${el.tagName.toLowerCase()}> ${el.outerHTML.slice(0, 160)}`;
        for (const el of document.querySelectorAll('*')) {
          const tag = el.tagName.toLowerCase();
          for (const attribute of el.attributes) {
            const name = attribute.name.toLowerCase();
            if (name.startsWith('on') || name.startsWith('hx-on') || name.startsWith('data-hx-on')) {
              out.push(`handler ${name} on ${describe(el)}`);
            }
            if (name === 'srcdoc') out.push(`srcdoc on ${describe(el)}`);
            if (urlAttributes.has(name)) {
              const squeezed = attribute.value.replace(/[\u0000-\u0020\u007f-\u00a0]/g, '').toLowerCase();
              const ourImage = tag === 'img' && name === 'src' && squeezed.startsWith('data:image/');
              if (scriptUrl.test(squeezed) && !ourImage) out.push(`${name}=${attribute.value} on ${describe(el)}`);
              if (name === 'content' && /url\s*=\s*(javascript|data|vbscript)/i.test(attribute.value)) {
                out.push(`meta refresh ${describe(el)}`);
              }
            }
            if (name === 'style' && /(expression\s*\(|javascript:|url\s*\()/i.test(attribute.value)) {
              out.push(`style ${describe(el)}`);
            }
          }
          if (tag === 'script') {
            const src = el.getAttribute('src');
            const url = src && new URL(src, location.href);
            const ours = url && url.origin === location.origin && url.pathname.startsWith('/static/');
            if (!ours) out.push(`script ${describe(el)}`);
          }
          if (['iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'portal', 'xss', 'set', 'animate', 'handler', 'listener'].includes(tag)) {
            out.push(`element ${describe(el)}`);
          }
          if (tag === 'meta' && /refresh/i.test(el.getAttribute('http-equiv') ?? '')) out.push(`meta refresh ${describe(el)}`);
          if (tag === 'form') {
            const action = el.getAttribute('action');
            if (action && new URL(action, location.href).origin !== location.origin) out.push(`foreign form ${describe(el)}`);
          }
          if (tag === 'a' && el.hasAttribute('href')) {
            const href = new URL(el.getAttribute('href'), location.href);
            if (!['http:', 'https:', 'mailto:'].includes(href.protocol)) out.push(`link ${href.protocol} ${describe(el)}`);
          }
        }
        return out;
      })
      .catch((error) => [`could not audit frame ${frame.url()}: ${error.message}`]);
    findings.push(...found);
  }
  return findings;
}

// ---- the demo's outbox ----

/** Decodes a MIME body by its transfer encoding. */
function decodeBody(body, encoding) {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable': {
      const bytes = [];
      const text = body.replace(/=\r?\n/g, '');
      for (let i = 0; i < text.length; i += 1) {
        if (text[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
          bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
          i += 2;
        } else {
          bytes.push(...Buffer.from(text[i], 'utf8'));
        }
      }
      return Buffer.from(bytes).toString('utf8');
    }
    default:
      return body;
  }
}

function parseHeaders(block) {
  const headers = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The `text/html` parts of a MIME message (multipart nested or not). */
export function htmlParts(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  if (split < 0) return [];
  const headers = parseHeaders(raw.slice(0, split));
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = type.match(/boundary="?([^";]+)"?/i)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    return body
      .split(`--${boundary}`)
      .slice(1)
      .filter((part) => !part.startsWith('--'))
      .flatMap((part) => htmlParts(part.replace(/^\r?\n/, '')));
  }
  if (/^text\/html/i.test(type)) return [decodeBody(body, headers['content-transfer-encoding'])];
  return [];
}

/** Every .eml file the demo wrote under `dataDir`/outbox: `{ name, raw }`. */
export function outboxMessages(dataDir) {
  const dir = path.join(dataDir, 'outbox');
  let names = [];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.eml'));
  } catch {
    return [];
  }
  return names.map((name) => ({ name, raw: readFileSync(path.join(dir, name), 'utf8') }));
}
