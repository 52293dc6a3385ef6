-- Migration 0020 rewrites the scan log's reason check on SQLite, which
-- builds a temporary b-tree for an IN list of eleven values in every
-- inserted row. PostgreSQL checks the list in place: nothing changes here.
SELECT 1;
