-- Short pass numbers (通行证号): ten digits printed on the card, the last a
-- check digit, that an officer without a camera types instead of the
-- token. Assigned when a pass is issued; passes issued before this
-- migration have none (NULL) and keep only their QR code until renewed.
ALTER TABLE passes ADD COLUMN number TEXT;
CREATE UNIQUE INDEX passes_number ON passes (number);
