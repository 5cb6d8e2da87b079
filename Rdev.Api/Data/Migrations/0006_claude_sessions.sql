-- Claude sessions (SPEC section 7a): the waiting states, tool-permission approvals, follow-up messages, and the
-- watch-all feed of command lifecycle events with global ids (SPEC section 6).

ALTER TABLE commands DROP CONSTRAINT commands_status_check;
ALTER TABLE commands ADD CONSTRAINT commands_status_check CHECK (status IN (
    'queued', 'running', 'waiting_approval', 'waiting_input', 'succeeded', 'failed', 'cancelled', 'timed_out', 'lost'));
DROP INDEX commands_unfinished;
CREATE INDEX commands_unfinished ON commands (project) WHERE status IN ('queued', 'running', 'waiting_approval', 'waiting_input');

ALTER TABLE command_events DROP CONSTRAINT command_events_type_check;
ALTER TABLE command_events ADD CONSTRAINT command_events_type_check CHECK (type IN ('output', 'claude', 'status', 'approval', 'message'));

-- One row per can_use_tool request of the CLI. request_id is the CLI's, unique within its process.
CREATE TABLE command_approvals (
    id            uuid PRIMARY KEY,
    command_id    uuid NOT NULL REFERENCES commands (id) ON DELETE CASCADE,
    request_id    text NOT NULL,
    tool_name     text NOT NULL,
    input         jsonb NOT NULL,
    status        text NOT NULL CHECK (status IN ('pending', 'allowed', 'denied', 'expired')),
    requested_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    decided_at    timestamptz,
    decided_by    text,
    message       text,
    updated_input jsonb,
    UNIQUE (command_id, request_id)
);

-- Follow-up user messages, sent to the CLI in id order, one turn at a time, by the replica running the session.
CREATE TABLE command_messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    command_id uuid NOT NULL REFERENCES commands (id) ON DELETE CASCADE,
    text       text NOT NULL,
    key_id     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);

CREATE INDEX command_messages_unsent ON command_messages (command_id, id) WHERE sent_at IS NULL;

-- The watch-all feed: one row per command created and per status change, written by a trigger so that every path
-- that changes a status (supervisor, sweep, lost marking) is covered. id is the SSE event id.
CREATE TABLE command_feed (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    command_id uuid NOT NULL,
    project    text NOT NULL,
    kind       text NOT NULL,
    status     text NOT NULL,
    exit_code  integer,
    key_id     text NOT NULL,
    at         timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX command_feed_at ON command_feed (at);

CREATE FUNCTION command_feed_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        -- Held until commit: rows become visible in id order, so a reader resuming after an id never skips one.
        PERFORM pg_advisory_xact_lock(7234156273);
        INSERT INTO command_feed (command_id, project, kind, status, exit_code, key_id)
        VALUES (NEW.id, NEW.project, NEW.kind, NEW.status, NEW.exit_code, NEW.key_id);
        -- The feed's streams wait on the command events channel, under the empty id.
        PERFORM pg_notify('rdev_command_events', '00000000-0000-0000-0000-000000000000');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER commands_feed AFTER INSERT OR UPDATE OF status ON commands
    FOR EACH ROW EXECUTE FUNCTION command_feed_record();

-- Requests to a running session, kept so that a session that missed their NOTIFY still sees them when it re-reads.
ALTER TABLE commands ADD COLUMN session_interrupts integer NOT NULL DEFAULT 0;
ALTER TABLE commands ADD COLUMN session_close_requested boolean NOT NULL DEFAULT false;
