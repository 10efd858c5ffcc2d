import { DEFAULT_NOTIFICATION_PREFERENCES, type NotificationPreferences } from '@parley/domain';
import type { Notice } from './presence';

/** The tab title and the installed app's badge show the number of conversations with unread (CV18). */
export function showUnreadTotal(total: number): void {
  document.title = total > 0 ? `(${total}) Parley` : 'Parley';
  // The Badging API: installed apps on Chromium and Safari; elsewhere there is none, and nothing happens.
  const badge = navigator as Navigator & {
    setAppBadge?: (count?: number) => Promise<void>;
    clearAppBadge?: () => Promise<void>;
  };
  if (total > 0) void badge.setAppBadge?.(total).catch(() => undefined);
  else void badge.clearAppBadge?.().catch(() => undefined);
}

const prefsKey = (scope: string) => `parley.notify:${scope}`;

/** The agent's notification choices as this device last heard them (so sound works offline too). */
export function storedPreferences(scope: string): NotificationPreferences {
  try {
    const raw = localStorage.getItem(prefsKey(scope));
    return raw
      ? { ...DEFAULT_NOTIFICATION_PREFERENCES, ...(JSON.parse(raw) as object) }
      : DEFAULT_NOTIFICATION_PREFERENCES;
  } catch {
    return DEFAULT_NOTIFICATION_PREFERENCES;
  }
}

export function storePreferences(scope: string, preferences: NotificationPreferences): void {
  localStorage.setItem(prefsKey(scope), JSON.stringify(preferences));
}

let audio: AudioContext | undefined;

/** A short two-note chime, made on the spot (no file to cache or fetch). */
export function playChime(): void {
  try {
    audio ??= new AudioContext();
    const at = audio.currentTime;
    for (const [index, frequency] of [880, 1320].entries()) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at + index * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.15, at + index * 0.12 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + index * 0.12 + 0.25);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(at + index * 0.12);
      oscillator.stop(at + index * 0.12 + 0.3);
    }
  } catch {
    // No audio (autoplay policy before any tap, or none at all): the notice still shows.
  }
}

/** Whether this browser can receive Web Push at all. */
export function pushSupported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** This device's push subscription, if it has one. */
export async function currentPushSubscription(): Promise<PushSubscription | null> {
  if (!pushSupported()) return null;
  const registration = await navigator.serviceWorker.getRegistration();
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/**
 * An in-app notice: a chime (if the agent keeps sound on) and, while the page is hidden, a desktop
 * notification, unless this device has a push subscription (then the service worker shows it).
 */
export async function announce(notice: Notice, preferences: NotificationPreferences): Promise<void> {
  if (preferences.sound) playChime();
  if (document.visibilityState !== 'hidden' || !('Notification' in window)) return;
  if (Notification.permission !== 'granted' || (await currentPushSubscription())) return;
  const options = {
    body: notice.body,
    tag: `conversation:${notice.conversationId}`,
    data: { url: `/c/${encodeURIComponent(notice.conversationId)}` },
    icon: '/icons/icon-192.png',
  };
  const registration = await navigator.serviceWorker?.getRegistration();
  if (registration) await registration.showNotification(notice.title, options);
  else new Notification(notice.title, options);
}
