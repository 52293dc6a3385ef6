-- Why a reviewer did not approve a row of a pass batch: each row left out
-- of an approval needs a reason, which the enterprise's contacts read on
-- the batch page and in their notification. Rows decided before this
-- migration keep an empty reason (a rejected batch's reason is its note).
ALTER TABLE pass_batch_rows ADD COLUMN reason TEXT NOT NULL DEFAULT '';
