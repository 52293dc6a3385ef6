-- Resumption statistics as of a moment read a day's reports in one range
-- scan (resumption.loadUnits) instead of one index probe per enterprise:
-- by report date, then filing time, so versions filed after the moment are
-- skipped inside the index.
CREATE INDEX resumption_reports_day ON resumption_reports (report_date, filed_at);
