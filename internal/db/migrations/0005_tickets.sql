-- Problem and help tickets (问题收集和协调解决机制): categories, routing
-- rules, deadline policies, tickets with their timeline, escalation hops,
-- watchers and photos, and the public intake's rate limits.

CREATE TABLE ticket_categories (
	code             TEXT PRIMARY KEY,
	name             TEXT NOT NULL,
	name_en          TEXT NOT NULL DEFAULT '',
	position         INTEGER NOT NULL DEFAULT 0,
	active           BOOLEAN NOT NULL DEFAULT TRUE,
	confirm_after_ms BIGINT NOT NULL CHECK (confirm_after_ms > 0),
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL
);
INSERT INTO ticket_categories (code, name, name_en, position, confirm_after_ms, created_at, updated_at) VALUES
	('logistics', '物流运输', 'Logistics', 1, 259200000, 0, 0),
	('materials', '原材料', 'Raw materials', 2, 259200000, 0, 0),
	('staff_passes', '人员通行', 'Staff passes', 3, 259200000, 0, 0),
	('utilities', '水电气', 'Water, power, gas', 4, 259200000, 0, 0),
	('medical', '就医', 'Medical care', 5, 259200000, 0, 0),
	('food', '生活物资', 'Food and daily supplies', 6, 259200000, 0, 0),
	('elderly_care', '老人照护', 'Elderly care', 7, 259200000, 0, 0),
	('other', '其他', 'Other', 8, 259200000, 0, 0);

-- Deadlines per category and urgency; a missing row means the default
-- policy of the urgency. Rules are written as ticket.ParseRule reads them.
CREATE TABLE ticket_policies (
	category     TEXT NOT NULL REFERENCES ticket_categories (code),
	urgency      TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', 'critical')),
	respond_rule TEXT NOT NULL,
	resolve_rule TEXT NOT NULL,
	updated_at   BIGINT NOT NULL,
	updated_by   TEXT NOT NULL,
	PRIMARY KEY (category, urgency)
);

-- Routing: (category, area subtree) → department; the rule of the deepest
-- area containing the ticket's area wins.
CREATE TABLE ticket_routes (
	id              {{id}},
	category        TEXT NOT NULL REFERENCES ticket_categories (code),
	area_code       TEXT NOT NULL REFERENCES areas (code),
	area_path       TEXT NOT NULL,
	department_code TEXT NOT NULL REFERENCES departments (code),
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	UNIQUE (category, area_code)
);

-- The daily sequence of tracking numbers (WT20221120-0042).
CREATE TABLE ticket_day_counters (
	day  TEXT PRIMARY KEY, -- YYYYMMDD, Asia/Shanghai
	last INTEGER NOT NULL
);

