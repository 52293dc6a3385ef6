-- Platform core: jurisdictions, departments, work groups, accounts, sessions,
-- API tokens, login throttling, idempotency and the audit chain.
-- Times are BIGINT Unix milliseconds UTC, computed in Go.

CREATE TABLE areas (
	code        TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	level       TEXT NOT NULL CHECK (level IN ('city', 'district', 'street', 'community', 'grid')),
	parent_code TEXT REFERENCES areas (code),
	-- path is "/430200/430203/430203001/": a subtree is "path LIKE prefix%".
	path        TEXT NOT NULL UNIQUE,
	depth       INTEGER NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX areas_parent ON areas (parent_code, code);

CREATE TABLE departments (
	code       TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	area_code  TEXT NOT NULL REFERENCES areas (code),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE workgroups (
	code       TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	area_code  TEXT NOT NULL REFERENCES areas (code),
	remit      TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE users (
	id            {{id}},
	username      TEXT NOT NULL UNIQUE,
	display_name  TEXT NOT NULL,
	phone_enc     {{blob}},
	phone_idx     TEXT,
	password_hash TEXT NOT NULL,
	status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE INDEX users_phone_idx ON users (phone_idx);

CREATE TABLE role_assignments (
	id         {{id}},
	user_id    BIGINT NOT NULL REFERENCES users (id),
	role       TEXT NOT NULL CHECK (role IN ('system_admin', 'hq_commander', 'hq_staff', 'district_officer',
	           'street_officer', 'community_worker', 'department_officer', 'workgroup_member', 'liaison',
	           'enterprise_contact', 'volunteer', 'checkpoint_officer', 'inspector')),
	scope_kind TEXT NOT NULL CHECK (scope_kind IN ('area', 'department', 'workgroup', 'enterprise', 'checkpoint')),
	scope_ref  TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (user_id, role, scope_kind, scope_ref)
);

CREATE TABLE sessions (
	token_hash   TEXT PRIMARY KEY,
	user_id      BIGINT NOT NULL REFERENCES users (id),
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
	id           {{id}},
	user_id      BIGINT NOT NULL REFERENCES users (id),
	name         TEXT NOT NULL DEFAULT '',
	token_hash   TEXT NOT NULL UNIQUE,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT,
	revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- One row per throttled key ("user:NAME" or "addr:IP"): failures inside the
-- current window and the time until which logins are refused.
CREATE TABLE login_throttle (
	key          TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	window_start BIGINT NOT NULL,
	locked_until BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
	principal    TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status       INTEGER NOT NULL,
	content_type TEXT NOT NULL,
	body         {{blob}} NOT NULL,
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (principal, key)
);

-- The audit chain. hash = SHA-256 over the previous row's hash and this
-- row's fields; audit_head holds the chain's tip so that appends serialise
-- on one row lock (PostgreSQL) or the single writer (SQLite).
CREATE TABLE audit_log (
	seq         BIGINT PRIMARY KEY,
	at          BIGINT NOT NULL,
	actor_id    BIGINT,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id   TEXT NOT NULL,
	area_code   TEXT NOT NULL DEFAULT '',
	summary     TEXT NOT NULL,
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);

CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
