-- Enterprise work resumption (复工复产): the registry of enterprises and
-- projects, their daily reports (every version kept), liaisons, power load
-- and prevention plans.

-- A scope's display name and area path, kept with the assignment for scopes
-- that live in module tables (enterprise, checkpoint), resolved by the
-- module when the role is assigned.
ALTER TABLE role_assignments ADD COLUMN scope_name TEXT NOT NULL DEFAULT '';
ALTER TABLE role_assignments ADD COLUMN scope_path TEXT NOT NULL DEFAULT '';

CREATE TABLE enterprises (
	id                {{id}},
	-- ekey is the unified social credit code of an enterprise, or the
	-- project code of a project: the key imports update by.
	ekey              TEXT NOT NULL UNIQUE,
	kind              TEXT NOT NULL CHECK (kind IN ('enterprise', 'project')),
	name              TEXT NOT NULL,
	area_code         TEXT NOT NULL REFERENCES areas (code),
	park              TEXT NOT NULL DEFAULT '',
	is_key            BOOLEAN NOT NULL DEFAULT FALSE,
	employees         INTEGER NOT NULL DEFAULT 0 CHECK (employees >= 0),
	contact_name      TEXT NOT NULL DEFAULT '',
	contact_phone_enc {{blob}},
	contact_phone_idx TEXT,
	closed_loop       BOOLEAN NOT NULL DEFAULT FALSE,
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL
);
CREATE INDEX enterprises_area ON enterprises (area_code);
CREATE INDEX enterprises_park ON enterprises (park);

CREATE TABLE enterprise_categories (
	enterprise_id BIGINT NOT NULL REFERENCES enterprises (id),
	category      TEXT NOT NULL CHECK (category IN ('industrial_above_scale', 'construction_realestate',
	              'trade_catering_above_quota', 'services_above_scale')),
	PRIMARY KEY (enterprise_id, category)
);

-- Every version of every daily report. The report of an enterprise for a
-- date is its latest filed version; "as of T" reads only versions filed at
-- or before T, so later filings never change an earlier answer.
CREATE TABLE resumption_reports (
	id             {{id}},
	enterprise_id  BIGINT NOT NULL REFERENCES enterprises (id),
	report_date    TEXT NOT NULL, -- YYYY-MM-DD, Asia/Shanghai
	status         TEXT NOT NULL CHECK (status IN ('resumed', 'partial', 'suspended')),
	capacity_pct   INTEGER NOT NULL CHECK (capacity_pct BETWEEN 0 AND 100),
	staff_expected INTEGER NOT NULL CHECK (staff_expected >= 0),
	staff_on_site  INTEGER NOT NULL CHECK (staff_on_site >= 0 AND staff_on_site <= staff_expected),
	closed_loop    BOOLEAN NOT NULL DEFAULT FALSE,
	note           TEXT NOT NULL DEFAULT '',
	filed_at       BIGINT NOT NULL,
	filed_by       TEXT NOT NULL
);
CREATE INDEX resumption_reports_latest ON resumption_reports (enterprise_id, report_date, filed_at);

CREATE TABLE liaison_assignments (
	enterprise_id BIGINT NOT NULL REFERENCES enterprises (id),
	user_id       BIGINT NOT NULL REFERENCES users (id),
	created_at    BIGINT NOT NULL,
	PRIMARY KEY (enterprise_id, user_id)
);
CREATE INDEX liaison_assignments_user ON liaison_assignments (user_id);

-- Power load: a baseline per scope ("city_industrial", "park:NAME") and
-- daily maximum loads; recovery = load / baseline.
CREATE TABLE power_baselines (
	scope       TEXT PRIMARY KEY,
	area_code   TEXT NOT NULL REFERENCES areas (code),
	name        TEXT NOT NULL DEFAULT '',
	baseline_kw DOUBLE PRECISION NOT NULL CHECK (baseline_kw > 0),
	reference   TEXT NOT NULL DEFAULT '',
	updated_at  BIGINT NOT NULL
);

CREATE TABLE power_readings (
	id           {{id}},
	scope        TEXT NOT NULL REFERENCES power_baselines (scope),
	reading_date TEXT NOT NULL,
	max_load_kw  DOUBLE PRECISION NOT NULL CHECK (max_load_kw >= 0),
	filed_at     BIGINT NOT NULL,
	filed_by     TEXT NOT NULL
);
CREATE INDEX power_readings_latest ON power_readings (scope, reading_date, filed_at);

-- Prevention plans (一企一策 / 一园一策), versioned, with an uploaded file
-- stored in the data directory by its SHA-256.
CREATE TABLE prevention_plans (
	id           {{id}},
	subject_kind TEXT NOT NULL CHECK (subject_kind IN ('enterprise', 'park')),
	subject      TEXT NOT NULL,
	area_code    TEXT NOT NULL REFERENCES areas (code),
	version      INTEGER NOT NULL,
	title        TEXT NOT NULL,
	file_name    TEXT NOT NULL DEFAULT '',
	media_type   TEXT NOT NULL DEFAULT '',
	file_sha256  TEXT NOT NULL DEFAULT '',
	file_size    BIGINT NOT NULL DEFAULT 0,
	status       TEXT NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'approved', 'rejected')),
	review_note  TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	created_by   TEXT NOT NULL,
	reviewed_at  BIGINT,
	reviewed_by  TEXT NOT NULL DEFAULT '',
	UNIQUE (subject_kind, subject, version)
);
