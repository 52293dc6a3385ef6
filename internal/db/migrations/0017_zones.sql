-- Zones (封控区/管控区/防范区): the HQ's decisions over an area, an estate
-- of a community or a building of an estate, with their history; the
-- proposals a positive single tube makes; exit permits (外出许可) for
-- residents of sealed zones. Times are Unix milliseconds.

-- A zone: level over a target from effective_from. It stops being in force
-- at planned_end (the only automatic end, set by the HQ) or at ended_at,
-- when it was lifted (end_kind 'lifted') or replaced by a zone of another
-- level over the same target (end_kind 'changed', the new zone's
-- previous_id is this one). target_key names the target for the rule that
-- two zones over one target never overlap in time: the area code, the
-- community and estate, or the building key. seq is the change that made
-- the row as it is (zone_seq).
CREATE TABLE zones (
	id               {{id}},
	level            TEXT NOT NULL CHECK (level IN ('sealed', 'controlled', 'guarded')),
	kind             TEXT NOT NULL CHECK (kind IN ('area', 'estate', 'building')),
	area_code        TEXT NOT NULL REFERENCES areas (code),
	area_path        TEXT NOT NULL,
	estate           TEXT NOT NULL DEFAULT '',
	building         TEXT NOT NULL DEFAULT '',
	target_key       TEXT NOT NULL,
	effective_from   BIGINT NOT NULL,
	planned_end      BIGINT,
	ended_at         BIGINT,
	end_kind         TEXT NOT NULL DEFAULT '' CHECK (end_kind IN ('', 'lifted', 'changed')),
	reason           TEXT NOT NULL,
	decision_no      TEXT NOT NULL,
	decided_by       TEXT NOT NULL,
	lift_reason      TEXT NOT NULL DEFAULT '',
	lift_decision_no TEXT NOT NULL DEFAULT '',
	lifted_by        TEXT NOT NULL DEFAULT '',
	previous_id      BIGINT REFERENCES zones (id),
	seq              BIGINT NOT NULL,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	CHECK (planned_end IS NULL OR planned_end > effective_from)
);
CREATE INDEX zones_area ON zones (area_path, effective_from);
CREATE INDEX zones_target ON zones (target_key);
CREATE INDEX zones_seq ON zones (seq);
CREATE UNIQUE INDEX zones_next ON zones (previous_id) WHERE previous_id IS NOT NULL;

-- The buildings an estate or building zone covers, by the key resident
-- codes carry, as the register had them when the zone was decided.
CREATE TABLE zone_buildings (
	zone_id      BIGINT NOT NULL REFERENCES zones (id),
	building_key TEXT NOT NULL,
	building     TEXT NOT NULL,
	PRIMARY KEY (zone_id, building_key)
);

-- A proposal to seal a building, made by a positive single tube: the
-- place and the cause, never the resident. One pending proposal a
-- building: more positives there count in cases.
CREATE TABLE zone_proposals (
	id             {{id}},
	community_code TEXT NOT NULL REFERENCES areas (code),
	area_path      TEXT NOT NULL,
	estate         TEXT NOT NULL,
	building       TEXT NOT NULL,
	building_key   TEXT NOT NULL,
	tube           TEXT NOT NULL,
	round_id       BIGINT NOT NULL,
	cases          INTEGER NOT NULL DEFAULT 1,
	status         TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'declined')),
	zone_id        BIGINT REFERENCES zones (id),
	decline_reason TEXT NOT NULL DEFAULT '',
	decided_by     TEXT NOT NULL DEFAULT '',
	decided_at     BIGINT,
	created_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX zone_proposals_pending ON zone_proposals (building_key) WHERE status = 'pending';
CREATE INDEX zone_proposals_area ON zone_proposals (area_path, status);

-- An exit permit: a resident of a sealed zone may go out from valid_from
-- to valid_to (a medical visit), issued by their community. The resident
-- is the register's, by its pseudonymous code (rid); the masked name is
-- kept for the community's list. A cancelled permit ends at cancelled_at.
CREATE TABLE zone_permits (
	id             {{id}},
	resident_id    BIGINT NOT NULL,
	rid            TEXT NOT NULL,
	name_masked    TEXT NOT NULL,
	community_code TEXT NOT NULL REFERENCES areas (code),
	area_path      TEXT NOT NULL,
	estate         TEXT NOT NULL,
	building       TEXT NOT NULL,
	building_key   TEXT NOT NULL,
	reason         TEXT NOT NULL,
	valid_from     BIGINT NOT NULL,
	valid_to       BIGINT NOT NULL,
	issued_by      TEXT NOT NULL,
	cancelled_at   BIGINT,
	cancelled_by   TEXT NOT NULL DEFAULT '',
	cancel_reason  TEXT NOT NULL DEFAULT '',
	seq            BIGINT NOT NULL,
	created_at     BIGINT NOT NULL,
	CHECK (valid_to > valid_from)
);
CREATE INDEX zone_permits_area ON zone_permits (area_path, valid_to);
CREATE INDEX zone_permits_seq ON zone_permits (seq);

-- The sequence of changes to zones and permits: every change takes the
-- next number in its transaction (UPDATE … RETURNING, which also orders
-- concurrent writers by commit), so that a gate holding the changes up to
-- N asks for those after N.
CREATE TABLE zone_seq (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL
);
INSERT INTO zone_seq (id, seq) VALUES (1, 0);
