#!/bin/sh
# Part of tests/postgres.sh, run by it in a network namespace of its own
# (unshare -n): mailsift live on the namespace's loopback writing into
# the private PostgreSQL server of tests/postgres.sh (a Unix socket, so
# reachable from here), which is stopped for 30 s in the middle.
# Environment: B (scratch folder), D (the server's folder), PGBIN, RUN.
set -u
pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "  expected: $3"; echo "  got:      $2"; fi; }
. tests/tools/pgtmp.sh # pg_start, pg_stop, uri, sql: the server in $D
MAIL=tests/tools/livemail.py

ip link set lo up
python3 "$MAIL" serve 25 & srv=$!
trap 'kill $srv 2>/dev/null' EXIT
psql -X -q -d "$(uri postgres)" -c "CREATE DATABASE live" >/dev/null
L=$B/live; rm -rf "$L"; mkdir -p "$L/spool"; chown nobody "$L/spool"
build/san/mailsift live -i lo -o "$(uri live)" --spool "$L/spool" \
	--sensor edge-1 --status 1 2>"$L/err" & pid=$!
for _ in $(seq 50); do
	grep -q "capturing on" "$L/err" 2>/dev/null && break
	sleep 0.2
done
python3 "$MAIL" send 25 3 "$L"
sleep 2
check "live into PostgreSQL: rows there within seconds" \
	"$(sql live "SELECT count(*) FROM messages WHERE complete = 1")" 3
pg_stop
python3 "$MAIL" send 25 3 "$L"
sleep 30
grep -q "PostgreSQL away since" "$L/err" && ok "the server away: said in the log and the status line" ||
	{ bad "the server away: not said"; tail -3 "$L/err"; }
pg_start
python3 "$MAIL" send 25 3 "$L"
sleep 8
grep -q "server is back" "$L/err" && ok "the server back: said" || bad "the server back: not said"
kill -TERM $pid; wait $pid
check "SIGTERM: exit 0" "$?" 0
check "every message once, none lost while the server was away" \
	"$(sql live "SELECT sha256 FROM messages ORDER BY begin_ts" | sort | tr '\n' ' ')" \
	"$(sort "$L/sent.sha256" | tr '\n' ' ')"
check "every session names the sensor" \
	"$(sql live "SELECT DISTINCT sensor FROM sessions")" edge-1
check "the run is closed in the log" \
	"$(sql live "SELECT finished IS NOT NULL, status FROM runs")" "t|0"
check "the spool is gone" "$(ls "$L/spool")" ""
# Two sensors of two workers each, all writing into one database at once,
# each on a veth pair of its own that tcpreplay feeds a different capture:
# every message of its capture once, under its sensor.
psql -X -q -d "$(uri postgres)" -c "CREATE DATABASE fleet" >/dev/null
CAP_a=tests/recorded/dovecot-imap.pcap CAP_b=tests/pcap/demo.pcap
for sn in a b; do
	ip link add "${sn}0" type veth peer name "${sn}1"
	# the recordings were taken on loopback: segments of up to 64 KB
	ip link set "${sn}0" mtu 65535; ip link set "${sn}1" mtu 65535
	ip link set "${sn}0" up; ip link set "${sn}1" up
	eval "cap=\$CAP_$sn"
	./mailsift read -q --replace --no-keep -o "$L/ref-$sn.db" "$cap"
	build/san/mailsift live -i "${sn}1" -o "$(uri fleet)" --spool "$L/spool" \
		--sensor "sensor-$sn" --workers 2 --status 0 2>"$L/fleet-$sn.err" &
	eval "p_$sn=\$!"
done
for _ in $(seq 100); do # every worker capturing
	[ "$(cat "$L"/fleet-a.err "$L"/fleet-b.err 2>/dev/null | grep -c "capturing on")" -ge 4 ] && break
	sleep 0.2
done
tcpreplay -q -i a0 --mbps 100 "$CAP_a" >/dev/null 2>&1 & tr=$!
tcpreplay -q -i b0 --mbps 100 "$CAP_b" >/dev/null 2>&1
wait $tr
want=$(( $(sqlite3 "$L/ref-a.db" "SELECT count(*) FROM messages") + $(sqlite3 "$L/ref-b.db" "SELECT count(*) FROM messages") ))
for _ in $(seq 150); do # all there (a loaded machine is slow)
	[ "$(sql fleet "SELECT count(*) FROM messages")" -ge "$want" ] && break
	sleep 0.2
done
sleep 1 # anything more would be a double
# A worker killed (make soak found a restarted worker's schema step
# deadlocked with the other workers' writes, and the sensor stopped): it
# is started again, finds the schema as this mailsift makes it (marked
# in mailsift_schema's comment) and runs no DDL.
kill -KILL "$(pgrep -P "$p_a" | head -1)"
for _ in $(seq 50); do
	[ "$(grep -c "capturing on" "$L/fleet-a.err")" -ge 3 ] && break
	sleep 0.2
done
check "a worker killed: started again, the schema marked, no stop" \
	"$(grep -c 'died (signal 9); starting it again' "$L/fleet-a.err")|$(grep -c 'capturing on' "$L/fleet-a.err")|$(grep -c 'cannot run' "$L/fleet-a.err")|$(sql fleet "SELECT obj_description('mailsift_schema'::regclass, 'pg_class') LIKE 'mailsift schema %'")" \
	"1|3|0|t"
kill -TERM $p_a $p_b; wait $p_a; ra=$?; wait $p_b; rb=$?
check "two sensors of two workers each on veth pairs: exit 0" "$ra $rb" "0 0"
for sn in a b; do
	check "sensor-$sn: every message of its capture, once" \
		"$(sql fleet "SELECT m.sha256 FROM messages m JOIN sessions s ON s.id = m.session_id WHERE s.sensor = 'sensor-$sn' ORDER BY 1" | tr '\n' ' ')" \
		"$(sqlite3 "$L/ref-$sn.db" "SELECT sha256 FROM messages ORDER BY 1" | tr '\n' ' ')"
done
check "five runs: two a sensor, and the restarted worker's" \
	"$(sql fleet "SELECT sensor, count(*) FROM runs GROUP BY 1 ORDER BY 1" | tr '\n' ' ')" \
	"sensor-a|3 sensor-b|2 "

echo "postgres-live: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
