#!/bin/sh
# Memory stays bounded under traffic built to exhaust it (tests/tools/
# memflood.py): 3,000 connections whose protocol never shows, trading
# 1-byte segments, and 600 mail sessions left open inside DATA and inside
# an IMAP literal that announces 1 GB.  Peak RSS is measured with
# /usr/bin/time -v and must stay under MEMORY_BOUND_MB; the caps that
# were hit say so in the log.
set -u
cd "$(dirname "$0")/.."
B=build/memory
BOUND=${MEMORY_BOUND_MB:-160}
pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "  expected: $3"; echo "  got:      $2"; fi; }
rm -rf "$B"; mkdir -p "$B"
python3 tests/tools/memflood.py "$B/flood.pcap"
/usr/bin/time -v ./mailsift read -q --replace --max-detect-memory 1 \
	-o "$B/flood.db" "$B/flood.pcap" 2>"$B/time.txt"
check "read: exit 0" "$?" "0"
rss=$(awk '/Maximum resident set size/ { print int($6 / 1024) }' "$B/time.txt")
if [ "${rss:-999999}" -lt "$BOUND" ]; then ok "peak RSS ${rss} MB < ${BOUND} MB"
else bad "peak RSS ${rss} MB, bound ${BOUND} MB"; fi
check "every open session logged, its message incomplete" \
	"$(sqlite3 "$B/flood.db" "SELECT count(DISTINCT s.id), count(m.id), sum(m.complete) FROM sessions s JOIN messages m ON m.session_id = s.id")" \
	"600|600|0"
check "the detection budget was hit, and counted" \
	"$(sqlite3 "$B/flood.db" "SELECT detect_over_budget > 0 FROM capture_stats WHERE total")" "1"
check "the text budget was hit, and said" \
	"$(sqlite3 "$B/flood.db" "SELECT count(*) > 0 FROM anomalies WHERE name = 'mime_text_budget'")" "1"
# TLS handshakes that never end, 1,200 at once, each worth a 64 KB
# buffer: the budget all sessions share (32 MiB) holds, and says so.
python3 tests/tools/memflood.py "$B/flood-tls.pcap" tls
/usr/bin/time -v ./mailsift read -q --replace -o "$B/flood-tls.db" \
	"$B/flood-tls.pcap" 2>"$B/time-tls.txt"
check "TLS flood: exit 0" "$?" "0"
rss=$(awk '/Maximum resident set size/ { print int($6 / 1024) }' "$B/time-tls.txt")
if [ "${rss:-999999}" -lt "$BOUND" ]; then ok "TLS flood: peak RSS ${rss} MB < ${BOUND} MB"
else bad "TLS flood: peak RSS ${rss} MB, bound ${BOUND} MB"; fi
check "TLS flood: every session logged, the budget hit and said" \
	"$(sqlite3 "$B/flood-tls.db" "SELECT count(*), (SELECT count(*) > 0 FROM anomalies WHERE name = 'tls_budget') FROM sessions WHERE tls = 'implicit'")" \
	"1200|1"

echo "memory: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
