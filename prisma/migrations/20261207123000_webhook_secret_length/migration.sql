-- Issue #13 item 19 (decision record 0018): a webhook secret is never empty or short. Parley
-- generates 48 hex characters (seed, `parley webhooks rotate-secret`, admin.channels.rotateSecret);
-- the repository refuses fewer than 16 with a clear error, and this CHECK keeps any other writer out.
ALTER TABLE channel_apps
  ADD CONSTRAINT channel_apps_secret_length CHECK (char_length(secret) >= 16),
  ADD CONSTRAINT channel_apps_previous_secret_length
    CHECK (previous_secret IS NULL OR char_length(previous_secret) >= 16);
