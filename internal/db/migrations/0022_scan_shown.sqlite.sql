-- What a scanned code showed, kept once for all its scans. Every scan row
-- carried the pass's (or resident code's) masked content as JSON, some
-- 190 of its 300 bytes, the same for every scan of that pass: the journal's
-- loader bound it, wrote it into the log's pages and the write-ahead log,
-- and the checkpointer copied it again. Inserting 300,000 rows as the
-- loader does cost 5.5–7.2 µs of CPU a row with it and 4.6–5.8 with an
-- integer in its place. The content now lives in scan_shown, once for
-- each distinct text (found by its text: an index), and a scan refers to
-- it (shown_id). Two writers storing the same new text at once may each
-- add a row: both are right, the scans of either read the same.
CREATE TABLE scan_shown (
	id   {{id}},
	body TEXT NOT NULL
);
CREATE INDEX scan_shown_body ON scan_shown (body);
INSERT INTO scan_shown (body) SELECT DISTINCT pass FROM checkpoint_scans WHERE pass IS NOT NULL ORDER BY pass;
ALTER TABLE checkpoint_scans ADD COLUMN shown_id BIGINT REFERENCES scan_shown (id);
UPDATE checkpoint_scans SET shown_id = (SELECT v.id FROM scan_shown v WHERE v.body = checkpoint_scans.pass) WHERE pass IS NOT NULL;
ALTER TABLE checkpoint_scans DROP COLUMN pass;
