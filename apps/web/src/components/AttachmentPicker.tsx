import { useEffect, useId, useState } from 'react';
import type { LocalFile } from '../lib/attachments';
import { LineIcon } from './LineIcon';
import { formatBytes } from './MessageMedia';

/**
 * The composer's file buttons: any file, and on a phone the camera (`capture`). The chosen file is
 * read by the caller; this shows it (a thumbnail for an image) with a way to remove it.
 */
export function AttachmentPicker({
  accept,
  disabled,
  onPick,
}: {
  /** The MIME types the platform takes (its media rule). */
  accept: string;
  disabled: boolean;
  onPick: (file: File) => void;
}) {
  const id = useId();
  const pick = (event: React.ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = ''; // the same file may be chosen again after removing it
    if (file) onPick(file);
  };
  return (
    <span className="attach-buttons">
      <input
        id={`${id}-file`}
        className="visually-hidden"
        type="file"
        aria-label="Attach a file"
        accept={accept}
        disabled={disabled}
        onChange={pick}
      />
      <label htmlFor={`${id}-file`} className={`button ghost tool${disabled ? ' disabled' : ''}`}>
        <LineIcon name="attach" className="tool-icon" />
        <span className="tool-text">Attach</span>
      </label>
      <input
        id={`${id}-camera`}
        className="visually-hidden camera"
        type="file"
        aria-label="Take a photo"
        accept="image/*"
        capture="environment"
        disabled={disabled}
        onChange={pick}
      />
      <label htmlFor={`${id}-camera`} className={`button ghost tool camera${disabled ? ' disabled' : ''}`}>
        <LineIcon name="camera" className="tool-icon" />
        <span className="tool-text">Camera</span>
      </label>
    </span>
  );
}

/** The attached file waiting in the composer, with its thumbnail and a remove button. */
export function AttachedFile({ file, onRemove }: { file: LocalFile; onRemove: () => void }) {
  const [preview, setPreview] = useState<string | null>(null);
  useEffect(() => {
    if (!file.mime.startsWith('image/')) return;
    const url = URL.createObjectURL(file.blob);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);
  return (
    <div className="attached-file" role="group" aria-label="Attached file">
      {preview ? (
        <img src={preview} alt="" />
      ) : (
        <span className="file-icon" aria-hidden="true">
          📄
        </span>
      )}
      <span className="attached-name" dir="auto">
        {file.name}
        <span className="muted"> · {formatBytes(file.size)}</span>
      </span>
      <button type="button" className="ghost small" onClick={onRemove}>
        Remove<span className="visually-hidden"> {file.name}</span>
      </button>
    </div>
  );
}
