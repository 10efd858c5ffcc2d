import { attachmentHash, type MediaRef } from '@parley/domain';
import { useEffect, useState } from 'react';
import { fileUrl, localFile } from '../lib/attachments';
import type { ParleyDb } from '../lib/db/schema';
import '../styles/media.css';

const KIND_NAME: Readonly<Record<MediaRef['kind'], string>> = {
  image: 'Image',
  video: 'Video',
  audio: 'Voice or audio message',
  document: 'Document',
  sticker: 'Sticker',
};

const PLATFORM_OF_SCHEME: Readonly<Record<string, string>> = {
  'whatsapp-media': 'WhatsApp',
  'telegram-file': 'Telegram',
};

/** Bytes for people: `812 B`, `4.2 KB`, `12 MB` (decimal, as the platforms count). */
export function formatBytes(size: number): string {
  if (size < 1000) return `${size} B`;
  if (size < 1_000_000) return `${(size / 1000).toFixed(size < 10_000 ? 1 : 0)} KB`;
  return `${(size / 1_000_000).toFixed(size < 10_000_000 ? 1 : 0)} MB`;
}

/** The URL to show a stored file from: this device's copy while it waits to be uploaded, else the server's. */
function useFileSource(db: ParleyDb, hash: string | null): string | null {
  const [source, setSource] = useState<string | null>(hash ? fileUrl(hash) : null);
  useEffect(() => {
    if (!hash) return;
    let objectUrl: string | null = null;
    let live = true;
    void localFile(db, hash).then((file) => {
      if (!live) return;
      if (file) {
        objectUrl = URL.createObjectURL(file.blob);
        setSource(objectUrl);
      } else setSource(fileUrl(hash));
    });
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [db, hash]);
  return source;
}

/**
 * A message's file in the timeline: an image, a video or audio player inline, a document as a
 * download. A customer's file the platform only referenced (a WhatsApp media id, a Telegram file
 * id, a link elsewhere) shows as a placeholder saying where it is.
 */
export function MessageMedia({ db, media, from }: { db: ParleyDb; media: MediaRef; from: string }) {
  const hash = attachmentHash(media.url);
  const source = useFileSource(db, hash);
  const name = KIND_NAME[media.kind];
  const size = media.size > 0 ? formatBytes(media.size) : null;
  if (!hash || !source) {
    const scheme = media.url.split(':')[0] ?? '';
    const platform = PLATFORM_OF_SCHEME[scheme];
    const external = /^https:\/\//.test(media.url);
    return (
      <div className="media media-placeholder" role="group" aria-label={`${name} from ${from}`}>
        <span className="media-icon" aria-hidden="true">
          {media.kind === 'image'
            ? '🖼️'
            : media.kind === 'video'
              ? '🎬'
              : media.kind === 'audio'
                ? '🎤'
                : '📄'}
        </span>
        <span>
          {name}
          {platform ? ` on ${platform}: not downloaded to Parley` : ''}
          {size ? <span className="muted"> · {size}</span> : null}
        </span>
        {external ? (
          <a href={media.url} target="_blank" rel="noopener noreferrer">
            Open<span className="visually-hidden"> the {name.toLowerCase()}</span>
          </a>
        ) : null}
      </div>
    );
  }
  const download = (
    <a className="media-download" href={source} download>
      Download<span className="visually-hidden"> the {name.toLowerCase()}</span>
      {size ? <span className="muted"> ({size})</span> : null}
    </a>
  );
  switch (media.kind) {
    case 'image':
    case 'sticker':
      return (
        <figure className="media media-image">
          <a href={source} target="_blank" rel="noopener">
            <img src={source} alt={`${name} from ${from}`} loading="lazy" />
          </a>
          {download}
        </figure>
      );
    case 'video':
      return (
        <figure className="media media-video">
          <video src={source} controls preload="metadata" aria-label={`${name} from ${from}`} />
          {download}
        </figure>
      );
    case 'audio':
      return (
        <figure className="media media-audio">
          <audio src={source} controls preload="metadata" aria-label={`${name} from ${from}`} />
          {download}
        </figure>
      );
    case 'document':
      return (
        <a className="media media-document" href={source} download>
          <span className="media-icon" aria-hidden="true">
            📄
          </span>
          <span>
            {name} from {from}
            <span className="muted">
              {' '}
              · {media.mime}
              {size ? `, ${size}` : ''}
            </span>
          </span>
        </a>
      );
    default:
      return media.kind satisfies never;
  }
}
