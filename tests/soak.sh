#!/bin/sh
# make soak: a day of a mail site's traffic in SOAK_S seconds (default
# 600; `make soak SOAK_S=3600` is the hour of doc/testing.md), through
# two sensors on the loopback of a network namespace made for it:
#
#   traffic  the mix of real mail (pcapgen: SMTP, POP3 and IMAP, a third
#            with office files, images, archives), about SOAK_RATE
#            messages a second (5.5: a site of 20,000 messages a day, 24
#            times its real rate), replayed by tcpreplay in loops of
#            about 90 s, each loop a capture of its own (a new seed);
#            beside it, distinct notifications from real SMTP clients to
#            a real server (livemail.py), about five a second;
#   SQLite   mailsift live --rotate by time and by size, -w, --json-dir,
#            --metrics; the file in use moved away and SIGHUP three
#            times, a SIGKILL and a restart, the log's tmpfs full 15 s;
#   Postgres mailsift live --workers 2 into a PostgreSQL server the test
#            starts (when Debian's is installed), the server stopped for
#            30 s and started again, one worker killed with SIGKILL.
#
# Resident memory and open descriptors of every mailsift process are
# sampled every SOAK_SAMPLE seconds (60 from a 20-minute run up) and
# plotted into build/soak/soak.svg, beside build/soak/report.md.  Then:
# every message that crossed outside the SQLite sensor's kill and full
# disk is in exactly one of its logs, every message outside the worker's
# kill is in PostgreSQL once, none is logged twice, nothing is left
# behind, every run is closed, every frame is in the file its log names,
# the JSON logs hold each session once, memory and descriptors stayed
# flat, and every log passes SQLite's integrity and foreign-key checks
# (PostgreSQL: no row without its session or message).
#   tests/soak.sh            runs itself inside new namespaces
B=${B:-$(pwd)/build/soak}
BIN=${BIN:-./mailsift}
T=${SOAK_S:-600}
ROT=${SOAK_ROTATE:-$(( T >= 1200 ? T / 600 : 1 ))m}
ROT_SIZE=${SOAK_ROTATE_SIZE:-$(( T >= 1200 ? 24 : 6 ))M}
RATE=${SOAK_RATE:-5.5}
EVERY=${SOAK_SAMPLE:-$(( T >= 1200 ? 60 : T / 20 ))}
PCAPGEN=${PCAPGEN:-build/rel/tools/pcapgen}

if [ "$1" != "--inside" ]; then
	[ "$(id -u)" = 0 ] || { echo "soak: skipped: not root"; exit 0; }
	rm -rf "$B"; mkdir -p "$B"; chmod 755 "$B"
	exec unshare -n -m env PATH="$PATH:/usr/sbin:/sbin" B="$B" BIN="$BIN" \
		SOAK_S="$T" SOAK_ROTATE="$ROT" SOAK_ROTATE_SIZE="$ROT_SIZE" \
		SOAK_RATE="$RATE" SOAK_SAMPLE="$EVERY" PCAPGEN="$PCAPGEN" \
		sh "$0" --inside
fi

pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "  expected: $3"; echo "  got:      $2"; fi; }
MAIL=tests/tools/livemail.py
SM=tests/tools/soakmix.py
L=$B/log
now() { date +%s.%N | cut -c1-14; }
since() { awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }'; }
at() { # wait until $1 seconds into the run
	while [ "$(echo "$(now) < $t0 + $1" | bc)" = 1 ]; do sleep 0.2; done
}
event() { echo "$(since) $1" >>"$B/events"; }

# The mix: a capture of its own for each loop, and what `read` finds in it.
LOOPS=$((T / 90)); [ "$LOOPS" -ge 2 ] || LOOPS=2
LOOP_S=$(((T - 30) / LOOPS))
PER=$(echo "$RATE * $LOOP_S / 1" | bc)
mkdir -p "$B/mix"
k=1
while [ "$k" -le "$LOOPS" ]; do
	"$PCAPGEN" --mix "$B/mix/$k.pcap" "$PER" $((1000 + 2 * k)) >/dev/null 2>&1 &&
		"$BIN" read -q --no-keep -o "$B/mix/$k.db" "$B/mix/$k.pcap" ||
		{ bad "the mix's loop $k: no capture (make tools?)"; exit 1; }
	k=$((k + 1))
