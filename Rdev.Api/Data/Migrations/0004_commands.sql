-- API replicas that run commands, with a heartbeat, so that a command whose replica died is marked lost
-- instead of staying 'running' for ever (SPEC section 6).
CREATE TABLE command_runners (
    id      text PRIMARY KEY,
    host    text NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE commands ADD COLUMN process_handle text;
ALTER TABLE commands ADD COLUMN error text;
