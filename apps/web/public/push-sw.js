/* Parley's Web Push handlers, loaded into the Workbox service worker by `importScripts`
 * (astro.config.mjs; docs/decisions/0026-presence-and-push.md). Plain script: no bundling here. */
/* global self */

/** What the server sends (server/src/notifications/sender.ts, PushMessage), checked before use. */
function readPush(event) {
  let message = null;
  try {
    message = event.data ? event.data.json() : null;
  } catch {
    message = null;
  }
  if (!message || typeof message.title !== 'string')
    return { title: 'Parley', body: 'Something new in your inbox', url: '/' };
  return {
    title: message.title,
    body: typeof message.body === 'string' ? message.body : '',
    url: safePath(message.url),
    tag: typeof message.tag === 'string' ? message.tag : undefined,
  };
}

/** Only a path of this app: a message can never send the agent elsewhere. */
function safePath(url) {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') ? url : '/';
}

async function windows() {
  return self.clients.matchAll({ type: 'window', includeUncontrolled: true });
}

self.addEventListener('push', (event) => {
  const message = readPush(event);
  event.waitUntil(
    (async () => {
      // An app the agent is looking at has told them already (an in-app notice and its sound).
      if ((await windows()).some((client) => client.visibilityState === 'visible' && client.focused)) return;
      await self.registration.showNotification(message.title, {
        body: message.body,
        tag: message.tag,
        renotify: Boolean(message.tag),
        icon: '/icons/icon-192.png',
        data: { url: message.url },
      });
    })(),
  );
});

/** Tapping a notification opens its conversation: in an open Parley window if there is one. */
async function openConversation(url) {
  const path = safePath(url);
  for (const client of await windows()) {
    if (new URL(client.url).origin !== self.location.origin) continue;
    // The app routes itself (no reload, the draft and the outbox stay); focus may be refused.
    client.postMessage({ type: 'parley:open', url: path });
    await client.focus().catch(() => undefined);
    return;
  }
  await self.clients.openWindow(path);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const opening = openConversation(event.notification.data && event.notification.data.url);
  event.waitUntil(opening);
});
