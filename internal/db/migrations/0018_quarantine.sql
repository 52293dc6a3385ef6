-- Quarantine (集中隔离 and 居家隔离): central quarantine sites and their
-- rooms, the persons quarantined, their stays (central or at home), the
-- rooms they were in and when, tests during a stay, and the daily checks
-- of home quarantine. Times are Unix milliseconds; days are YYYY-MM-DD in
-- Asia/Shanghai.

-- The rules that give a stay its planned release: days in central
-- quarantine and at home by category, and the days of a home stay on
-- which its person is tested (1 is the first day). The rows below are the
-- defaults an installation starts with; holders of quarantine.central
-- change them (audited). A stay keeps the release and test days it was
-- given when it began.
CREATE TABLE quarantine_rules (
	category     TEXT PRIMARY KEY CHECK (category IN ('close_contact', 'secondary_contact', 'inbound', 'other')),
	central_days INTEGER NOT NULL CHECK (central_days BETWEEN 1 AND 60),
	home_days    INTEGER NOT NULL CHECK (home_days BETWEEN 1 AND 60),
	home_tests   TEXT NOT NULL DEFAULT '',
	updated_at   BIGINT NOT NULL DEFAULT 0,
	updated_by   TEXT NOT NULL DEFAULT ''
);
INSERT INTO quarantine_rules (category, central_days, home_days, home_tests) VALUES
	('close_contact', 5, 3, '1,3'),
	('secondary_contact', 7, 7, '1,4,7'),
	('inbound', 5, 3, '1,3'),
	('other', 7, 7, '1,4,7');

