-- Meetings, attendees, nodes, live connections, the event outbox and webhook deliveries.

CREATE TABLE IF NOT EXISTS meetings (
    meeting_id            uuid        PRIMARY KEY,
    primary_meeting_id    uuid        NULL REFERENCES meetings (meeting_id) ON DELETE CASCADE,
    external_meeting_id   text        NULL,
    media_region          text        NOT NULL,
    node_id               text        NOT NULL,
    signaling_url         text        NOT NULL,
    max_attendees         integer     NOT NULL CHECK (max_attendees BETWEEN 1 AND 250),
    attendee_count        integer     NOT NULL DEFAULT 0 CHECK (attendee_count >= 0 AND attendee_count <= max_attendees),
    replica_count         integer     NOT NULL DEFAULT 0 CHECK (replica_count >= 0),
    tags                  jsonb       NOT NULL DEFAULT '[]',
    client_request_token  text        NOT NULL,
    request_hash          bytea       NOT NULL,
    webhook_url           text        NULL,
    created_at            timestamptz NOT NULL,
    started_at            timestamptz NULL,
    -- Idle tracking (primaries only): when the meeting and all its replicas last became connection-free;
    -- NULL while someone is connected.
    idle_since            timestamptz NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS meetings_client_request_token ON meetings (client_request_token);
CREATE INDEX IF NOT EXISTS meetings_primary ON meetings (primary_meeting_id) WHERE primary_meeting_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS meetings_idle ON meetings (idle_since) WHERE primary_meeting_id IS NULL;
CREATE INDEX IF NOT EXISTS meetings_node ON meetings (node_id, created_at);

CREATE TABLE IF NOT EXISTS attendees (
    attendee_id       uuid        PRIMARY KEY,
    meeting_id        uuid        NOT NULL REFERENCES meetings (meeting_id) ON DELETE CASCADE,
    external_user_id  text        NOT NULL,
    audio             text        NOT NULL,
    video             text        NOT NULL,
    content           text        NOT NULL,
    join_token        text        NOT NULL,
    created_at        timestamptz NOT NULL,
    seq               bigserial   NOT NULL,
    deleted_at        timestamptz NULL
);

CREATE INDEX IF NOT EXISTS attendees_meeting_active ON attendees (meeting_id, seq) WHERE deleted_at IS NULL;

CREATE TABLE IF NOT EXISTS nodes (
    node_id            text        PRIMARY KEY,
    region             text        NOT NULL,
    signaling_url      text        NOT NULL,
    load               integer     NOT NULL,
    last_heartbeat_at  timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS nodes_region ON nodes (region, last_heartbeat_at);

-- Connection counts per meeting as last reported in a node's heartbeat.
CREATE TABLE IF NOT EXISTS node_meeting_connections (
    node_id      text    NOT NULL,
    meeting_id   uuid    NOT NULL,
    connections  integer NOT NULL,
    PRIMARY KEY (node_id, meeting_id)
);

CREATE INDEX IF NOT EXISTS node_meeting_connections_meeting ON node_meeting_connections (meeting_id);

-- Connections reported one by one through AttendeeJoined / AttendeeLeft.
CREATE TABLE IF NOT EXISTS live_connections (
    connection_id  uuid        PRIMARY KEY,
    node_id        text        NOT NULL,
    meeting_id     uuid        NOT NULL,
    attendee_id    uuid        NOT NULL,
    joined_at      timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS live_connections_meeting ON live_connections (meeting_id);
CREATE INDEX IF NOT EXISTS live_connections_node ON live_connections (node_id);

-- Integration events written in the same transaction as the change, published by OutboxPublisher.
CREATE TABLE IF NOT EXISTS outbox (
    id            bigserial   PRIMARY KEY,
    message_type  text        NOT NULL,
    payload       jsonb       NOT NULL,
    created_at    timestamptz NOT NULL,
    sent_at       timestamptz NULL
);

CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- Webhook POSTs, written in the same transaction as the change, delivered by WebhookDispatcher.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id               bigserial   PRIMARY KEY,
    url              text        NOT NULL,
    event_type       text        NOT NULL,
    payload          jsonb       NOT NULL,
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    delivered_at     timestamptz NULL,
    failed_at        timestamptz NULL,
    last_error       text        NULL
);

CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
