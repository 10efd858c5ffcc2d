import { renderTemplate, type ReplyContent } from '@parley/domain';
import { useEffect, useId, useState } from 'react';
import type { TemplateInfo } from '../lib/session';

/** A few words of the body around `{{n}}`, so the agent knows what the value is for. */
export function parameterContext(body: string, n: number): string {
  const marker = `{{${n}}}`;
  const at = body.indexOf(marker);
  if (at === -1) return '';
  const before = body.slice(Math.max(0, at - 24), at).replace(/\{\{\d+\}\}/g, '…');
  const after = body.slice(at + marker.length, at + marker.length + 24).replace(/\{\{\d+\}\}/g, '…');
  return `${at > 24 ? '…' : ''}${before}___${after}${at + marker.length + 24 < body.length ? '…' : ''}`;
}

/**
 * Choosing an approved template and filling its values, with a preview of the message the
 * customer will get as the values are typed (rule WA7). Its form scrolls inside the composer, so
 * the Send button stays on screen.
 */
export function TemplatePicker({
  templates,
  onSend,
  onCancel,
}: {
  templates: readonly TemplateInfo[];
  onSend: (content: ReplyContent) => void;
  onCancel: () => void;
}) {
  const approved = templates.filter((template) => template.approved);
  const [chosen, setChosen] = useState(0);
  const template = approved[chosen];
  const [params, setParams] = useState<string[]>([]);
  useEffect(() => {
    setParams(Array.from({ length: template?.paramCount ?? 0 }, () => ''));
  }, [template]);
  const id = useId();
  if (approved.length === 0) {
    return (
      <div className="template-picker" role="group" aria-label="Templates">
        <p>No approved templates are stored on this device yet.</p>
        <button type="button" className="ghost" onClick={onCancel}>
          Close
        </button>
      </div>
    );
  }
  return (
    <form
      className="template-picker"
      aria-label="Send a template"
      onSubmit={(event) => {
        event.preventDefault();
        if (template) onSend({ type: 'template', name: template.name, language: template.language, params });
      }}
    >
      <div className="template-fields">
        <label htmlFor={`${id}-template`}>Template</label>
        <select
          id={`${id}-template`}
          value={chosen}
          onChange={(event) => setChosen(Number(event.target.value))}
        >
          {approved.map((item, index) => (
            <option key={`${item.name}/${item.language}`} value={index}>
              {item.name} ({item.language})
            </option>
          ))}
        </select>
        {template ? (
          <figure className="template-preview">
            <figcaption id={`${id}-preview`}>The customer will get</figcaption>
            <p dir="auto" aria-labelledby={`${id}-preview`} aria-live="polite">
              {renderTemplate(template.body, params)}
            </p>
          </figure>
        ) : null}
        {params.map((value, index) => (
          <label key={index} className="template-value">
            <span>
              Value {index + 1}
              <span className="muted"> {template ? parameterContext(template.body, index + 1) : ''}</span>
            </span>
            <input
              required
              dir="auto"
              value={value}
              onChange={(event) =>
                setParams((all) => all.map((p, i) => (i === index ? event.target.value : p)))
              }
            />
          </label>
        ))}
      </div>
      <div className="row template-actions">
        <button type="submit">Send template</button>
        <button type="button" className="ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
