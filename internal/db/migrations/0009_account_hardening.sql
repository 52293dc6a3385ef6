-- Account hardening (issue 10).
--
-- API tokens expire. Tokens issued before this migration expire one year
-- after they were issued, the longest a new token may live.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
UPDATE api_tokens SET expires_at = created_at + 31536000000 WHERE expires_at IS NULL;

-- Login throttling is now kept per client address ("addr:IP", a short
-- growing back-off) and per account and address ("acct:IP|NAME", a growing
-- lock), no longer per account alone; the old rows mean nothing any more.
DELETE FROM login_throttle;
