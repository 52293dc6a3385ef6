INSERT INTO resumption_day_deltas (report_date, area_code, sig, reported, resumed, staff_expected, staff_on_site,
	capacity_sum, capacity_n, units)
SELECT x.report_date, x.area_code, x.sig, SUM(x.d_rep), SUM(x.d_w), SUM(x.d_ex), SUM(x.d_os), SUM(x.d_cap), SUM(x.d_w),
	SUM(x.d_units)
FROM (
	SELECT c.report_date, e.area_code,
		(CASE WHEN e.kind = 'project' THEN 16 ELSE 0 END) + (CASE WHEN e.is_key THEN 32 ELSE 0 END) +
		COALESCE((SELECT SUM(CASE k.category WHEN 'industrial_above_scale' THEN 1 WHEN 'construction_realestate' THEN 2
			WHEN 'trade_catering_above_quota' THEN 4 WHEN 'services_above_scale' THEN 8 ELSE 0 END)
			FROM enterprise_categories k WHERE k.enterprise_id = e.id), 0) AS sig,
		c.d_rep, c.d_w, c.d_ex, c.d_os, c.d_cap, c.d_units
	FROM (
		SELECT v.enterprise_id, v.report_date, 1 - v.prev_rep AS d_rep, v.w - v.prev_w AS d_w, v.ex - v.prev_ex AS d_ex,
			v.os - v.prev_os AS d_os, v.cap - v.prev_cap AS d_cap, 0 AS d_units
		FROM (
			SELECT l.enterprise_id, l.report_date, l.w, l.ex, l.os, l.cap,
				CASE WHEN LAG(l.report_date) OVER u IS NULL THEN 0 ELSE 1 END AS prev_rep,
				COALESCE(LAG(l.w) OVER u, 0) AS prev_w, COALESCE(LAG(l.ex) OVER u, 0) AS prev_ex,
				COALESCE(LAG(l.os) OVER u, 0) AS prev_os, COALESCE(LAG(l.cap) OVER u, 0) AS prev_cap
			FROM (
				SELECT r.enterprise_id, r.report_date,
					CASE WHEN r.status = 'suspended' THEN 0 ELSE 1 END AS w,
					r.staff_expected AS ex, r.staff_on_site AS os,
					CASE WHEN r.status = 'suspended' THEN 0 ELSE r.capacity_pct END AS cap,
					ROW_NUMBER() OVER (PARTITION BY r.enterprise_id, r.report_date ORDER BY r.filed_at DESC, r.id DESC) AS version_rank
				FROM resumption_reports r
			) l
			WHERE l.version_rank = 1
			WINDOW u AS (PARTITION BY l.enterprise_id ORDER BY l.report_date)
		) v
		UNION ALL
		SELECT id, '', 0, 0, 0, 0, 0, 1 FROM enterprises
	) c
	JOIN enterprises e ON e.id = c.enterprise_id
) x
GROUP BY x.report_date, x.area_code, x.sig;

INSERT INTO resumption_latest (enterprise_id, report_id)
SELECT x.enterprise_id, x.id FROM (
	SELECT r.enterprise_id, r.id,
		ROW_NUMBER() OVER (PARTITION BY r.enterprise_id ORDER BY r.report_date DESC, r.filed_at DESC, r.id DESC) AS latest_rank
	FROM resumption_reports r
) x
WHERE x.latest_rank = 1;
