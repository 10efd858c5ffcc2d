import { createHash } from 'node:crypto';

/**
 * The embeddable web chat widget: `<script src="https://parley.example/webchat/widget.js"
 * data-app="<widget app id>" async></script>`. Plain JavaScript with no build step, so any page
 * can include it (`data-email` names the visitor when the site knows them). It reads its colour,
 * greeting and pre-chat form from `/webchat/<app>/config` when it loads (so one tag never changes),
 * keeps the visitor's token in localStorage, renews it on load (a secret rotation re-signs it),
 * posts messages and polls for replies.
 */
export const WIDGET_SCRIPT = String.raw`(() => {
  const script = document.currentScript;
  const app = script && script.dataset.app;
  if (!app) return console.error('parley widget: data-app is missing');
  const base = new URL(script.src).origin + '/webchat/' + encodeURIComponent(app);
  const store = 'parley-webchat-' + app;
  let token = localStorage.getItem(store) || '';
  let visitor = JSON.parse(localStorage.getItem(store + '-visitor') || '{}');
  let after = 0;
  const start = (config) => {
  const colour = /^#[0-9a-f]{6}$/i.test(config.colour || '') ? config.colour : '#2d5bff';
  const asks = config.preChat || {};
  const root = document.createElement('div');
  root.className = 'parley-widget';
  root.style.cssText = 'position:fixed;right:16px;bottom:16px;width:min(320px,calc(100vw - 32px));font:14px system-ui;z-index:2147483647';
  // No style attributes in markup: a page's Content-Security-Policy without 'unsafe-inline' (Parley's
  // own widget page, and many customers' sites) blocks those, but not styles set through the CSSOM.
  root.innerHTML = '<button part="toggle">Chat with us</button>' +
    '<div part="panel" hidden><ol part="log" aria-live="polite"></ol>' +
    '<form part="prechat" hidden><p part="ask">Before we start:</p>' +
    '<input part="name" name="name" autocomplete="name" aria-label="Your name" placeholder="Your name">' +
    '<input part="email" name="email" type="email" autocomplete="email" aria-label="Your e-mail" placeholder="Your e-mail">' +
    '<button part="begin">Start chat</button></form>' +
    '<form part="form"><input part="input" aria-label="Message" placeholder="Write a message"><button part="send">Send</button></form></div>';
  const styles = {
    '[part=toggle]': 'float:right;padding:10px 14px;border-radius:20px;border:0;color:#fff;background:' + colour,
    '[part=panel]': 'clear:both;background:#fff;color:#111;border:1px solid #ccd;border-radius:8px;margin-top:8px',
    '[part=log]': 'list-style:none;margin:0;padding:8px;height:260px;overflow:auto',
    '[part=prechat]': 'display:grid;gap:6px;padding:8px;border-top:1px solid #ccd',
    '[part=ask]': 'margin:0',
    '[part=name]': 'padding:8px;border:1px solid #ccd;border-radius:4px',
    '[part=email]': 'padding:8px;border:1px solid #ccd;border-radius:4px',
    '[part=begin]': 'padding:8px;border:0;border-radius:4px;color:#fff;background:' + colour,
    '[part=form]': 'display:flex;border-top:1px solid #ccd',
    '[part=input]': 'flex:1;border:0;padding:8px;min-width:0',
    '[part=send]': 'border:0;background:none;padding:8px',
  };
  for (const [selector, css] of Object.entries(styles)) root.querySelector(selector).style.cssText = css;
  document.body.appendChild(root);
  const [toggle, panel] = root.children;
  const log = root.querySelector('ol');
  const prechat = root.querySelector('[part=prechat]');
  const form = root.querySelector('[part=form]');
  const input = root.querySelector('[part=input]');
  const nameInput = root.querySelector('[part=name]');
  const emailInput = root.querySelector('[part=email]');
  nameInput.hidden = !asks.name; nameInput.required = !!asks.name;
  emailInput.hidden = !asks.email; emailInput.required = !!asks.email;
  const needsForm = () => (asks.name && !visitor.name) || (asks.email && !visitor.email);
  const showForms = () => { prechat.hidden = !needsForm(); form.hidden = needsForm(); };
  showForms();
  toggle.onclick = () => { panel.hidden = !panel.hidden; if (!panel.hidden) (needsForm() ? (asks.name ? nameInput : emailInput) : input).focus(); };
  const show = (who, text) => {
    const li = document.createElement('li');
    li.textContent = text;
    li.dataset.from = who;
    li.style.cssText = 'margin:4px 0;padding:6px 8px;border-radius:6px;max-width:80%;' +
      (who === 'me' ? 'margin-left:auto;color:#fff;background:' + colour : 'background:#eef');
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  };
  if (config.greeting) show('them', config.greeting);
  prechat.onsubmit = (event) => {
    event.preventDefault();
    visitor = { name: nameInput.value.trim() || undefined, email: emailInput.value.trim() || undefined };
    localStorage.setItem(store + '-visitor', JSON.stringify(visitor));
    showForms();
    input.focus();
  };
  const call = (path, init = {}) => fetch(base + path, { ...init, headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token } });
  const session = async () => {
    const res = await fetch(base + '/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    if (!res.ok) throw Object.assign(new Error('session ' + res.status), { res });
    token = (await res.json()).token;
    localStorage.setItem(store, token);
  };
  const refused = async (res) => {
    const body = await res.json().catch(() => ({}));
    return res.status === 403 ? (body.message || 'this site may not use this chat') : 'not sent: ' + res.status;
  };
  form.onsubmit = async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    show('me', text);
    // The page the visitor writes from (no query: it may hold tokens), and who they said they are.
    const page = location.origin + location.pathname;
    const body = JSON.stringify({ type: 'message', id: crypto.randomUUID(), text, page, name: visitor.name, email: visitor.email || script.dataset.email || undefined });
    let res = await call('/events', { method: 'POST', body });
    if (res.status === 401) { await session().catch(() => undefined); res = await call('/events', { method: 'POST', body }); }
    if (!res.ok) show('them', '(' + (await refused(res)) + ')');
  };
  const poll = async () => {
    try {
      const res = await call('/messages?after=' + after);
      if (res.status === 401) await session();
      else if (res.status === 403) return show('them', '(' + (await refused(res)) + ')');
      else if (res.ok) {
        const { messages } = await res.json();
        for (const m of messages) {
          after = Math.max(after, m.seq);
          show('them', m.content.type === 'text' ? m.content.text : m.content.type === 'media' ? (m.content.caption || m.content.media.url) : '[' + m.content.type + ']');
        }
        if (messages.length) call('/events', { method: 'POST', body: JSON.stringify({ type: 'receipt', status: panel.hidden ? 'delivered' : 'read', messageIds: messages.map((m) => m.messageId) }) });
      }
    } catch (error) { console.warn('parley widget', error); }
    setTimeout(poll, 3000);
  };
  session().then(poll, async (error) => {
    if (error.res && error.res.status === 403) show('them', '(' + (await refused(error.res)) + ')');
    else console.error('parley widget', error);
  });
  };
  fetch(base + '/config').then((res) => (res.ok ? res.json() : {}), () => ({})).then(start);
})();
`;