done
mix_bytes=$(cat "$B"/mix/*.pcap | wc -c)
echo "soak: $T s; the mix in $LOOPS loops of $LOOP_S s, $PER messages each ($((mix_bytes >> 20)) MiB in all)"

ip link set lo up
python3 "$MAIL" serve 25 & srv=$!
# the log, its blobs and the -w file on a tmpfs that can be filled
mkdir -p "$L"; chown nobody "$L"
mount -t tmpfs -o size=$((256 + mix_bytes * 3 / 1048576))m tmpfs "$L"; chown nobody "$L"
. tests/tools/pgtmp.sh # pg_init, pg_start, pg_stop, uri, sql (its folder in $D)
PG=0
if pg_init >/dev/null 2>&1 && pg_start && newdb soak; then
	PG=1
	mkdir -p "$B/spool"; chown nobody "$B/spool"
else
	echo "soak: no PostgreSQL server (make test-deps installs it): its sensor is left out"
fi
trap 'kill $srv $gen $rep $smp 2>/dev/null; [ "$PG" = 1 ] && pg_cleanup; umount "$L" 2>/dev/null' EXIT

started() { # file count: wait for the count-th "capturing on" in file
	for _ in $(seq 100); do
		[ "$(grep -c 'capturing on' "$1")" -ge "$2" ] && return
		sleep 0.2
	done
	bad "did not start"; cat "$1"; exit 1
}
start() {
	"$BIN" live -i lo -o "$L/live.db" -w "$L/live.pcap" --rotate "$ROT" \
		--rotate "$ROT_SIZE" --json-dir "$L/json" --metrics "$L/m.prom" \
		--status 10 2>>"$B/live.err" & pid=$!
	echo "$pid" >"$B/sqlite.pid"
	started "$B/live.err" "$1"
}
rss() { awk '/^VmRSS/ { r = $2 } END { print r + 0 }' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
workers() { pgrep -P "$ppid" -x mailsift; }
sample() { # "seconds name rss_kB fds" for each mailsift process
	s=$(since)
	p=$(cat "$B/sqlite.pid")
	echo "$s sqlite $(rss "$p") $(fds "$p")"
	[ "$PG" = 1 ] || return 0
	echo "$s pg-supervisor $(rss "$ppid") $(fds "$ppid")"
	r=0 f=0
	for w in $(workers); do r=$((r + $(rss "$w"))); f=$((f + $(fds "$w"))); done
	echo "$s pg-workers $r $f"
}

start 1
if [ "$PG" = 1 ]; then
	"$BIN" live -i lo -o "$(uri soak)" --workers 2 --spool "$B/spool" \
		--sensor soak --status 10 2>>"$B/pg.err" & ppid=$!
	started "$B/pg.err" 2
fi
t0=$(now)
: >"$B/events"
python3 "$MAIL" stream 25 $((T - 10)) "$B" & gen=$!
( k=1
  while [ "$k" -le "$LOOPS" ]; do
	f=$B/mix/$k.pcap
	mbps=$(echo "scale=3; $(wc -c <"$f") * 8 / $LOOP_S / 1000000" | bc)
	s=$(now)
	# (nanosleep: the default timer spins a core at these rates)
	tcpreplay -q -i lo --timer=nano --mbps "$mbps" "$f" >/dev/null 2>&1
	echo "$k $s $(now)" >>"$B/loops"
	k=$((k + 1))
  done ) & rep=$!
( while :; do sample >>"$B/samples"; sleep "$EVERY"; done ) & smp=$!

at $((T / 10)); rss1=$(rss "$pid"); fds1=$(fds "$pid")
[ "$PG" = 1 ] && { prss1=$(sample | awk '$2 == "pg-workers" { print $3 }'); }
for k in 15 25 35; do # logrotate's way: moved, then SIGHUP
	at $((T * k / 100))
	cur=$(readlink "$L/live.db")
	for x in "" -wal -shm; do mv "$L/$cur$x" "$L/moved$k.db$x" 2>/dev/null; done
	kill -HUP "$pid"; event "SIGHUP"
done
at $((T / 2))
kill_at=$(now); kill -KILL "$pid"; wait "$pid" 2>/dev/null; event "SIGKILL sqlite"
start 2
restart_at=$(now)
if [ "$PG" = 1 ]; then
	at $((T * 60 / 100))
	pg_stop; event "PostgreSQL stopped"
	sleep 30
	pg_start; event "PostgreSQL started"
fi
at $((T * 70 / 100))
full_from=$(now); event "disk full"
dd if=/dev/zero of="$L/filler" bs=1M 2>/dev/null
sleep 15
rm -f "$L/filler"; full_to=$(now); event "room again"
if [ "$PG" = 1 ]; then
	at $((T * 80 / 100))
	wk=$(workers | head -1)
	wk_at=$(now); kill -KILL "$wk"; event "SIGKILL worker"
	started "$B/pg.err" 3
	wk_back=$(now)
fi
wait $gen $rep
sleep 5
sample >>"$B/samples"
rss3=$(rss "$pid"); fds3=$(fds "$pid")
kill $smp
kill -TERM "$pid"; wait "$pid"; rc=$?
if [ "$PG" = 1 ]; then
	prss3=$(sample | awk '$2 == "pg-workers" { print $3 }')
	kill -TERM "$ppid"; wait "$ppid"; prc=$?
fi

# What crossed the wire and when: the notifications as livemail.py
# wrote them, the mix's messages from each loop's replay.
cp "$B/stream.sha256" "$B/sent"
while read -r k s e; do
	python3 "$SM" times "$B/mix/$k.pcap" "$B/mix/$k.db" "$s" "$e"
done <"$B/loops" >>"$B/sent"
sort -k3 "$B/sent" | awk '{ print $3 }' >"$B/sent.sha256"
# which messages had to be kept: not those whose session was in flight
# at the kill (until the restart, and the second before it whose rows
# were not committed: a sensor that comes back in the middle of a POP3
# or IMAP session cannot always tell a reply from a message), and not
# those in flight during the full disk (from the last commit before it
# filled, the log commits every second, to 3 s after room came back).
# Lines are "BEGIN END SHA256 [SESSION_BEGIN]" (a notification is a
# session of its own).
awk -v k0="$kill_at" -v k1="$restart_at" -v f0="$full_from" -v f1="$full_to" \
	'{ sb = NF > 3 ? $4 : $1 }
	 !($2 >= k0 - 1.5 && sb <= k1) && !($2 >= f0 - 1.5 && $1 <= f1 + 3) { print $3 }' \
	"$B/sent" | sort >"$B/must.sha256"
LOGS=$(ls "$L"/live-*.db "$L"/moved*.db)
COMPLETE="m.complete AND NOT m.partial"
for f in $LOGS; do
	sqlite3 "$f" "SELECT m.sha256 FROM messages m JOIN sessions s ON s.id = m.session_id WHERE $COMPLETE AND coalesce(s.end_reason, '') <> 'rotated'"
done | sort >"$B/logged.sha256"
echo "soak: $(wc -l <"$B/sent") messages sent ($(wc -l <"$B/stream.sha256") notifications, the rest the mix), $(wc -l <"$B/must.sha256") outside the kill and the full disk, $(echo "$LOGS" | wc -l) log files"
check "SQLite: every message outside the kill and the full disk is logged" \
	"$(comm -23 "$B/must.sha256" "$B/logged.sha256" | wc -l)" 0
check "SQLite: no message logged twice, none that was not sent" \
	"$(comm -13 "$B/sent.sha256" "$B/logged.sha256" | wc -l)" 0
check "a clean stop after all of it (exit 1: the full disk lost messages)" "$rc" 1
check "SIGHUP three times: said, the moved files kept" \
	"$(grep -c 'closed, going on in' "$B/live.err" | awk '{ print ($1 >= 3) }')|$(ls "$L"/moved*.db | wc -l)" "1|3"
rot_s=$(echo "$ROT" | awk '{ n = $1 + 0; print n * ($1 ~ /h$/ ? 3600 : $1 ~ /m$/ ? 60 : 1) }')
rot_b=$(echo "$ROT_SIZE" | awk '{ print ($1 + 0) * 1048576 }')
by_size=$(for f in $LOGS; do stat -c %s "$f"; done | awk -v b="$rot_b" '$1 >= b' | wc -l)
check "rotation by time and by size (files at least $ROT_SIZE: some; files: about one per $ROT)" \
	"$(echo "$by_size" | awk '{ print ($1 >= 1) }')|$(echo "$LOGS" | wc -l | awk -v n="$((T / rot_s))" '{ print ($1 >= n) }')" "1|1"
check "no temporary file left" \
	"$(find "$L" -name 'tmp-*' -o -name '*.carry' -o -name '*.tmp-*' | wc -l)" 0
check "every run closed" \
	"$(for f in $LOGS; do sqlite3 "$f" "SELECT id FROM runs WHERE finished IS NULL"; done | wc -l)" 0
check "the killed run: closed with -1" \
	"$(for f in $LOGS; do sqlite3 "$f" "SELECT status FROM runs WHERE status = -1"; done | sort -u)" "-1"
# the sums each log keeps as it is written (hosts, stats) are its rows'
# after all of it: rotations, the carries, the kill, the full disk
. tests/sums.sh
check "every log's kept sums are its rows' (rotations, the kill, the full disk)" \
	"$(for f in $LOGS; do sums_as_asked "$f"; done | sort -u)" same
check "every log passes SQLite's integrity and foreign-key checks" \
	"$(for f in $LOGS; do sqlite3 "$f" "PRAGMA integrity_check; PRAGMA foreign_key_check"; done | sort | uniq -c | awk '{ print $2 "x" ($1 > 0) }')" "okx1"
# (a -w file the full disk cut is on record as damaged: its frames past
# the cut are not there, and it says so)
for f in $LOGS; do sqlite3 "$f" "SELECT path FROM captures WHERE damaged"; done >"$B/damaged"
for f in $LOGS; do
	sqlite3 -separator ' ' "$f" "SELECT coalesce(last_capture_file, capture_file), max(last_frame) FROM sessions WHERE last_frame IS NOT NULL GROUP BY 1"
done | grep -v -F -f "$B/damaged" | while read -r file frame; do
	have=$(capinfos -c -M "$file" 2>/dev/null | awk '/Number of packets/ { print $NF }')
	[ -n "$have" ] && [ "$frame" -le "$have" ] || echo "$file $frame $have"
done >"$B/frames.bad"
check "every frame is in the file its log names (the full disk's cut -w file on record as damaged)" \
	"$(wc -l <"$B/frames.bad")|$(wc -l <"$B/damaged" | awk '{ print ($1 >= 1) }')|$(grep -c 'the -w file .* is cut' "$B/live.err" | awk '{ print ($1 >= 1) }')" "0|1|1"
check "JSON: each SMTP transaction streamed once, every line whole" \
	"$(cat "$L"/json/smtp*.log | python3 -c 'import json,sys; u=[(r["uid"], r.get("trans_depth")) for r in map(json.loads, sys.stdin)]; print(len(u) - len(set(u)))')" 0
echo "soak: SQLite sensor RSS $rss1 kB at 10%, $rss3 kB at the end; descriptors $fds1, then $fds3"
[ "$rss3" -lt $((rss1 * 2)) ] && ok "SQLite: memory flat (under twice the 10% figure)" || bad "SQLite: memory grew"
# descriptors follow the messages in flight (a kept message's file, an
# attachment's): at the end, no more than the most before the kill, and
# a few over
fdmax=$(awk -v k="$((T / 2))" '$2 == "sqlite" && $1 < k && $4 > m { m = $4 } END { print m + 0 }' "$B/samples")
[ "$fds3" -le $((fdmax + 8)) ] && ok "SQLite: descriptors flat ($fds3 at the end, at most $fdmax in the first half)" ||
	bad "SQLite: descriptors grew ($fds3 at the end, at most $fdmax in the first half)"

if [ "$PG" = 1 ]; then
	# the worker's kill: what it held in flight is lost, and the
	# kernel's fanout spreads the connections in flight over the
	# workers there are, once when it dies and again when it is back:
	# those are followed from their middle, or lost.  The server's
	# absence loses nothing.
	awk -v k0="$wk_at" -v k1="$wk_back" \
		'{ sb = NF > 3 ? $4 : $1 } !($2 >= k0 - 1.5 && sb <= k1 + 1) { print $3 }' \
		"$B/sent" | sort >"$B/pgmust.sha256"
	sql soak "SELECT sha256 FROM messages WHERE complete = 1 AND partial = 0" | sort >"$B/pglogged.sha256"
	echo "soak: PostgreSQL holds $(wc -l <"$B/pglogged.sha256") messages, $(wc -l <"$B/pgmust.sha256") had to be there"
	check "PostgreSQL: every message outside the worker's kill is there, the server's restart lost none" \
		"$(comm -23 "$B/pgmust.sha256" "$B/pglogged.sha256" | wc -l)" 0
	check "PostgreSQL: no message twice, none that was not sent" \
		"$(comm -13 "$B/sent.sha256" "$B/pglogged.sha256" | wc -l)" 0
	check "PostgreSQL: away and back, said; the worker's death said" \
		"$(grep -c 'PostgreSQL away since' "$B/pg.err" | awk '{ print ($1 >= 1) }')|$(grep -c 'server is back' "$B/pg.err" | awk '{ print ($1 >= 1) }')|$(grep -c 'died (signal 9)' "$B/pg.err")" "1|1|1"
	check "PostgreSQL sensor: a clean stop, its runs closed, the spool emptied" \
		"$prc|$(sql soak "SELECT count(*) FROM runs WHERE finished IS NULL")|$(ls "$B/spool" | wc -l)" "0|0|0"
	check "PostgreSQL: no message without its session, no part without its message" \
		"$(sql soak "SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = m.session_id)")|$(sql soak "SELECT count(*) FROM parts p WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = p.message_id)")" "0|0"
	echo "soak: PostgreSQL workers' RSS $prss1 kB at 10%, $prss3 kB at the end"
	[ "$prss3" -lt $((prss1 * 2)) ] && ok "PostgreSQL workers: memory flat" || bad "PostgreSQL workers: memory grew"
fi

python3 "$SM" plot "$B/samples" "$B/events" "$B/soak.svg"
{
	echo "# Soak: $T s, $(date -u +%Y-%m-%d)"
	echo
	echo "$(wc -l <"$B/sent") messages sent: $(wc -l <"$B/stream.sha256") notifications and the mix in $LOOPS loops of $PER."
	echo "SQLite sensor: $(wc -l <"$B/logged.sha256") logged in $(echo "$LOGS" | wc -l) files, $(wc -l <"$B/must.sha256") had to be."
	[ "$PG" = 1 ] && echo "PostgreSQL sensor: $(wc -l <"$B/pglogged.sha256") logged, $(wc -l <"$B/pgmust.sha256") had to be."
	echo
	echo "| minute | process | RSS (MB) | descriptors |"
	echo "|---|---|---|---|"
	awk '{ printf "| %.0f | %s | %.1f | %d |\n", $1 / 60, $2, $3 / 1024, $4 }' "$B/samples"
	echo
	echo "Events (seconds): $(awk '{ printf "%s%s at %d", (NR > 1 ? "; " : ""), substr($0, index($0, " ") + 1), $1 }' "$B/events")."
	echo
	echo "![resident memory and descriptors](soak.svg)"
} >"$B/report.md"
echo "soak: report in $B/report.md, plot in $B/soak.svg"
if [ "$fail" -gt 0 ]; then # the tmpfs goes with the namespace: its logs kept
	mkdir -p "$B/kept"
	cp -a "$L"/*.db* "$L/json" "$B/kept/" 2>/dev/null
	echo "soak: the logs kept in $B/kept"
fi
echo "soak: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
