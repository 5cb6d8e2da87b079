-- Keys and the audit log (issue #3).

-- GET /api/v1/keys pages newest first by (created_at, id).
CREATE INDEX api_keys_created_at_id ON api_keys (created_at DESC, id DESC);

-- Authentication failures are counted in one row per source address and minute (at = start of the minute), upserted
-- by the API, so a flood of bad keys cannot fill the disk. Sources beyond what one flush tracks share a NULL address.
CREATE UNIQUE INDEX audit_log_auth_failed_window ON audit_log (action, source_ip, at) NULLS NOT DISTINCT
    WHERE action = 'auth.failed';

CREATE INDEX audit_log_key_id ON audit_log (key_id, at) WHERE key_id IS NOT NULL;
