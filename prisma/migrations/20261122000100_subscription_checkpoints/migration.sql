-- Where each durable subscriber (a process manager, a relay) has read the global log up to.
CREATE TABLE subscription_checkpoints (
  name       text           PRIMARY KEY,
  checkpoint text           NOT NULL,
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