-- A central quarantine site (a hotel, a cabin hospital) in an area.
-- capacity is the persons it may hold at once.
CREATE TABLE quarantine_sites (
	id         {{id}},
	name       TEXT NOT NULL,
	place      TEXT NOT NULL DEFAULT '',
	area_code  TEXT NOT NULL REFERENCES areas (code),
	area_path  TEXT NOT NULL,
	capacity   INTEGER NOT NULL CHECK (capacity >= 0),
	status     TEXT NOT NULL CHECK (status IN ('open', 'closed')),
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX quarantine_sites_area ON quarantine_sites (area_path);

CREATE TABLE quarantine_rooms (
	id         {{id}},
	site_id    BIGINT NOT NULL REFERENCES quarantine_sites (id),
	number     TEXT NOT NULL,
	floor      INTEGER NOT NULL DEFAULT 0,
	beds       INTEGER NOT NULL CHECK (beds BETWEEN 1 AND 20),
	created_at BIGINT NOT NULL,
	UNIQUE (site_id, number)
);

-- A person quarantined: a resident of the household register
-- (resident_id and resident_code, the testing module's) or someone from
-- outside it, whose name, ID number and phone are sealed (pii.Box), with
-- the ID number's blind index to find them again.
CREATE TABLE quarantine_persons (
	id             {{id}},
	resident_id    BIGINT UNIQUE,
	resident_code  TEXT NOT NULL DEFAULT '',
	community_code TEXT NOT NULL DEFAULT '',
	name_masked    TEXT NOT NULL,
	name_enc       {{blob}},
	id_enc         {{blob}},
	id_idx         TEXT UNIQUE,
	id4            TEXT NOT NULL DEFAULT '',
	phone_enc      {{blob}},
	created_at     BIGINT NOT NULL,
	CHECK (resident_id IS NOT NULL OR id_idx IS NOT NULL)
);

-- A stay in quarantine, central or at home; a person has at most one
-- stay not ended. area_path is where it is kept: the site's area (the
-- current site's) or the home's community. A home stay has its
-- household's address and the days it is tested on (test_days).
CREATE TABLE quarantine_stays (
	id          {{id}},
	person_id   BIGINT NOT NULL REFERENCES quarantine_persons (id),
	kind        TEXT NOT NULL CHECK (kind IN ('central', 'home')),
	category    TEXT NOT NULL CHECK (category IN ('close_contact', 'secondary_contact', 'inbound', 'other')),
	site_id     BIGINT REFERENCES quarantine_sites (id),
	room_id     BIGINT REFERENCES quarantine_rooms (id),
	area_code   TEXT NOT NULL REFERENCES areas (code),
	area_path   TEXT NOT NULL,
	household_id BIGINT,
	address     TEXT NOT NULL DEFAULT '',
	test_days   TEXT NOT NULL DEFAULT '',
	starts_at   BIGINT NOT NULL,
	planned_end BIGINT NOT NULL,
	ended_at    BIGINT,
	end_reason  TEXT CHECK (end_reason IN ('completed', 'hospital', 'other')),
	end_note    TEXT NOT NULL DEFAULT '',
	note        TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	created_by  TEXT NOT NULL,
	ended_by    TEXT NOT NULL DEFAULT '',
	CHECK (planned_end > starts_at),
	CHECK (ended_at IS NULL OR ended_at >= starts_at)
);
CREATE UNIQUE INDEX quarantine_stays_open ON quarantine_stays (person_id) WHERE ended_at IS NULL;
CREATE INDEX quarantine_stays_area ON quarantine_stays (kind, area_path, starts_at);
CREATE INDEX quarantine_stays_site ON quarantine_stays (site_id);

-- Who was in which room when: a central stay's admission opens its first
-- placement, a transfer ends one (end_kind 'transfer') and opens the
-- next, a release ends the last. Occupancy at a moment T is the
-- placements with from_at <= T < to_at (or not ended).
CREATE TABLE quarantine_placements (
	id         {{id}},
	stay_id    BIGINT NOT NULL REFERENCES quarantine_stays (id),
	site_id    BIGINT NOT NULL REFERENCES quarantine_sites (id),
	room_id    BIGINT NOT NULL REFERENCES quarantine_rooms (id),
	from_at    BIGINT NOT NULL,
	to_at      BIGINT,
	end_kind   TEXT CHECK (end_kind IN ('transfer', 'release')),
	note       TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL,
	CHECK (to_at IS NULL OR to_at >= from_at)
);
CREATE INDEX quarantine_placements_room ON quarantine_placements (room_id, from_at);
CREATE INDEX quarantine_placements_site ON quarantine_placements (site_id, from_at);
CREATE INDEX quarantine_placements_stay ON quarantine_placements (stay_id);

-- A test during a stay: one a day, its result recorded by hand (the
-- testing module's results later).
CREATE TABLE quarantine_tests (
	stay_id     BIGINT NOT NULL REFERENCES quarantine_stays (id),
	day         TEXT NOT NULL,
	result      TEXT NOT NULL CHECK (result IN ('negative', 'positive', 'pending')),
	note        TEXT NOT NULL DEFAULT '',
	recorded_at BIGINT NOT NULL,
	recorded_by TEXT NOT NULL,
	PRIMARY KEY (stay_id, day)
);

-- The daily check of a home stay a community worker records: done (with
-- temperature in tenths of a degree, contact made, the door seal intact)
-- or missed with a reason. area_path is the stay's, for the lists.
CREATE TABLE quarantine_checks (
	stay_id      BIGINT NOT NULL REFERENCES quarantine_stays (id),
	day          TEXT NOT NULL,
	area_path    TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('done', 'missed')),
	temp_tenths  INTEGER,
	contacted    BOOLEAN NOT NULL DEFAULT FALSE,
	seal_intact  BOOLEAN NOT NULL DEFAULT FALSE,
	reason       TEXT NOT NULL DEFAULT '',
	recorded_at  BIGINT NOT NULL,
	recorded_by  TEXT NOT NULL,
	PRIMARY KEY (stay_id, day)
);
CREATE INDEX quarantine_checks_day ON quarantine_checks (day, area_path);
