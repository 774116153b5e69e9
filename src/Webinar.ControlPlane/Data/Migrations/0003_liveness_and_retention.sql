-- Issue 8: liveness from the database's clock and each node's own list, tombstones for connections that ended
-- before their join was recorded, poison outbox rows set aside, and pruning.

-- Meetings placed on a node since its last heartbeat (the heartbeat resets it): placement spreads a burst of
-- creates without comparing timestamps from different clocks.
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS placed_since_heartbeat integer NOT NULL DEFAULT 0;

-- A connection whose AttendeeLeft was handled before its AttendeeJoined: the late join is then ignored.
CREATE TABLE IF NOT EXISTS ended_connections (
    connection_id  uuid        PRIMARY KEY,
    ended_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS ended_connections_age ON ended_connections (ended_at);

-- An outbox row that cannot be read back is set aside instead of blocking every row after it.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS failed_at timestamptz NULL;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS last_error text NULL;
DROP INDEX IF EXISTS outbox_unsent;
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_done ON outbox (created_at) WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS webhook_deliveries_done ON webhook_deliveries (created_at) WHERE delivered_at IS NOT NULL OR failed_at IS NOT NULL;
