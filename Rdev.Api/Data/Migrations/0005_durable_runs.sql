-- Durable runs (SPEC section 6): a command outlives the replica that started it. Any replica can take over its lease
-- (runner_id) and re-attach to its run folder from the offsets stored with the last event batch.
ALTER TABLE commands ADD COLUMN run_target jsonb;
ALTER TABLE commands ADD COLUMN stdout_offset bigint NOT NULL DEFAULT 0;
ALTER TABLE commands ADD COLUMN stderr_offset bigint NOT NULL DEFAULT 0;
-- A cancel survives a handover: whichever replica holds the lease next stops the command.
ALTER TABLE commands ADD COLUMN cancel_requested_at timestamptz;
