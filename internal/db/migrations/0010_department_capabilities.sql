-- Department capabilities: what a department's officers may do beyond the
-- tickets routed to it, as a comma-separated sorted list of names
-- (pass_review: review pass batches, set quotas and revoke passes;
-- resumption_manage: manage the resumption registry). Existing
-- departments get none: HQ staff grant them (PUT /api/v1/departments/{code}).
ALTER TABLE departments ADD COLUMN capabilities TEXT NOT NULL DEFAULT '';