CREATE TABLE tickets (
	id                 {{id}},
	tracking           TEXT NOT NULL UNIQUE,
	kind               TEXT NOT NULL CHECK (kind IN ('enterprise_problem', 'resident_help', 'other')),
	category           TEXT NOT NULL REFERENCES ticket_categories (code),
	urgency            TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', 'critical')),
	channel            TEXT NOT NULL CHECK (channel IN ('web', 'hotline_12345', 'phone', 'wechat', 'liaison', 'walk_in')),
	status             TEXT NOT NULL CHECK (status IN ('new', 'assigned', 'in_progress', 'resolved', 'confirmed',
	                   'rejected', 'reopened', 'merged')),
	subject_kind       TEXT NOT NULL CHECK (subject_kind IN ('enterprise', 'household', 'address')),
	enterprise_key     TEXT NOT NULL DEFAULT '',
	enterprise_name    TEXT NOT NULL DEFAULT '',
	address_enc        {{blob}},
	-- subject_key finds possible duplicates: "ent:KEY", "addr:<blind index>"
	-- or "phone:<blind index>".
	subject_key        TEXT NOT NULL DEFAULT '',
	area_code          TEXT NOT NULL REFERENCES areas (code),
	area_name          TEXT NOT NULL,
	area_path          TEXT NOT NULL,
	description        TEXT NOT NULL,
	reporter_id        BIGINT REFERENCES users (id),
	reporter_name_enc  {{blob}},
	reporter_phone_enc {{blob}},
	reporter_phone_idx TEXT,
	department_code    TEXT REFERENCES departments (code),
	department_name    TEXT NOT NULL DEFAULT '',
	-- The escalation ladder: the area now holding the ticket (the ticket's
	-- own area, then its ancestors) and the number of hops so far.
	holder_code        TEXT NOT NULL,
	holder_depth       INTEGER NOT NULL,
	escalation_level   INTEGER NOT NULL DEFAULT 0,
	respond_by         BIGINT NOT NULL,
	resolve_by         BIGINT NOT NULL,
	-- due_at is the earliest deadline still running (NULL once the ticket
	-- is resolved or closed): the sweeper's and the overdue board's key.
	due_at             BIGINT,
	responded_at       BIGINT,
	resolved_at        BIGINT,
	closed_at          BIGINT,
	auto_confirm_at    BIGINT,
	merged_into        BIGINT REFERENCES tickets (id),
	version            INTEGER NOT NULL DEFAULT 1,
	created_at         BIGINT NOT NULL,
	created_by         TEXT NOT NULL,
	updated_at         BIGINT NOT NULL
);
CREATE INDEX tickets_sweep ON tickets (due_at) WHERE holder_depth > 0;
CREATE INDEX tickets_due ON tickets (due_at);
CREATE INDEX tickets_confirm ON tickets (auto_confirm_at) WHERE auto_confirm_at IS NOT NULL;
CREATE INDEX tickets_area ON tickets (area_path);
CREATE INDEX tickets_department ON tickets (department_code, status);
CREATE INDEX tickets_subject ON tickets (subject_key, category, created_at);
CREATE INDEX tickets_created ON tickets (created_at);
CREATE INDEX tickets_reporter ON tickets (reporter_id);
CREATE INDEX tickets_enterprise ON tickets (enterprise_key);
CREATE INDEX tickets_phone ON tickets (reporter_phone_idx);

-- The timeline: filing, routing, transitions, comments, escalations,
-- merges, photos. Notes may hold what people wrote; no phone or ID numbers
-- are added by Tongxin itself.
CREATE TABLE ticket_events (
	id         {{id}},
	ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
	at         BIGINT NOT NULL,
	actor      TEXT NOT NULL,
	kind       TEXT NOT NULL CHECK (kind IN ('filed', 'routed', 'transition', 'comment', 'escalated', 'merged',
	           'merged_from', 'photo', 'auto_confirmed')),
	from_status TEXT NOT NULL DEFAULT '',
	to_status  TEXT NOT NULL DEFAULT '',
	department TEXT NOT NULL DEFAULT '',
	note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

-- Each hop up the ladder; the primary key makes a second escalation of the
-- same hop impossible even if two sweepers raced.
CREATE TABLE ticket_escalations (
	ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
	hop        INTEGER NOT NULL,
	at         BIGINT NOT NULL,
	reason     TEXT NOT NULL CHECK (reason IN ('respond', 'resolve', 'both')),
	from_code  TEXT NOT NULL,
	from_depth INTEGER NOT NULL,
	to_code    TEXT NOT NULL,
	to_depth   INTEGER NOT NULL,
	PRIMARY KEY (ticket_id, hop)
);

-- Users who follow a ticket besides its reporter and handlers: the liaisons
-- of the enterprise it is about.
CREATE TABLE ticket_watchers (
	ticket_id BIGINT NOT NULL REFERENCES tickets (id),
	user_id   BIGINT NOT NULL REFERENCES users (id),
	PRIMARY KEY (ticket_id, user_id)
);
CREATE INDEX ticket_watchers_user ON ticket_watchers (user_id);

CREATE TABLE ticket_photos (
	id          {{id}},
	ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
	sha256      TEXT NOT NULL,
	media_type  TEXT NOT NULL,
	size        INTEGER NOT NULL,
	uploaded_by TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX ticket_photos_ticket ON ticket_photos (ticket_id);

-- Fixed-window counters of the public intake ("addr:IP", "phone:<index>",
-- "lookup:IP").
CREATE TABLE ticket_rate_limits (
	key          TEXT PRIMARY KEY,
	window_start BIGINT NOT NULL,
	count        INTEGER NOT NULL
);
