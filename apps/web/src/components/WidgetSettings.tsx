import { useId, useState, type FormEvent } from 'react';
import { GREETING_MAX, normalizeOrigin, type WidgetSettings } from '@parley/domain';
import type { Client } from '../lib/api/client';
import { refusalText } from '../lib/channel-setup';
import { CopyField, OutcomeLine, type SetupOutcome } from './CopyField';

/**
 * A web chat widget's settings (CS3, CS4): colour, greeting, pre-chat form and allowed origins,
 * the one-tag snippet to paste into a site, and Parley's preview page with the saved settings.
 * Origins are checked here as the domain checks them, so a typo is named before saving.
 */
export function WidgetSettingsForm({
  client,
  online,
  channelId,
  widget,
  onSaved,
}: {
  client: Client;
  online: boolean;
  channelId: string;
  widget: { readonly settings: WidgetSettings; readonly snippet: string; readonly previewUrl: string };
  onSaved: () => void;
}) {
  const id = useId();
  const [colour, setColour] = useState(widget.settings.colour);
  const [greeting, setGreeting] = useState(widget.settings.greeting);
  const [askName, setAskName] = useState(widget.settings.preChat.name);
  const [askEmail, setAskEmail] = useState(widget.settings.preChat.email);
  const [origins, setOrigins] = useState(widget.settings.allowedOrigins.join('\n'));
  const [outcome, setOutcome] = useState<SetupOutcome>(null);
  const [saving, setSaving] = useState(false);
  const originList = origins
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter(Boolean);
  const badOrigins = originList.filter((origin) => normalizeOrigin(origin) === null);

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaving(true);
    setOutcome(null);
    try {
      const { settings } = await client.admin.channels.configureWidget.mutate({
        channelId,
        settings: {
          colour,
          greeting,
          preChat: { name: askName, email: askEmail },
          allowedOrigins: originList,
        },
      });
      setOrigins(settings.allowedOrigins.join('\n'));
      setOutcome({
        kind: 'done',
        text: 'Saved. Sites with the snippet use these settings at their next page load.',
      });
      onSaved();
    } catch (failure) {
      setOutcome({ kind: 'error', text: refusalText(failure, 'The widget was not saved') });
    } finally {
      setSaving(false);
    }
  }

  return (
    <div className="widget-settings">
      <CopyField label="Embed snippet (one script tag, before </body>)" value={widget.snippet} multiline />
      <p>
        <a href={widget.previewUrl} target="_blank" rel="noopener">
          Open the preview page
        </a>{' '}
        <span className="muted">(the widget with its saved settings; messages there reach the inbox)</span>
      </p>
      <form onSubmit={(event) => void save(event)} aria-label="Widget settings">
        <div className="widget-row">
          <label>
            Colour
            <input type="color" value={colour} onChange={(event) => setColour(event.target.value)} />
          </label>
          <label className="grow">
            Greeting
            <input
              value={greeting}
              maxLength={GREETING_MAX}
              onChange={(event) => setGreeting(event.target.value)}
            />
          </label>
        </div>
        <fieldset>
          <legend>Pre-chat form: ask before the first message for</legend>
          <label className="check">
            <input type="checkbox" checked={askName} onChange={(event) => setAskName(event.target.checked)} />
            Name
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={askEmail}
              onChange={(event) => setAskEmail(event.target.checked)}
            />
            E-mail
          </label>
        </fieldset>
        <label>
          Allowed origins (one a line; empty: any site)
          <textarea
            rows={3}
            value={origins}
            placeholder="https://shop.example.com"
            aria-describedby={`${id}-origins`}
            aria-invalid={badOrigins.length > 0}
            onChange={(event) => setOrigins(event.target.value)}
          />
          <span id={`${id}-origins`} className={badOrigins.length > 0 ? 'error' : 'muted hint'}>
            {badOrigins.length > 0
              ? `Not an origin: ${badOrigins.join(', ')}. Write scheme, host and port only, like https://shop.example.com.`
              : 'Pages of other sites get a 403 and cannot chat. Parley’s own preview always works.'}
          </span>
        </label>
        <OutcomeLine outcome={outcome} />
        <button type="submit" disabled={!online || saving || badOrigins.length > 0}>
          {saving ? 'Saving…' : 'Save widget'}
        </button>
      </form>
    </div>
  );
}
