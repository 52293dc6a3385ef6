-- PLACEHOLDER on branch h15-gate only, so that 0019 has its predecessors:
-- the real file comes from its helper's branch (take theirs at the merge).
SELECT 1;
