-- Estate gates (两码查验): a checkpoint of kind estate_gate stands at the
-- gate of one estate (小区) of its community (the checkpoint's area) and
-- checks resident codes against the zones in force as well as passes. The
-- scan log gains the zone reasons (zone_sealed, zone_controlled) and
-- records which code was shown: a pass (pid and pass as before) or a
-- resident code (pid is then the resident's pseudonymous id, pass what
-- the code said: masked name, community, building key, the deciding zone).
--
-- SQLite cannot alter a CHECK constraint, so both tables are rebuilt, as
-- https://www.sqlite.org/lang_altertable.html#otheralter describes, inside
-- this migration's transaction. Shifts, scans and handovers reference
-- checkpoints, and PRAGMA foreign_keys cannot be turned off inside a
-- transaction: PRAGMA defer_foreign_keys holds the references' checks to
-- the commit, checkpoints is copied aside, dropped, created anew and
-- filled again with the same ids (the referencing rows count as missing
-- parents while it is empty and are satisfied again once it is filled),
-- and the runner's PRAGMA foreign_key_check must find nothing before the
-- commit. Nothing references checkpoint_scans: it is built anew, filled,
-- and renamed in the old one's place. AUTOINCREMENT's high-water marks
-- are kept, so that no id is given twice.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE seq_0019 AS SELECT name, seq FROM sqlite_sequence WHERE name IN ('checkpoints', 'checkpoint_scans');

CREATE TEMP TABLE checkpoints_0019 AS SELECT * FROM checkpoints;
DROP TABLE checkpoints;
CREATE TABLE checkpoints (
	id         {{id}},
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL CONSTRAINT checkpoints_kind_check
	           CHECK (kind IN ('bridge', 'road', 'community', 'park_gate', 'transfer_point', 'estate_gate')),
	place      TEXT NOT NULL DEFAULT '',
	area_code  TEXT NOT NULL REFERENCES areas (code),
	area_path  TEXT NOT NULL,
	is_open    BOOLEAN NOT NULL DEFAULT TRUE,
	lat        DOUBLE PRECISION,
	lng        DOUBLE PRECISION,
	version    INTEGER NOT NULL DEFAULT 1,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL,
	estate     TEXT NOT NULL DEFAULT '',
	CONSTRAINT checkpoints_estate_check CHECK ((kind = 'estate_gate') = (estate <> ''))
);
INSERT INTO checkpoints (id, name, kind, place, area_code, area_path, is_open, lat, lng, version, created_at, created_by,
	updated_at, updated_by)
SELECT id, name, kind, place, area_code, area_path, is_open, lat, lng, version, created_at, created_by, updated_at, updated_by
FROM checkpoints_0019;
DROP TABLE checkpoints_0019;
CREATE INDEX checkpoints_area ON checkpoints (area_path);

CREATE TABLE checkpoint_scans_0019 (
	id            {{id}},
	checkpoint_id BIGINT NOT NULL REFERENCES checkpoints (id),
	client_id     TEXT NOT NULL,
	pid           TEXT,
	pass          TEXT,
	verdict       TEXT NOT NULL CHECK (verdict IN ('allow', 'deny')),
	reason        TEXT NOT NULL CONSTRAINT checkpoint_scans_reason_check
	              CHECK (reason IN ('ok', 'malformed', 'bad_signature', 'unknown_key', 'not_yet_valid', 'expired', 'revoked',
	              'area_not_allowed', 'checkpoint_not_allowed', 'zone_sealed', 'zone_controlled')),
	scanned_at    BIGINT NOT NULL,
	received_at   BIGINT NOT NULL,
	officer       TEXT NOT NULL,
	offline       BOOLEAN NOT NULL DEFAULT FALSE,
	shown         TEXT NOT NULL DEFAULT 'pass' CONSTRAINT checkpoint_scans_shown_check CHECK (shown IN ('pass', 'resident')),
	UNIQUE (checkpoint_id, client_id)
);
INSERT INTO checkpoint_scans_0019 (id, checkpoint_id, client_id, pid, pass, verdict, reason, scanned_at, received_at, officer,
	offline)
SELECT id, checkpoint_id, client_id, pid, pass, verdict, reason, scanned_at, received_at, officer, offline
FROM checkpoint_scans;
DROP TABLE checkpoint_scans;
ALTER TABLE checkpoint_scans_0019 RENAME TO checkpoint_scans;
CREATE INDEX checkpoint_scans_time ON checkpoint_scans (checkpoint_id, scanned_at);

DELETE FROM sqlite_sequence WHERE name IN ('checkpoints', 'checkpoint_scans');
INSERT INTO sqlite_sequence (name, seq) SELECT name, seq FROM seq_0019;
DROP TABLE seq_0019;
