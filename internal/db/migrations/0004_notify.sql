-- Notifications: each user's in-app inbox, and outgoing webhooks with a
-- delivery per message and a log row per delivery attempt.

CREATE TABLE notifications (
	id          {{id}},
	user_id     BIGINT NOT NULL REFERENCES users (id),
	event       TEXT NOT NULL,
	title       TEXT NOT NULL,
	body        TEXT NOT NULL DEFAULT '',
	link        TEXT NOT NULL DEFAULT '',
	object_type TEXT NOT NULL DEFAULT '',
	object_id   TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	read_at     BIGINT
);
-- The inbox newest first, and its unread part (the badge and ?unread=true).
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, id) WHERE read_at IS NULL;

-- A webhook's URL often carries a credential in its query string (the
-- WeCom robot's key, the DingTalk access_token), so it is sealed like the
-- signing secret; url_display is the URL with its query values hidden.
-- area_path is the path of area_code, resolved when the hook is saved.
CREATE TABLE webhooks (
	id          {{id}},
	name        TEXT NOT NULL,
	url_enc     {{blob}} NOT NULL,
	url_display TEXT NOT NULL,
	format      TEXT NOT NULL CHECK (format IN ('json', 'wecom', 'dingtalk')),
	secret_enc  {{blob}},
	area_code   TEXT NOT NULL REFERENCES areas (code),
	area_path   TEXT NOT NULL,
	active      BOOLEAN NOT NULL DEFAULT TRUE,
	created_at  BIGINT NOT NULL,
	created_by  TEXT NOT NULL,
	updated_at  BIGINT NOT NULL,
	updated_by  TEXT NOT NULL,
	deleted_at  BIGINT
);

-- The events a webhook subscribes to: a name ("ticket.created"), a
-- module's every event ("ticket.*") or everything ("*").
CREATE TABLE webhook_events (
	webhook_id BIGINT NOT NULL REFERENCES webhooks (id),
	event      TEXT NOT NULL,
	PRIMARY KEY (webhook_id, event)
);
CREATE INDEX webhook_events_event ON webhook_events (event, webhook_id);

-- One message to one webhook. The worker claims a due row by moving
-- claimed_until into the future with one conditional UPDATE (and counting
-- the attempt), so that instances sharing a database never make the same
-- attempt twice; a claim left by a crashed instance expires.
CREATE TABLE webhook_deliveries (
	id            {{id}},
	webhook_id    BIGINT NOT NULL REFERENCES webhooks (id),
	event         TEXT NOT NULL,
	title         TEXT NOT NULL,
	body          TEXT NOT NULL DEFAULT '',
	link          TEXT NOT NULL DEFAULT '',
	object_type   TEXT NOT NULL DEFAULT '',
	object_id     TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
	attempts      INTEGER NOT NULL DEFAULT 0,
	next_at       BIGINT NOT NULL,
	claimed_until BIGINT NOT NULL DEFAULT 0,
	last_status   INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
-- The worker's due query reads pending rows only.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);

CREATE TABLE webhook_attempts (
	id          {{id}},
	delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries (id),
	attempt     INTEGER NOT NULL,
	at          BIGINT NOT NULL,
	http_status INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	duration_ms BIGINT NOT NULL,
	UNIQUE (delivery_id, attempt)
);
