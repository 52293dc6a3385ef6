-- Checkpoints (卡口) and transfer points (物资接驳点): the registry, duty
-- rosters, the scan log, handovers of goods, and traffic control (交通管制):
-- measures and the public notices (通告) that start and lift them.
-- Times are Unix milliseconds.

CREATE TABLE checkpoints (
	id         {{id}},
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL CHECK (kind IN ('bridge', 'road', 'community', 'park_gate', 'transfer_point')),
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
	updated_by TEXT NOT NULL
);
CREATE INDEX checkpoints_area ON checkpoints (area_path);

-- The duty roster: who stands at a checkpoint when. username links an
-- account when the person has one; name is what the roster shows.
CREATE TABLE checkpoint_shifts (
	id            {{id}},
	checkpoint_id BIGINT NOT NULL REFERENCES checkpoints (id),
	name          TEXT NOT NULL,
	username      TEXT NOT NULL DEFAULT '',
	post          TEXT NOT NULL DEFAULT '',
	starts_at     BIGINT NOT NULL,
	ends_at       BIGINT NOT NULL,
	created_at    BIGINT NOT NULL,
	created_by    TEXT NOT NULL,
	CHECK (ends_at > starts_at)
);
CREATE INDEX checkpoint_shifts_checkpoint ON checkpoint_shifts (checkpoint_id, ends_at);

-- The scan log. client_id is chosen by the scanning device, so that a scan
-- sent twice (a retry, an offline queue uploaded again) is one row; the
-- verdict is the server's, as of scanned_at for offline scans. pass is what
-- the token said (JSON: pid, kind, masked name, last four ID characters,
-- plate, enterprise, validity), NULL when the token did not verify: one
-- column rather than eight keeps the hot insert cheap.
CREATE TABLE checkpoint_scans (
	id            {{id}},
	checkpoint_id BIGINT NOT NULL REFERENCES checkpoints (id),
	client_id     TEXT NOT NULL,
	pid           TEXT,
	pass          TEXT,
	verdict       TEXT NOT NULL CHECK (verdict IN ('allow', 'deny')),
	reason        TEXT NOT NULL CHECK (reason IN ('ok', 'malformed', 'bad_signature', 'unknown_key', 'not_yet_valid',
	              'expired', 'revoked', 'area_not_allowed', 'checkpoint_not_allowed')),
	scanned_at    BIGINT NOT NULL,
	received_at   BIGINT NOT NULL,
	officer       TEXT NOT NULL,
	offline       BOOLEAN NOT NULL DEFAULT FALSE,
	UNIQUE (checkpoint_id, client_id)
);
CREATE INDEX checkpoint_scans_time ON checkpoint_scans (checkpoint_id, scanned_at);

-- Handovers at transfer points: goods passed from a vehicle from outside
-- to one from inside. The enterprise's name is kept as it was.
CREATE TABLE checkpoint_handovers (
	id              {{id}},
	checkpoint_id   BIGINT NOT NULL REFERENCES checkpoints (id),
	enterprise_key  TEXT NOT NULL,
	enterprise_name TEXT NOT NULL,
	goods           TEXT NOT NULL,
	quantity        DOUBLE PRECISION NOT NULL CHECK (quantity > 0),
	unit            TEXT NOT NULL,
	outside_plate   TEXT NOT NULL,
	inside_plate    TEXT NOT NULL,
	handed_at       BIGINT NOT NULL,
	recorded_at     BIGINT NOT NULL,
	recorded_by     TEXT NOT NULL
);
CREATE INDEX checkpoint_handovers_time ON checkpoint_handovers (handed_at);
CREATE INDEX checkpoint_handovers_checkpoint ON checkpoint_handovers (checkpoint_id, handed_at);

-- Traffic-control measures. A measure is in force at t when it is not
-- cancelled, effective_from <= t and (effective_to IS NULL or t <
-- effective_to); a notice lifting it sets effective_to to its publication.
CREATE TABLE traffic_measures (
	id             {{id}},
	kind           TEXT NOT NULL CHECK (kind IN ('closure', 'restriction', 'emergency_lane')),
	target         TEXT NOT NULL,
	target_kind    TEXT NOT NULL CHECK (target_kind IN ('road', 'bridge', 'area')),
	area_code      TEXT NOT NULL REFERENCES areas (code),
	area_path      TEXT NOT NULL,
	description    TEXT NOT NULL DEFAULT '',
	effective_from BIGINT NOT NULL,
	effective_to   BIGINT,
	status         TEXT NOT NULL CHECK (status IN ('active', 'lifted', 'cancelled')),
	version        INTEGER NOT NULL DEFAULT 1,
	created_at     BIGINT NOT NULL,
	created_by     TEXT NOT NULL,
	updated_at     BIGINT NOT NULL,
	updated_by     TEXT NOT NULL,
	CHECK (effective_to IS NULL OR effective_to >= effective_from)
);
CREATE INDEX traffic_measures_from ON traffic_measures (effective_from);

CREATE TABLE traffic_notices (
	id           {{id}},
	number       TEXT NOT NULL UNIQUE,
	title        TEXT NOT NULL,
	body         TEXT NOT NULL,
	area_code    TEXT NOT NULL REFERENCES areas (code),
	area_path    TEXT NOT NULL,
	published_at BIGINT NOT NULL,
	created_at   BIGINT NOT NULL,
	created_by   TEXT NOT NULL
);
CREATE INDEX traffic_notices_published ON traffic_notices (published_at);

-- What each notice did: the measures it started and the ones it lifted.
CREATE TABLE traffic_notice_measures (
	notice_id  BIGINT NOT NULL REFERENCES traffic_notices (id),
	measure_id BIGINT NOT NULL REFERENCES traffic_measures (id),
	action     TEXT NOT NULL CHECK (action IN ('start', 'lift')),
	PRIMARY KEY (notice_id, measure_id)
);
CREATE INDEX traffic_notice_measures_measure ON traffic_notice_measures (measure_id);
