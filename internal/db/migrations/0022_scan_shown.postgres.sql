-- What a scanned code showed, kept once for all its scans: see the SQLite
-- text of this migration for why; the steps are the same. The text is
-- found through a hash index here: a b-tree refuses entries over some
-- 2,700 bytes, and a pass's content has no such bound of its own.
CREATE TABLE scan_shown (
	id   {{id}},
	body TEXT NOT NULL
);
CREATE INDEX scan_shown_body ON scan_shown USING hash (body);
INSERT INTO scan_shown (body) SELECT DISTINCT pass FROM checkpoint_scans WHERE pass IS NOT NULL ORDER BY pass;
ALTER TABLE checkpoint_scans ADD COLUMN shown_id BIGINT REFERENCES scan_shown (id);
UPDATE checkpoint_scans s SET shown_id = v.id FROM scan_shown v WHERE v.body = s.pass;
ALTER TABLE checkpoint_scans DROP COLUMN pass;
