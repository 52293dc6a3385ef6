-- The household register's version: a number every register import adds
-- one to, in its transaction and under the samples' lock. Batches of
-- samples keep the residents they read (masstest/cache_residents.go) and
-- read this number under the same lock: when it moved, another instance
-- (or a command beside the server) imported, and the kept residents are
-- dropped. SQLite's data_version tells another process's commits too;
-- PostgreSQL has nothing like it, so the number is kept here.
CREATE TABLE testing_register_version (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	version BIGINT NOT NULL
);
INSERT INTO testing_register_version (id, version) VALUES (1, 0);
