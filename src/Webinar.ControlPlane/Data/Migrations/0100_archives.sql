-- Archives (recordings) of primary meetings. An archive outlives its meeting, so meeting_id is not a foreign key;
-- the webhook URL and external id are copied from the meeting when the archive starts.

ALTER TABLE meetings ADD COLUMN IF NOT EXISTS archive_mode text NOT NULL DEFAULT 'Manual';
-- Attendee (default) or Moderator: a moderator may start and stop the meeting's archive over signalling.
ALTER TABLE attendees ADD COLUMN IF NOT EXISTS role text NOT NULL DEFAULT 'Attendee';

CREATE TABLE IF NOT EXISTS archives (
    archive_id           uuid             PRIMARY KEY,
    platform_id          text             NOT NULL,
    meeting_id           uuid             NOT NULL,
    external_meeting_id  text             NULL,
    node_id              text             NOT NULL,
    name                 text             NOT NULL,
    output_mode          text             NOT NULL,
    has_audio            boolean          NOT NULL,
    has_video            boolean          NOT NULL,
    resolution           text             NOT NULL,
    layout               text             NOT NULL,
    status               text             NOT NULL,
    reason               text             NULL,
    webhook_url          text             NULL,
    created_at           timestamptz      NOT NULL,
    stopped_at           timestamptz      NULL,
    available_at         timestamptz      NULL,
    duration             double precision NULL,
    size                 bigint           NULL,
    file_name            text             NULL,
    content_type         text             NULL,
    is_partial           boolean          NOT NULL DEFAULT false,
    deleted_at           timestamptz      NULL
);

-- At most one recording archive per meeting: a concurrent second start fails on this index (409).
CREATE UNIQUE INDEX IF NOT EXISTS archives_one_started ON archives (meeting_id) WHERE status = 'Started' AND deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS archives_meeting ON archives (meeting_id, created_at) WHERE deleted_at IS NULL;
