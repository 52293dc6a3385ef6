-- The scan log's reason check as comparisons rather than a list. SQLite
-- checks "reason IN (eleven values)" by building a temporary b-tree of
-- the values for every row it inserts (an OpenEphemeral in the insert's
-- program; lists of two are compared in place): a fifth of the journal
-- loader's time per scan. The same values, compared one by one, cost
-- nothing that shows. The rule is the same; only its form changes.
--
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt as in
-- migration 0019: nothing references checkpoint_scans, it is built anew,
-- filled, and renamed in the old one's place, its AUTOINCREMENT
-- high-water mark kept so that no id is given twice. PostgreSQL checks an
-- IN list in place; its schema does not change.
CREATE TEMP TABLE seq_0020 AS SELECT name, seq FROM sqlite_sequence WHERE name = 'checkpoint_scans';

CREATE TABLE checkpoint_scans_0020 (
	id            {{id}},
	checkpoint_id BIGINT NOT NULL REFERENCES checkpoints (id),
	client_id     TEXT NOT NULL,
	pid           TEXT,
	pass          TEXT,
	verdict       TEXT NOT NULL CHECK (verdict IN ('allow', 'deny')),
	reason        TEXT NOT NULL CONSTRAINT checkpoint_scans_reason_check
	              CHECK (reason = 'ok' OR reason = 'malformed' OR reason = 'bad_signature' OR reason = 'unknown_key' OR
	              reason = 'not_yet_valid' OR reason = 'expired' OR reason = 'revoked' OR reason = 'area_not_allowed' OR
	              reason = 'checkpoint_not_allowed' OR reason = 'zone_sealed' OR reason = 'zone_controlled'),
	scanned_at    BIGINT NOT NULL,
	received_at   BIGINT NOT NULL,
	officer       TEXT NOT NULL,
	offline       BOOLEAN NOT NULL DEFAULT FALSE,
	shown         TEXT NOT NULL DEFAULT 'pass' CONSTRAINT checkpoint_scans_shown_check CHECK (shown IN ('pass', 'resident')),
	UNIQUE (checkpoint_id, client_id)
);
INSERT INTO checkpoint_scans_0020 (id, checkpoint_id, client_id, pid, pass, verdict, reason, scanned_at, received_at, officer,
	offline, shown)
SELECT id, checkpoint_id, client_id, pid, pass, verdict, reason, scanned_at, received_at, officer, offline, shown
FROM checkpoint_scans;
DROP TABLE checkpoint_scans;
ALTER TABLE checkpoint_scans_0020 RENAME TO checkpoint_scans;
CREATE INDEX checkpoint_scans_time ON checkpoint_scans (checkpoint_id, scanned_at);

DELETE FROM sqlite_sequence WHERE name = 'checkpoint_scans';
INSERT INTO sqlite_sequence (name, seq) SELECT name, seq FROM seq_0020;
DROP TABLE seq_0020;
