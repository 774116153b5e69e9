-- Tenancy: every meeting (and so its attendees, tokens and webhooks) belongs to the platform whose API key created
-- it; ClientRequestToken is unique per platform, so one platform can neither replay nor probe another's tokens.
-- Meetings created before tenancy belong to the development platform, 'default'.

ALTER TABLE meetings ADD COLUMN IF NOT EXISTS platform_id text NOT NULL DEFAULT 'default';
ALTER TABLE meetings ALTER COLUMN platform_id DROP DEFAULT;
DROP INDEX IF EXISTS meetings_client_request_token;
CREATE UNIQUE INDEX IF NOT EXISTS meetings_platform_client_request_token ON meetings (platform_id, client_request_token);

-- Webhook deliveries: signed with their platform's secret; 'receiver' (scheme://host:port) bounds how many
-- deliveries one receiver has in flight.
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS platform_id text NOT NULL DEFAULT 'default';
ALTER TABLE webhook_deliveries ALTER COLUMN platform_id DROP DEFAULT;
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS receiver text NULL;
UPDATE webhook_deliveries SET receiver = lower(substring(url from '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*')) WHERE receiver IS NULL;
UPDATE webhook_deliveries SET receiver = url WHERE receiver IS NULL;
ALTER TABLE webhook_deliveries ALTER COLUMN receiver SET NOT NULL;
