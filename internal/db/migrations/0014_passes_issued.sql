-- The HQ's home page counts the passes issued today (issue 11, item 2):
-- an index on the moment of issue keeps that one range scan, not a walk
-- over every pass ever issued.
CREATE INDEX passes_issued ON passes (issued_at);
