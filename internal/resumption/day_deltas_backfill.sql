INSERT INTO resumption_day_deltas (report_date, area_code, sig, reported, resumed, staff_expected, staff_on_site,
	capacity_sum, capacity_n)
SELECT x.report_date, x.area_code, x.sig, SUM(x.d_rep), SUM(x.d_w), SUM(x.d_ex), SUM(x.d_os), SUM(x.d_cap), SUM(x.d_w)
FROM (
	SELECT c.report_date, e.area_code,
		(CASE WHEN e.kind = 'project' THEN 16 ELSE 0 END) + (CASE WHEN e.is_key THEN 32 ELSE 0 END) +
		COALESCE((SELECT SUM(CASE k.category WHEN 'industrial_above_scale' THEN 1 WHEN 'construction_realestate' THEN 2
			WHEN 'trade_catering_above_quota' THEN 4 ELSE 8 END) FROM enterprise_categories k WHERE k.enterprise_id = e.id), 0) AS sig,
		1 - c.prev_rep AS d_rep, c.w - c.prev_w AS d_w, c.ex - c.prev_ex AS d_ex, c.os - c.prev_os AS d_os,
		c.cap - c.prev_cap AS d_cap
	FROM (
		SELECT v.enterprise_id, v.report_date, v.w, v.ex, v.os, v.cap,
			CASE WHEN LAG(v.report_date) OVER u IS NULL THEN 0 ELSE 1 END AS prev_rep,
			COALESCE(LAG(v.w) OVER u, 0) AS prev_w, COALESCE(LAG(v.ex) OVER u, 0) AS prev_ex,
			COALESCE(LAG(v.os) OVER u, 0) AS prev_os, COALESCE(LAG(v.cap) OVER u, 0) AS prev_cap
		FROM (
			SELECT r.enterprise_id, r.report_date,
				CASE WHEN r.status = 'suspended' THEN 0 ELSE 1 END AS w,
				r.staff_expected AS ex, r.staff_on_site AS os,
				CASE WHEN r.status = 'suspended' THEN 0 ELSE r.capacity_pct END AS cap,
				ROW_NUMBER() OVER (PARTITION BY r.enterprise_id, r.report_date ORDER BY r.filed_at DESC, r.id DESC) AS version_rank
			FROM resumption_reports r
		) v
		WHERE v.version_rank = 1
		WINDOW u AS (PARTITION BY v.enterprise_id ORDER BY v.report_date)
	) c
	JOIN enterprises e ON e.id = c.enterprise_id
) x
GROUP BY x.report_date, x.area_code, x.sig;
