-- Mass testing (全员核酸): the household register of each community,
-- campaigns and their rounds, sampling sites and teams, samples in pooled
-- tubes, exemptions, lab results and retests. Times are Unix milliseconds.

-- A household is a room: community → estate (小区) → building (楼栋) →
-- unit (单元) → room (房号). code is its pseudonymous id, the one its
-- residents' codes carry. members counts its residents in the population
-- (neither moved out nor deceased), kept by the register's writes.
CREATE TABLE testing_households (
	id             {{id}},
	code           TEXT NOT NULL UNIQUE,
	community_code TEXT NOT NULL REFERENCES areas (code),
	area_path      TEXT NOT NULL,
	estate         TEXT NOT NULL,
	building       TEXT NOT NULL,
	unit           TEXT NOT NULL DEFAULT '',
	room           TEXT NOT NULL,
	members        INTEGER NOT NULL DEFAULT 0,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	UNIQUE (community_code, estate, building, unit, room)
);
CREATE INDEX testing_households_place ON testing_households (area_path, estate, building, unit, room);

-- A resident. The name, the ID number and the phone are sealed (pii.Box);
-- id_idx is the ID number's blind index, one resident per person in the
-- city. code is the pseudonymous id of the resident code (居民码).
CREATE TABLE testing_residents (
	id           {{id}},
	code         TEXT NOT NULL UNIQUE,
	household_id BIGINT NOT NULL REFERENCES testing_households (id),
	name_masked  TEXT NOT NULL,
	name_enc     {{blob}} NOT NULL,
	id_enc       {{blob}} NOT NULL,
	id_idx       TEXT NOT NULL UNIQUE,
	id4          TEXT NOT NULL,
	phone_enc    {{blob}},
	phone_idx    TEXT,
	birth_year   INTEGER NOT NULL,
	mobility_impaired BOOLEAN NOT NULL DEFAULT FALSE,
	elderly_alone     BOOLEAN NOT NULL DEFAULT FALSE,
	bedridden         BOOLEAN NOT NULL DEFAULT FALSE,
	infant            BOOLEAN NOT NULL DEFAULT FALSE,
	status       TEXT NOT NULL CHECK (status IN ('present', 'away', 'hospitalized', 'deceased', 'moved_out')),
	status_date  TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX testing_residents_household ON testing_residents (household_id);

-- A campaign tests every resident of an area, in numbered rounds.
CREATE TABLE testing_campaigns (
	id         {{id}},
	name       TEXT NOT NULL,
	area_code  TEXT NOT NULL REFERENCES areas (code),
	area_path  TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL
);
CREATE INDEX testing_campaigns_area ON testing_campaigns (area_path);

CREATE TABLE testing_rounds (
	id          {{id}},
	campaign_id BIGINT NOT NULL REFERENCES testing_campaigns (id),
	number      INTEGER NOT NULL,
	starts_at   BIGINT NOT NULL,
	ends_at     BIGINT NOT NULL,
	mode        TEXT NOT NULL CHECK (mode IN ('sites', 'door', 'both')),
	closed_at   BIGINT,
	closed_by   TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	created_by  TEXT NOT NULL,
	UNIQUE (campaign_id, number),
	CHECK (ends_at > starts_at)
);

-- The areas a round covers (each a subtree).
CREATE TABLE testing_round_areas (
	round_id  BIGINT NOT NULL REFERENCES testing_rounds (id),
	area_code TEXT NOT NULL REFERENCES areas (code),
	area_path TEXT NOT NULL,
	PRIMARY KEY (round_id, area_code)
);

CREATE TABLE testing_sites (
	id          {{id}},
	campaign_id BIGINT NOT NULL REFERENCES testing_campaigns (id),
	name        TEXT NOT NULL,
	place       TEXT NOT NULL DEFAULT '',
	area_code   TEXT NOT NULL REFERENCES areas (code),
	area_path   TEXT NOT NULL,
	hours       TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	created_by  TEXT NOT NULL
);
CREATE INDEX testing_sites_campaign ON testing_sites (campaign_id);

-- Teams of collectors: community workers, volunteers, medical staff, each
-- an account. A member samples residents of the team's area.
CREATE TABLE testing_teams (
	id          {{id}},
	campaign_id BIGINT NOT NULL REFERENCES testing_campaigns (id),
	name        TEXT NOT NULL,
	area_code   TEXT NOT NULL REFERENCES areas (code),
	area_path   TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	created_by  TEXT NOT NULL
);
CREATE INDEX testing_teams_campaign ON testing_teams (campaign_id);

CREATE TABLE testing_team_members (
	team_id  BIGINT NOT NULL REFERENCES testing_teams (id),
	username TEXT NOT NULL REFERENCES users (username),
	kind     TEXT NOT NULL CHECK (kind IN ('community_worker', 'volunteer', 'medical')),
	PRIMARY KEY (team_id, username)
);
CREATE INDEX testing_team_members_user ON testing_team_members (username);

-- A tube: its barcode is printed, unique in the city; it holds at most
-- pool_size samples. result is the lab's, once known.
CREATE TABLE testing_tubes (
	id          {{id}},
	barcode     TEXT NOT NULL UNIQUE,
	round_id    BIGINT NOT NULL REFERENCES testing_rounds (id),
	pool_size   INTEGER NOT NULL CHECK (pool_size IN (1, 5, 10, 20)),
	filled      INTEGER NOT NULL,
	result      TEXT CHECK (result IN ('negative', 'positive', 'invalid')),
	lab         TEXT NOT NULL DEFAULT '',
	result_at   BIGINT,
	received_at BIGINT,
	CHECK (filled >= 0 AND filled <= pool_size)
);
CREATE INDEX testing_tubes_round ON testing_tubes (round_id, result);

-- A sample: one resident in one round, once, and once more for each
-- retest (retest_id). client_id is the collecting device's, so that a
-- sample sent twice is one row.
CREATE TABLE testing_samples (
	id           {{id}},
	round_id     BIGINT NOT NULL REFERENCES testing_rounds (id),
	resident_id  BIGINT NOT NULL REFERENCES testing_residents (id),
	household_id BIGINT NOT NULL REFERENCES testing_households (id),
	tube_id      BIGINT NOT NULL REFERENCES testing_tubes (id),
	mode         TEXT NOT NULL CHECK (mode IN ('site', 'door')),
	site_id      BIGINT REFERENCES testing_sites (id),
	collector    TEXT NOT NULL,
	client_id    TEXT NOT NULL,
	sampled_at   BIGINT NOT NULL,
	received_at  BIGINT NOT NULL,
	retest_id    BIGINT,
	UNIQUE (round_id, client_id)
);
CREATE UNIQUE INDEX testing_samples_once ON testing_samples (round_id, resident_id) WHERE retest_id IS NULL;
CREATE UNIQUE INDEX testing_samples_retest ON testing_samples (retest_id) WHERE retest_id IS NOT NULL;
CREATE INDEX testing_samples_tube ON testing_samples (tube_id);
-- The samples of a day, for the daily report's figures.
CREATE INDEX testing_samples_day ON testing_samples (sampled_at);

-- Residents a round does not sample, with the reason.
CREATE TABLE testing_exemptions (
	round_id    BIGINT NOT NULL REFERENCES testing_rounds (id),
	resident_id BIGINT NOT NULL REFERENCES testing_residents (id),
	reason      TEXT NOT NULL CHECK (reason IN ('away', 'hospitalized', 'infant', 'deceased')),
	note        TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	created_by  TEXT NOT NULL,
	PRIMARY KEY (round_id, resident_id)
);

-- Coverage kept per round and building, exact in the transaction of every
-- sample and exemption and rebuilt from the register when it changes:
-- households and persons in the population, households all of whose
-- members are sampled or exempt with at least one sampled (hh_sampled) or
-- all exempt (hh_exempt), persons sampled and exempt by reason. A
-- district's coverage is the sum of its buildings' rows.
CREATE TABLE testing_tally (
	round_id       BIGINT NOT NULL REFERENCES testing_rounds (id),
	community_code TEXT NOT NULL REFERENCES areas (code),
	area_path      TEXT NOT NULL,
	estate         TEXT NOT NULL,
	building       TEXT NOT NULL,
	households     INTEGER NOT NULL,
	persons        INTEGER NOT NULL,
	hh_sampled     INTEGER NOT NULL DEFAULT 0,
	hh_exempt      INTEGER NOT NULL DEFAULT 0,
	sampled        INTEGER NOT NULL DEFAULT 0,
	ex_away        INTEGER NOT NULL DEFAULT 0,
	ex_hospitalized INTEGER NOT NULL DEFAULT 0,
	ex_infant      INTEGER NOT NULL DEFAULT 0,
	ex_deceased    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (round_id, area_path, estate, building)
);

-- Per round and household: members sampled and exempt, for the tally.
CREATE TABLE testing_round_households (
	round_id     BIGINT NOT NULL REFERENCES testing_rounds (id),
	household_id BIGINT NOT NULL REFERENCES testing_households (id),
	sampled      INTEGER NOT NULL DEFAULT 0,
	exempt       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (round_id, household_id)
);

-- A resident to sample again in a single tube: every member of a positive
-- pooled tube, and whoever's tube came back invalid. status: open until a
-- new sample of theirs in a single tube gets its result.
CREATE TABLE testing_retests (
	id          {{id}},
	round_id    BIGINT NOT NULL REFERENCES testing_rounds (id),
	resident_id BIGINT NOT NULL REFERENCES testing_residents (id),
	tube_id     BIGINT NOT NULL REFERENCES testing_tubes (id),
	cause       TEXT NOT NULL CHECK (cause IN ('pool_positive', 'invalid')),
	area_path   TEXT NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('open', 'negative', 'positive')),
	created_at  BIGINT NOT NULL,
	done_at     BIGINT,
	UNIQUE (tube_id, resident_id)
);
CREATE INDEX testing_retests_area ON testing_retests (round_id, area_path, status);

-- A resident whose single tube came back positive.
CREATE TABLE testing_positives (
	id          {{id}},
	resident_id BIGINT NOT NULL REFERENCES testing_residents (id),
	tube_id     BIGINT NOT NULL UNIQUE REFERENCES testing_tubes (id),
	round_id    BIGINT NOT NULL REFERENCES testing_rounds (id),
	area_path   TEXT NOT NULL,
	found_at    BIGINT NOT NULL
);
CREATE INDEX testing_positives_area ON testing_positives (area_path);

-- Work groups hold capabilities as departments do (auth.Capability): the
-- testing group's members manage campaigns in the group's area.
ALTER TABLE workgroups ADD COLUMN capabilities TEXT NOT NULL DEFAULT '';
