-- Signed passes (通行证 / 白名单卡): signing keys, batches uploaded by
-- enterprise contacts and reviewed by officers, the passes issued with their
-- signed tokens, per-enterprise quotas and the incremental revocation list.
-- Times are Unix milliseconds.

-- Ed25519 signing keys. The private key lives in DATA_DIR/pass-keys/<kid>.key;
-- the database holds the public half so every instance publishes the same
-- JWK Set. retired_at: no longer signs; revoked_at: leaked, every pass it
-- signed is revoked; last_exp: the latest exp of a pass it signed, so the JWK
-- Set drops a retired key once that moment has passed.
CREATE TABLE pass_keys (
	kid        TEXT PRIMARY KEY,
	public_key TEXT NOT NULL, -- base64url (no padding) of the 32-byte key
	created_at BIGINT NOT NULL,
	retired_at BIGINT,
	revoked_at BIGINT,
	revoked_by TEXT NOT NULL DEFAULT '',
	last_exp   BIGINT NOT NULL DEFAULT 0
);

-- Quota of active passes per enterprise; a missing row means the
-- enterprise's registered employees.
CREATE TABLE pass_quotas (
	enterprise_key TEXT PRIMARY KEY REFERENCES enterprises (ekey),
	quota          INTEGER NOT NULL CHECK (quota >= 0),
	updated_at     BIGINT NOT NULL,
	updated_by     TEXT NOT NULL
);

CREATE TABLE pass_batches (
	id              {{id}},
	enterprise_key  TEXT NOT NULL REFERENCES enterprises (ekey),
	enterprise_name TEXT NOT NULL,
	area_code       TEXT NOT NULL REFERENCES areas (code),
	area_path       TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'partly_approved', 'rejected')),
	file_name       TEXT NOT NULL DEFAULT '',
	row_count       INTEGER NOT NULL DEFAULT 0,
	approved_count  INTEGER NOT NULL DEFAULT 0,
	rejected_count  INTEGER NOT NULL DEFAULT 0,
	uploaded_by     TEXT NOT NULL,
	uploaded_at     BIGINT NOT NULL,
	reviewed_by     TEXT NOT NULL DEFAULT '',
	reviewed_at     BIGINT,
	note            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX pass_batches_status ON pass_batches (status, uploaded_at);
CREATE INDEX pass_batches_enterprise ON pass_batches (enterprise_key, uploaded_at);

CREATE TABLE pass_batch_rows (
	batch_id    BIGINT NOT NULL REFERENCES pass_batches (id),
	row_no      INTEGER NOT NULL,
	kind        TEXT NOT NULL CHECK (kind IN ('person', 'vehicle')),
	name_masked TEXT NOT NULL,
	name_enc    {{blob}} NOT NULL,
	id_enc      {{blob}},
	id_idx      TEXT,
	id4         TEXT NOT NULL DEFAULT '',
	phone_enc   {{blob}},
	plate       TEXT NOT NULL DEFAULT '',
	areas       TEXT NOT NULL, -- area codes separated by ';'
	valid_from  BIGINT NOT NULL,
	valid_to    BIGINT NOT NULL,
	checkpoints TEXT NOT NULL DEFAULT '', -- checkpoint ids separated by ';'
	decision    TEXT NOT NULL DEFAULT 'pending' CHECK (decision IN ('pending', 'approved', 'rejected')),
	PRIMARY KEY (batch_id, row_no)
);

CREATE TABLE passes (
	id              {{id}},
	pid             TEXT NOT NULL UNIQUE,
	kind            TEXT NOT NULL CHECK (kind IN ('person', 'vehicle')),
	enterprise_key  TEXT NOT NULL REFERENCES enterprises (ekey),
	enterprise_name TEXT NOT NULL,
	area_path       TEXT NOT NULL, -- the enterprise's area path, for scoped reads
	name_masked     TEXT NOT NULL,
	name_enc        {{blob}} NOT NULL,
	id_enc          {{blob}},
	id_idx          TEXT,
	id4             TEXT NOT NULL DEFAULT '',
	phone_enc       {{blob}},
	plate           TEXT NOT NULL DEFAULT '',
	areas           TEXT NOT NULL, -- area codes separated by ';'
	checkpoints     TEXT NOT NULL DEFAULT '', -- checkpoint ids separated by ';'
	valid_from      BIGINT NOT NULL,
	valid_to        BIGINT NOT NULL,
	-- 'expired' is derived from valid_to when read.
	status          TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
	kid             TEXT NOT NULL REFERENCES pass_keys (kid),
	token           TEXT NOT NULL,
	batch_id        BIGINT REFERENCES pass_batches (id),
	batch_row       INTEGER NOT NULL DEFAULT 0,
	issued_at       BIGINT NOT NULL,
	issued_by       TEXT NOT NULL,
	revoked_at      BIGINT,
	revoke_reason   TEXT NOT NULL DEFAULT '',
	revoked_by      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX passes_enterprise ON passes (enterprise_key, status);
CREATE INDEX passes_kid ON passes (kid, status);
CREATE INDEX passes_batch ON passes (batch_id);
CREATE INDEX passes_id_idx ON passes (id_idx);

-- The incremental revocation list: seq grows with every revocation;
-- checkpoints poll ?since=SEQ.
CREATE TABLE pass_revocations (
	seq        {{id}},
	pid        TEXT NOT NULL,
	kid        TEXT NOT NULL,
	revoked_at BIGINT NOT NULL,
	reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX pass_revocations_pid ON pass_revocations (pid);

-- Lock rows: a writer updates its row first, which on PostgreSQL holds a
-- row lock until commit. 'revocations' makes seq order commit order (no
-- reader skips a seq committed late), 'keys' keeps one signing key when
-- instances create it at once, 'issue' keeps two approvals from both
-- fitting in the same quota.
CREATE TABLE pass_locks (
	name TEXT PRIMARY KEY,
	at   BIGINT NOT NULL
);
INSERT INTO pass_locks (name, at) VALUES ('revocations', 0), ('keys', 0), ('issue', 0);
