-- Placeholder on the branch "passes" only: 0011 belongs to the branch
-- "scan" (pass numbers). Drop this file when merging; 0012 follows 0011.
SELECT 1;
