-- rdev schema v1: keys, projects, commands, command events and the audit log (SPEC sections 3-6).

CREATE TABLE api_keys (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{8,16}$'),
    name         text NOT NULL,
    secret_hash  bytea NOT NULL,
    scopes       text[] NOT NULL,
    projects     text[] NOT NULL DEFAULT '{}',
    allowed_ips  cidr[] NOT NULL DEFAULT '{}',
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- One row per project name, written by discovery and read by the API.
CREATE TABLE projects (
    name                    text PRIMARY KEY CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    status                  text NOT NULL CHECK (status IN ('running', 'starting', 'failed', 'unknown', 'gone')),
    description             text,
    runtime                 text NOT NULL CHECK (runtime IN ('local', 'kubernetes')),
    namespace               text,
    pod_name                text,
    container               text,
    workspace               text NOT NULL,
    allowed_commands        text[] NOT NULL,
    max_concurrent_commands integer NOT NULL CHECK (max_concurrent_commands > 0),
    runnable                boolean NOT NULL DEFAULT true,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE commands (
    id              uuid PRIMARY KEY,
    project         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('claude', 'git', 'shell')),
    args            jsonb NOT NULL,
    status          text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'lost')),
    exit_code       integer,
    key_id          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    timeout_seconds integer NOT NULL,
    output_bytes    bigint NOT NULL DEFAULT 0,
    truncated       boolean NOT NULL DEFAULT false,
    last_seq        bigint NOT NULL DEFAULT 0,
    runner_id       text,
    session_id      text,
    total_cost_usd  numeric,
    num_turns       integer,
    result          text,
    is_error        boolean
);

-- History newest first (ids are UUIDv7, so they sort by creation time).
CREATE INDEX commands_project_id ON commands (project, id DESC);
-- Concurrency limit and crash recovery look only at unfinished commands.
CREATE INDEX commands_unfinished ON commands (project) WHERE status IN ('queued', 'running');

-- Every output chunk and status change, in order; seq is the SSE event id.
CREATE TABLE command_events (
    command_id uuid NOT NULL REFERENCES commands (id) ON DELETE CASCADE,
    seq        bigint NOT NULL CHECK (seq > 0),
    type       text NOT NULL CHECK (type IN ('output', 'claude', 'status')),
    data       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (command_id, seq)
);

-- Who did what. Repeated authentication failures from one source are counted in one row per window.
CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    action    text NOT NULL,
    key_id    text,
    project   text,
    source_ip inet,
    details   jsonb NOT NULL DEFAULT '{}',
    count     integer NOT NULL DEFAULT 1
);

CREATE INDEX audit_log_at ON audit_log (at);
