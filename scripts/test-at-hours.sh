#!/usr/bin/env bash
# Runs the tests that use the real clock (internal/app: the demo city made
# now, the server, the browser) as if it were each given hour of the day
# in Shanghai, by shifting the zone Go reads for Asia/Shanghai (ZONEINFO,
# a zone file written with zic). The demo and the pages count "today" in
# Shanghai, and two failures of CI came only after an hour of the day: a
# duty roster after 20:00, an exit permit after 17:00.
#
#   scripts/test-at-hours.sh            # at 0, 3, 7, 12, 17, 20 and 23 o'clock
#   scripts/test-at-hours.sh 16 17      # at these hours
#
# Each run starts at the given hour and this minute. The offset is whole
# hours (Shanghai's is: statistics count scans by the hour, and another
# offset would split those hours) and stays ahead of UTC, so that
# Shanghai's date is never behind UTC's, as in life. The other packages'
# tests use fixed instants written with +08:00 and are not run here: a
# zone of another offset moves their expected days, not the code's.
# Needs zic (Debian libc-bin).
set -u
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- 0 3 7 12 17 20 23
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failed=""
for hour in "$@"; do
	off=$(( (10#$hour - 10#$(date -u +%H) + 24) % 24 ))
	zone="$dir/$hour"
	mkdir -p "$zone"
	printf 'Zone Asia/Shanghai %d:00 - X\n' "$off" > "$zone/rules"
	zic -d "$zone" "$zone/rules" || exit 2
	echo "== $(TZ=UTC date -d "+$off hours" +%H:%M) in Shanghai (the zone at UTC+$off)"
	if ! ZONEINFO="$zone" go test -count=1 -timeout 20m ./internal/app/; then
		failed="$failed $hour"
	fi
done
if [ -n "$failed" ]; then
	echo "failed at hours:$failed"
	exit 1
fi
echo "passed at hours: $*"
