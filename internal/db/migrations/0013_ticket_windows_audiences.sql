-- Deadline windows and category audiences (issue 11, items 7 and 12).
--
-- respond_from and resolve_from are when the running respond-by and
-- resolve-by deadlines started (filing, an escalation that missed them, a
-- reopening), so that pages and the API colour a deadline by the share of
-- its time left. Existing tickets take their last escalation or reopening
-- that reset the deadline, else their filing time.
ALTER TABLE tickets ADD COLUMN respond_from BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN resolve_from BIGINT NOT NULL DEFAULT 0;
UPDATE tickets SET
	respond_from = COALESCE((SELECT MAX(s.at) FROM (
		SELECT e.at FROM ticket_escalations e WHERE e.ticket_id = tickets.id AND e.reason IN ('respond', 'both')
		UNION ALL
		SELECT v.at FROM ticket_events v WHERE v.ticket_id = tickets.id AND v.kind = 'transition' AND v.to_status = 'reopened'
		AND tickets.responded_at IS NULL) s), created_at),
	resolve_from = COALESCE((SELECT MAX(s.at) FROM (
		SELECT e.at FROM ticket_escalations e WHERE e.ticket_id = tickets.id AND e.reason IN ('resolve', 'both')
		UNION ALL
		SELECT v.at FROM ticket_events v WHERE v.ticket_id = tickets.id AND v.kind = 'transition' AND v.to_status = 'reopened') s),
		created_at);

-- Who a category is offered to: residents (the public help form), enterprises
-- (their problems) or both. The seed's enterprise categories stay for
-- enterprises; residents get theirs in their own words, and a new one for
-- getting home. Names an administrator changed are left alone.
ALTER TABLE ticket_categories ADD COLUMN audience TEXT NOT NULL DEFAULT 'all'
	CHECK (audience IN ('all', 'enterprise', 'resident'));
UPDATE ticket_categories SET audience = 'enterprise' WHERE code IN ('logistics', 'materials', 'staff_passes', 'utilities');
UPDATE ticket_categories SET audience = 'resident' WHERE code IN ('medical', 'food', 'elderly_care');
UPDATE ticket_categories SET name = '就医购药', name_en = 'Medical care and medicine' WHERE code = 'medical' AND name = '就医';
UPDATE ticket_categories SET name = '买菜/生活物资', name_en = 'Groceries and daily supplies' WHERE code = 'food' AND name = '生活物资';
UPDATE ticket_categories SET position = 9 WHERE code = 'other' AND position = 8;
INSERT INTO ticket_categories (code, name, name_en, position, active, confirm_after_ms, audience, created_at, updated_at)
	VALUES ('travel_home', '返乡/出行', 'Getting home and travel', 8, TRUE, 259200000, 'resident', 0, 0)
	ON CONFLICT (code) DO NOTHING;
