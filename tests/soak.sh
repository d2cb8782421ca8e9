#!/bin/sh
# make soak: mailsift live as a sensor runs for weeks, compressed into
# SOAK_S seconds (default 600) on the loopback of a network namespace
# made for it: distinct messages about five a second, --rotate every
# minute with -w, --json-dir and --metrics, the file in use moved away
# and SIGHUP three times, one SIGKILL and a restart, and the log's tmpfs
# full for 15 s.  Then: every message sent outside the full disk's
# window and the kill's second is in exactly one log, no temporary file
# is left, every run is closed, every frame is in the file its log
# names, the JSON logs hold each session once, memory stayed flat.
#   tests/soak.sh            runs itself inside new namespaces
B=${B:-$(pwd)/build/soak}
BIN=${BIN:-./mailsift}
T=${SOAK_S:-600}
ROT=${SOAK_ROTATE:-1m}

if [ "$1" != "--inside" ]; then
	[ "$(id -u)" = 0 ] || { echo "soak: skipped: not root"; exit 0; }
	rm -rf "$B"; mkdir -p "$B"
	exec unshare -n -m env PATH="$PATH:/usr/sbin:/sbin" B="$B" BIN="$BIN" \
		SOAK_S="$T" SOAK_ROTATE="$ROT" sh "$0" --inside
fi

pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "  expected: $3"; echo "  got:      $2"; fi; }
MAIL=tests/tools/livemail.py
D=$B/log
now() { date +%s.%N | cut -c1-14; }

ip link set lo up
python3 "$MAIL" serve 25 & srv=$!
mkdir -p "$D"; mount -t tmpfs -o size=256m tmpfs "$D"; chown nobody "$D"
trap 'kill $srv $gen 2>/dev/null; umount "$D" 2>/dev/null' EXIT

start() {
	"$BIN" live -i lo -o "$D/live.db" -w "$D/live.pcap" --rotate "$ROT" \
		--json-dir "$D/json" --metrics "$D/m.prom" --status 10 2>>"$B/live.err" & pid=$!
	for _ in $(seq 50); do
		[ "$(grep -c 'capturing on' "$B/live.err")" -ge "$1" ] && return
		sleep 0.2
	done
	bad "did not start"; cat "$B/live.err"; exit 1
}
at() { # wait until $1 seconds into the run
	while [ "$(echo "$(now) < $t0 + $1" | bc)" = 1 ]; do sleep 0.2; done
}
rss() { awk '/^VmRSS/ { print $2 }' /proc/$pid/status; }

start 1
t0=$(now)
python3 "$MAIL" stream 25 $((T - 10)) "$B" & gen=$!
at $((T / 10)); rss1=$(rss)
for k in 15 25 35; do # logrotate's way: moved, then SIGHUP
	at $((T * k / 100))
	cur=$(readlink "$D/live.db")
	for x in "" -wal -shm; do mv "$D/$cur$x" "$D/moved$k.db$x" 2>/dev/null; done
	kill -HUP "$pid"
done
at $((T * 45 / 100)); rss2=$(rss)
at $((T / 2))
kill_at=$(now); kill -KILL "$pid"; wait "$pid" 2>/dev/null
start 2
restart_at=$(now)
at $((T * 70 / 100))
full_from=$(now)
dd if=/dev/zero of="$D/filler" bs=1M 2>/dev/null
sleep 15
rm -f "$D/filler"; full_to=$(now)
wait $gen
sleep 3
rss3=$(rss)
kill -TERM "$pid"; wait "$pid"; rc=$?

check "a clean stop after all of it (exit 1: the full disk lost messages)" "$rc" 1
# which messages had to be kept: not in flight at the kill (until the
# restart, and the second before it whose rows were not committed) and
# not during the full disk (from the last commit before it filled, the
# log commits every second, to 3 s after room came back)
awk -v k0="$kill_at" -v k1="$restart_at" -v f0="$full_from" -v f1="$full_to" \
	'!($2 >= k0 - 1.5 && $1 <= k1) && !($2 >= f0 - 1.5 && $1 <= f1 + 3) { print $3 }' \
	"$B/stream.sha256" | sort >"$B/must.sha256"
for f in "$D"/live-*.db "$D"/moved*.db; do
	sqlite3 "$f" "SELECT m.sha256 FROM messages m JOIN sessions s ON s.id = m.session_id WHERE m.complete AND coalesce(s.end_reason, '') <> 'rotated'"
done | sort >"$B/logged.sha256"
sent=$(wc -l <"$B/stream.sha256")
echo "soak: $sent messages sent in $T s, $(wc -l <"$B/must.sha256") outside the kill and the full disk, $(ls "$D"/live-*.db "$D"/moved*.db | wc -l) log files"
check "every message outside the kill and the full disk is logged" \
	"$(comm -23 "$B/must.sha256" "$B/logged.sha256" | wc -l)" 0
check "no message is in two logs" "$(uniq -d "$B/logged.sha256" | wc -l)" 0
check "SIGHUP three times: said, the moved files kept" \
	"$(grep -c 'closed, going on in' "$B/live.err" | awk '{ print ($1 >= 3) }')|$(ls "$D"/moved*.db | wc -l)" "1|3"
check "no temporary file left" \
	"$(find "$D" -name 'tmp-*' -o -name '*.carry' -o -name '*.tmp-*' | wc -l)" 0
check "every run closed" \
	"$(for f in "$D"/live-*.db "$D"/moved*.db; do sqlite3 "$f" "SELECT id FROM runs WHERE finished IS NULL"; done | wc -l)" 0
check "the killed run: closed with -1" \
	"$(for f in "$D"/live-*.db "$D"/moved*.db; do sqlite3 "$f" "SELECT status FROM runs WHERE status = -1"; done | sort -u)" "-1"
bad_frames=0
# (a -w file the full disk cut is on record as damaged: its frames past
# the cut are not there, and it says so)
for f in "$D"/live-*.db "$D"/moved*.db; do
	sqlite3 "$f" "SELECT path FROM captures WHERE damaged"
done >"$B/damaged"
for f in "$D"/live-*.db "$D"/moved*.db; do
	sqlite3 -separator ' ' "$f" "SELECT coalesce(last_capture_file, capture_file), max(last_frame) FROM sessions WHERE last_frame IS NOT NULL GROUP BY 1"
done | grep -v -F -f "$B/damaged" | while read -r file frame; do
	have=$(capinfos -c -M "$file" 2>/dev/null | awk '/Number of packets/ { print $NF }')
	[ -n "$have" ] && [ "$frame" -le "$have" ] || echo "$file $frame $have"
done >"$B/frames.bad"
check "every frame is in the file its log names (the full disk's cut -w file on record as damaged)" \
	"$(wc -l <"$B/frames.bad")|$(wc -l <"$B/damaged" | awk '{ print ($1 >= 1) }')|$(grep -c 'the -w file .* is cut' "$B/live.err" | awk '{ print ($1 >= 1) }')" "0|1|1"
check "JSON: each session streamed once" \
	"$(cat "$D"/json/smtp*.log | python3 -c 'import json,sys; u=[json.loads(l)["uid"] for l in sys.stdin]; print(len(u) - len(set(u)))')" 0
echo "soak: RSS $rss1 kB at 10%, $rss2 kB at 45%, $rss3 kB at the end"
[ "$rss3" -lt $((rss1 * 2)) ] && ok "memory flat (under twice the 10% figure)" || bad "memory grew"
echo "soak: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
