-- One pass per person and per vehicle at a time: uploads and approvals look
-- up, among every enterprise's passes and the rows of batches awaiting
-- review, the person's ID number (blind index id_idx; passes already have
-- passes_id_idx) or the vehicle's plate.
CREATE INDEX passes_plate ON passes (plate);
CREATE INDEX pass_batch_rows_id_idx ON pass_batch_rows (id_idx);
CREATE INDEX pass_batch_rows_plate ON pass_batch_rows (plate);
