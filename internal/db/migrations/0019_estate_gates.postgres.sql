-- Estate gates (两码查验): a checkpoint of kind estate_gate stands at the
-- gate of one estate (小区) of its community (the checkpoint's area) and
-- checks resident codes against the zones in force as well as passes. The
-- scan log gains the zone reasons (zone_sealed, zone_controlled) and
-- records which code was shown: a pass (pid and pass as before) or a
-- resident code (pid is then the resident's pseudonymous id, pass what
-- the code said: masked name, community, building key, the deciding zone).
-- PostgreSQL named the CHECK constraints of 0007 <table>_<column>_check:
-- they are dropped and added anew (0019_estate_gates.sqlite.sql rebuilds
-- the tables instead).
ALTER TABLE checkpoints DROP CONSTRAINT checkpoints_kind_check;
ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_kind_check
	CHECK (kind IN ('bridge', 'road', 'community', 'park_gate', 'transfer_point', 'estate_gate'));
ALTER TABLE checkpoints ADD COLUMN estate TEXT NOT NULL DEFAULT '';
ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_estate_check CHECK ((kind = 'estate_gate') = (estate <> ''));

ALTER TABLE checkpoint_scans DROP CONSTRAINT checkpoint_scans_reason_check;
ALTER TABLE checkpoint_scans ADD CONSTRAINT checkpoint_scans_reason_check
	CHECK (reason IN ('ok', 'malformed', 'bad_signature', 'unknown_key', 'not_yet_valid', 'expired', 'revoked',
	'area_not_allowed', 'checkpoint_not_allowed', 'zone_sealed', 'zone_controlled'));
ALTER TABLE checkpoint_scans ADD COLUMN shown TEXT NOT NULL DEFAULT 'pass'
	CONSTRAINT checkpoint_scans_shown_check CHECK (shown IN ('pass', 'resident'));