/** The widget page's own style, allowed by its hash (no 'unsafe-inline'). */
const PAGE_STYLE = 'body{font:16px system-ui;margin:2rem}';

/**
 * The widget page's Content-Security-Policy (0018). Unlike the PWA's it may be framed by any site:
 * a customer may show the chat in an iframe; the page holds no agent's session, only the visitor's.
 */
export const WIDGET_PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src 'sha256-${createHash('sha256').update(PAGE_STYLE).digest('base64')}'`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  'frame-ancestors *',
].join('; ');

/** A page for customers: the widget on its own, at `/webchat/<app id>`. */
export function widgetPage(appId: string): string {
  const app = appId.replace(/[^A-Za-z0-9_-]/g, '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Chat with us</title><style>${PAGE_STYLE}</style></head>
<body>
<h1>Questions? Write to us.</h1><p>Open the chat in the corner; an agent answers here.</p>
<script src="/webchat/widget.js" data-app="${app}" async></script>
</body></html>`;
}

/**
 * The admin's preview (`/webchat/<app>/preview`): the widget as a site embeds it, with the
 * settings saved now. Served by Parley, so its own origin is always allowed (CS5).
 */
export function previewPage(appId: string): string {
  const app = appId.replace(/[^A-Za-z0-9_-]/g, '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Widget preview</title><style>${PAGE_STYLE}</style></head>
<body>
<h1>Widget preview</h1><p>This page embeds your web chat widget with its current settings, as your site will. Messages written here reach your inbox.</p>
<script src="/webchat/widget.js" data-app="${app}" async></script>
</body></html>`;
}
