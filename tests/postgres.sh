#!/bin/sh
# mailsift with a PostgreSQL log, against a real server: Debian's
# postgresql, a private cluster started here as an unprivileged user in a
# temporary folder, on a Unix socket only, stopped at the end.
#
#   same log    every shipped, recorded and public capture read into SQLite and
#               into PostgreSQL: every table holds the same rows
#               (tests/pgcompare.py) and every query command prints the
#               same (ids mapped: the server's are run * 2^32 + n);
#   writers     two runs writing at once, each with its sensor;
#   jobs        read --jobs 2 into SQLite and into PostgreSQL: the same
#               log as one job;
#   outage      the server stopped in the middle of a run and started
#               again: nothing lost, nothing twice; stopped at the end:
#               the spool stays and the next run ships it;
#   live        mailsift live, the server stopped for 30 s meanwhile, and
#               two sensors of two workers each on veth pairs fed by
#               tcpreplay (tests/postgres-live.sh, in a network namespace);
#   retention   mailsift_drop_before() drops the month partitions before
#               a date and what belonged to them;
#   upgrade     a version 7 log made before the content tables takes them;
#   refusals    a log of another schema version, a server not there.
set -u
cd "$(dirname "$0")/.."
B=build/postgres
pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "  expected: $3"; echo "  got:      $2"; fi; }
rm -rf "$B"; mkdir -p "$B"

. tests/tools/pgtmp.sh
. tests/tools/freeport.sh
pg_init || { echo "FAIL initdb"; exit 1; }
trap pg_cleanup EXIT INT TERM
pg_start || { echo "FAIL the server did not start"; cat "$D/server.log"; exit 1; }
# ids in the server's terms (run * 2^32 + n) back to the SQLite log's
ids() { python3 -c 'import re,sys; sys.stdout.write(re.sub(r"(?<![0-9A-Za-z])([MF]?)([0-9]{10,})(?![0-9A-Za-z])", lambda m: m.group(1) + str(int(m.group(2)) % (1 << 32)), sys.stdin.read()))'; }

# ------------------------------------------------------------ same log
CAPS="tests/pcap/*.pcap tests/recorded/*.pcap"
KEYS="--keylog tests/recorded/dovecot-tls.keys"
newdb same
# shellcheck disable=SC2086
./mailsift read -q --replace -o "$B/same.db" $KEYS $CAPS
# shellcheck disable=SC2086
./mailsift read -q --spool "$B/spool" --sensor sensor-a -o "$(uri same)" $KEYS $CAPS
check "read into PostgreSQL: exit 0" "$?" 0
out=$(python3 tests/pgcompare.py "$B/same.db" "$(uri same)")
case "$out" in
*"the same") ok "every table holds the same rows ($out)" ;;
*) bad "the tables differ"; echo "$out" ;;
esac
check "the spool is gone once shipped" "$(ls "$B/spool")" ""
check "every session names its sensor" \
	"$(sql same "SELECT DISTINCT sensor FROM sessions")" sensor-a
for c in sessions messages creds attachments tls findings hosts files stats; do
	./mailsift "$c" -d "$B/same.db" --csv --limit 0 2>&1 | ids >"$B/$c.sqlite"
	./mailsift "$c" -d "$(uri same)" --csv --limit 0 2>&1 | ids >"$B/$c.pg"
	if cmp -s "$B/$c.sqlite" "$B/$c.pg"; then ok "mailsift $c: the same on both"
	else bad "mailsift $c differs"; diff "$B/$c.sqlite" "$B/$c.pg" | head -5; fi
done
# --values: a column's values and counts; ties are ordered by each
# backend's collation, so compared as sets
for lv in sessions:server sessions:client sessions:proto messages:from messages:to \
	messages:proto messages:method attachments:type hosts:users \
	findings:finding findings:proto; do
	./mailsift "${lv%%:*}" -d "$B/same.db" --values "${lv#*:}" --csv --limit 0 2>&1 | sort >"$B/values.sqlite"
	./mailsift "${lv%%:*}" -d "$(uri same)" --values "${lv#*:}" --csv --limit 0 2>&1 | sort >"$B/values.pg"
	if [ -s "$B/values.sqlite" ] && cmp -s "$B/values.sqlite" "$B/values.pg"; then ok "mailsift ${lv%%:*} --values ${lv#*:}: the same on both"
	else bad "mailsift ${lv%%:*} --values ${lv#*:} differs"; diff "$B/values.sqlite" "$B/values.pg" | head -5; fi
done
# each_same LISTING OPTION VALUE...: the rows each value keeps, the same
# on both and some (the values that differ, said)
each_same() {
	l=$1 opt=$2 differ=""
	shift 2
	for v; do
		./mailsift "$l" -d "$B/same.db" "$opt" "$v" --csv --limit 0 2>&1 | ids >"$B/each.sqlite"
		./mailsift "$l" -d "$(uri same)" "$opt" "$v" --csv --limit 0 2>&1 | ids >"$B/each.pg"
		[ "$(wc -l <"$B/each.sqlite")" -gt 1 ] && cmp -s "$B/each.sqlite" "$B/each.pg" || differ="$differ $v"
	done
	echo "$differ"
}
check "mailsift findings --finding: each kind the log has, the same on both" \
	"$(each_same findings --finding $(sqlite3 "$B/same.db" "SELECT DISTINCT finding FROM v_tls_findings"))" ""
check "mailsift sessions --anomaly: each the log has, the same on both" \
	"$(each_same sessions --anomaly $(sqlite3 "$B/same.db" "SELECT DISTINCT name FROM anomalies"))" ""
check "mailsift creds --mechanism, --outcome: each the log has, the same on both" \
	"$(each_same creds --mechanism $(sqlite3 "$B/same.db" "SELECT DISTINCT mechanism FROM auth"))|$(each_same creds --outcome $(sqlite3 "$B/same.db" "SELECT DISTINCT outcome FROM auth"))" "|"
check "mailsift sessions and tls --port: each the log has, the same on both" \
	"$(each_same sessions --port $(sqlite3 "$B/same.db" "SELECT DISTINCT server_port FROM sessions"))|$(each_same tls --port $(sqlite3 "$B/same.db" "SELECT DISTINCT server_port FROM v_tls"))" "|"
run=$(sql same "SELECT id FROM runs")
differ=""
for s in $(sqlite3 "$B/same.db" "SELECT id FROM sessions ORDER BY id"); do
	./mailsift show "$s" -d "$B/same.db" 2>&1 | ids >"$B/show.sqlite"
	./mailsift show $((run * 4294967296 + s)) -d "$(uri same)" 2>&1 | ids >"$B/show.pg"
	cmp -s "$B/show.sqlite" "$B/show.pg" || differ="$differ $s"
done
check "mailsift show: every session the same on both" "$differ" ""
./mailsift export --json -d "$B/same.db" -o "$B/json.sqlite"
./mailsift export --json -d "$(uri same)" -o "$B/json.pg"
differ=""
for f in "$B"/json.sqlite/*.log; do
	ids <"$f" >"$B/a.log"
	ids <"$B/json.pg/$(basename "$f")" | cmp -s "$B/a.log" - || differ="$differ $(basename "$f")"
done
check "mailsift export --json: every log the same on both" "$differ" ""
./mailsift extract --all -d "$B/same.db" -o "$B/x.sqlite" >/dev/null 2>&1
./mailsift extract --all -d "$(uri same)" -o "$B/x.pg" >/dev/null 2>&1
list() { (cd "$1" && find . -type f -exec sha256sum {} + | ids | sort); }
n=$(find "$B/x.sqlite" -name '*.eml' | wc -l)
if [ "$n" -gt 0 ] && [ "$(list "$B/x.sqlite")" = "$(list "$B/x.pg")" ]; then
	ok "mailsift extract --all: the same $n messages from the server's blobs"
else bad "mailsift extract --all differs ($n messages from SQLite)"; fi
check "kept bytes are stored once per SHA-256" \
	"$(sql same "SELECT count(*) FROM (SELECT sha256 FROM blobs WHERE chunk = 0 GROUP BY sha256 HAVING count(*) > 1) d")" 0
# a case bundle from the server's log (issue 32): the same messages,
# attachments and session packets as from SQLite's, and it verifies
# against the captures
./mailsift case export -d "$B/same.db" -o "$B/case.sqlite" >/dev/null 2>&1
./mailsift case export -d "$(uri same)" -o "$B/case.pg" >"$B/case.pg.out" 2>&1
check "case export from PostgreSQL: exit 0" "$?" 0
bundle() { (cd "$1" && find messages attachments sessions -type f ! -name '*.txt' -exec sha256sum {} + | cut -d' ' -f1 | sort); }
check "case export: the same files (messages, attachments, packets) as from SQLite" \
	"$(bundle "$B/case.pg" | sha256sum)" "$(bundle "$B/case.sqlite" | sha256sum)"
# shellcheck disable=SC2086
./mailsift case verify "$B/case.pg" $KEYS $CAPS >"$B/case.pg.verify" 2>&1
check "case verify: the bundle from PostgreSQL derives again from the captures" \
	"$?|$(grep -c '^FAIL' "$B/case.pg.verify")" "0|0"
hits() { ./mailsift search "$1" -d "$2" 2>/dev/null | cut -f1 | ids | sort; }
check "mailsift search finds the same messages on both" \
	"$(hits invoice "$(uri same)" | tr '\n' ' ')" "$(hits invoice "$B/same.db" | tr '\n' ' ')"
# (issue 31) the operators, times and one address: the same on both
ip1=$(sqlite3 "$B/same.db" "SELECT client_ip FROM sessions s WHERE EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id) LIMIT 1")
day=$(sqlite3 "$B/same.db" "SELECT date(min(begin_ts), 'unixepoch') FROM messages")
jids() { python3 -c 'import json, sys; [print(json.loads(l)["id"]) for l in sys.stdin]'; }
qdiff=""
for q in 'proto:smtp OR proto:imap' 'NOT proto:smtp' 'invoice OR file:*.doc' \
    "time:$day" "after:${day}T12:00 -proto:pop3" "time:..2030-01-01" "ip:$ip1" "(ip:$ip1 OR from:a) NOT invoice"; do
	a=$(./mailsift search -d "$(uri same)" -n 100000 --json -- "$q" 2>&1 | jids | ids | sort -n | tr '\n' ' ')
	b=$(./mailsift search -d "$B/same.db" -n 100000 --json -- "$q" 2>&1 | jids | ids | sort -n | tr '\n' ' ')
	[ "$a" = "$b" ] && [ -n "$b" ] || qdiff="$qdiff [$q: $a / $b]"
done
check "mailsift search: operators, times and one address find the same on both" "$qdiff" ""
hdiff=""
for l in sessions messages creds tls hosts; do
	a=$(./mailsift $l -d "$(uri same)" --host "$ip1" --csv 2>&1 | ids | sort | md5sum)
	b=$(./mailsift $l -d "$B/same.db" --host "$ip1" --csv 2>&1 | ids | sort | md5sum)
	[ "$a" = "$b" ] || hdiff="$hdiff $l"
done
check "--host with one address (an equality, indexed): the same rows on both" "$hdiff" ""
# text filters are case-blind on both: LIKE in SQLite, ILIKE made of it
# for PostgreSQL (pg_query.c), a value in capitals finding the rows
tdiff=""
for f in "messages --from EXAMPLE" "messages --subject INVOICE" "attachments --name INVOICE" "attachments --name notes.txt" "sessions --user A"; do
	# shellcheck disable=SC2086
	a=$(./mailsift $f -d "$(uri same)" --limit 0 --csv 2>&1 | ids | sort | md5sum)
	# shellcheck disable=SC2086
	b=$(./mailsift $f -d "$B/same.db" --limit 0 --csv 2>&1 | ids | sort | md5sum)
	# shellcheck disable=SC2086
	n=$(./mailsift $f -d "$B/same.db" --limit 0 --csv 2>/dev/null | tail -n +2 | wc -l)
	[ "$a" = "$b" ] && [ "$n" -gt 0 ] || tdiff="$tdiff [$f: $n]"
done
for q in "subject:INVOICE" "from:EXAMPLE.COM" "file:INVOICE.BIN" "user:A"; do
	a=$(./mailsift search -d "$(uri same)" -n 100000 --json -- "$q" 2>&1 | jids | ids | sort -n | tr '\n' ' ')
	b=$(./mailsift search -d "$B/same.db" -n 100000 --json -- "$q" 2>&1 | jids | ids | sort -n | tr '\n' ' ')
	[ "$a" = "$b" ] && [ -n "$b" ] || tdiff="$tdiff [$q: $a / $b]"
done
check "text filters in capitals: the same rows on both, not none" "$tdiff" ""
# a part of an address: SQLite asks its trigram index (message_addrs),
# PostgreSQL's planner has pg_trgm's (the schema made them: the role
# owns the database, and pg_trgm is trusted)
check "pg_trgm's indexes of the addresses are made" \
	"$(sql same "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes WHERE indexname LIKE 'messages\_%\_trgm' AND tablename = 'messages'")" \
	"messages_cc_trgm messages_from_trgm messages_to_trgm"
check "... and the planner takes one for a part of a sender, with no scan allowed" \
	"$(sql same "SET enable_seqscan = off; EXPLAIN SELECT id FROM messages WHERE from_addr ILIKE '%alice@%'" | grep -c 'Index Scan on messages_[a-z0-9_]*from' | sed 's/^[1-9][0-9]*$/used/')" \
	"used"
# the newest first: time and start as the views compute them, indexed
# (messages_time, sessions_start_time; each partition has its own)
check "... and a sort by time or by start reads its index, with no sort allowed" \
	"$(sql same "SET enable_seqscan = off; SET enable_sort = off; EXPLAIN SELECT message_id FROM v_messages ORDER BY time DESC, message_id DESC LIMIT 100" | grep -c 'Index Scan Backward using messages_[a-z0-9_]*datetime' | sed 's/^[1-9][0-9]*$/used/') $(sql same "SET enable_seqscan = off; SET enable_sort = off; EXPLAIN SELECT id FROM v_sessions ORDER BY start DESC, id DESC LIMIT 100" | grep -c 'Index Scan Backward using sessions_[a-z0-9_]*datetime' | sed 's/^[1-9][0-9]*$/used/')" \
	"used used"
# (issue 31) the listings' --query: the same rows on both, beside a filter
ldiff=""
for l in sessions messages attachments urls; do
	for q in 'invoice OR file:*.doc' "NOT proto:smtp" "ip:$ip1"; do
		a=$(./mailsift $l -d "$(uri same)" --query "$q" --limit 0 --csv 2>&1 | ids | sort | md5sum)
		b=$(./mailsift $l -d "$B/same.db" --query "$q" --limit 0 --csv 2>&1 | ids | sort | md5sum)
		[ "$a" = "$b" ] || ldiff="$ldiff [$l: $q]"
	done
done
a=$(./mailsift messages -d "$(uri same)" --query 'invoice OR file:*.doc' --proto smtp --since 2000-01-01 --limit 0 --csv 2>&1 | ids | sort | md5sum)
b=$(./mailsift messages -d "$B/same.db" --query 'invoice OR file:*.doc' --proto smtp --since 2000-01-01 --limit 0 --csv 2>&1 | ids | sort | md5sum)
[ "$a" = "$b" ] || ldiff="$ldiff [messages with filters]"
check "--query on the listings: the same rows on both, with other filters beside it" "$ldiff" ""

# The public captures (when ../shared is there): hostile bytes included.
PUB=../shared/corpus/public
if [ -d "$PUB" ]; then
	newdb pub
	./mailsift read -q --replace -o "$B/pub.db" "$PUB"/*.pcap* "$PUB"/*.cap 2>/dev/null
	./mailsift read -q --spool "$B/spool" -o "$(uri pub)" "$PUB"/*.pcap* "$PUB"/*.cap 2>/dev/null
	out=$(python3 tests/pgcompare.py "$B/pub.db" "$(uri pub)")
	case "$out" in
	*"the same") ok "public captures: the same rows ($out)" ;;
	*) bad "public captures: the tables differ"; echo "$out" ;;
	esac
	# retention: the public captures span years, a partition a month
	old=$(sql pub "SELECT count(*) FROM sessions WHERE start_ts < '2015-01-01'")
	all=$(sql pub "SELECT count(*) FROM sessions")
	sql pub "SELECT mailsift_drop_before('2015-01-01')" >/dev/null
	check "retention: the months before a date dropped, the rest kept" \
		"$(sql pub "SELECT count(*), count(*) FILTER (WHERE start_ts < '2015-01-01') FROM sessions")" \
		"$((all - old))|0"
	check "retention: no header, part or command left of what went" \
		"$(sql pub "SELECT (SELECT count(*) FROM headers h WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = h.message_id)) + (SELECT count(*) FROM parts p WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = p.message_id)) + (SELECT count(*) FROM commands c WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.session_id))")" 0
fi

# ------------------------------------------------------------- writers
newdb two
./mailsift read -q --spool "$B/spool" --sensor one -o "$(uri two)" tests/recorded/dovecot-imap.pcap &
p1=$!
./mailsift read -q --spool "$B/spool" --sensor two -o "$(uri two)" tests/recorded/dovecot-imap.pcap &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
check "two runs writing at once: both exit 0" "$r1 $r2" "0 0"
./mailsift read -q --replace -o "$B/one.db" tests/recorded/dovecot-imap.pcap
n=$(sqlite3 "$B/one.db" "SELECT count(*) FROM messages")
check "each run's messages once, under its sensor" \
	"$(sql two "SELECT s.sensor, count(*) FROM messages m JOIN sessions s ON s.id = m.session_id GROUP BY 1 ORDER BY 1" | tr '|\n' ': ')" \
	"one:$n two:$n "
check "ids unique across the writers" \
	"$(sql two "SELECT count(*) - count(DISTINCT id) FROM messages")" 0

# ---------------------------------------------------------------- jobs
# read --jobs 2: two processes, each its share of the connections, into
# one log; the same sessions, messages and hashes as one (ids differ).
# shellcheck disable=SC2086
./mailsift read -q --replace -j 2 -o "$B/jobs.db" $KEYS $CAPS
check "read --jobs 2 into SQLite: exit 0" "$?" 0
out=$(python3 tests/pgcompare.py --no-ids "$B/same.db" "$B/jobs.db")
case "$out" in
*"the same") ok "read --jobs 2 into SQLite: the same log as one job ($out)" ;;
*) bad "read --jobs 2 into SQLite: the logs differ"; echo "$out" ;;
esac
check "read --jobs 2: its spool is gone" "$(ls "$B/jobs.db.spool" 2>&1)" ""
newdb jobs
# shellcheck disable=SC2086
./mailsift read -q -j 2 --spool "$B/spool" -o "$(uri jobs)" $KEYS $CAPS
out=$(python3 tests/pgcompare.py --no-ids "$B/same.db" "$(uri jobs)")
case "$out" in
*"the same") ok "read --jobs 2 into PostgreSQL: the same log as one job" ;;
*) bad "read --jobs 2 into PostgreSQL: the logs differ"; echo "$out" ;;
esac

# -------------------------------------------------------------- outage
# A capture fed in three parts through a pipe: the server stops after
# the first and starts again before the third.
build/rel/tools/pcapgen --bench "$B/big.pcap" 12 7 2>/dev/null
editcap -F pcap -c 3000 "$B/big.pcap" "$B/part.pcap" >/dev/null
set -- "$B"/part_*.pcap
if [ $# -ge 3 ]; then
	cat "$B/big.pcap" | ./mailsift read -q --replace --no-keep -o "$B/big.db" -
	newdb outage
	{
		cat "$1"; sleep 2; pg_stop
		shift; for p in "$@"; do
			[ "$p" = "$(eval echo \"\${$#}\")" ] && { pg_start; sleep 6; }
			tail -c +25 "$p"; sleep 1
		done
	} | ./mailsift read -q --no-keep --spool "$B/spool" -o "$(uri outage)" - 2>"$B/outage.err"
	check "the server away mid-run: exit 0" "$?" 0
	out=$(python3 tests/pgcompare.py "$B/big.db" "$(uri outage)" sessions messages commands transactions recipients)
	case "$out" in
	*"the same") ok "the server away mid-run: nothing lost, nothing twice" ;;
	*) bad "the server away mid-run: the log differs"; echo "$out"; cat "$B/outage.err" ;;
	esac
	# away at the end: the spool stays, the next run ships it
	newdb later
	{ cat "$B/big.pcap"; pg_stop; } |
		./mailsift read -q --no-keep --spool "$B/spool" -o "$(uri later)" - 2>"$B/later.err"
	rc=$?
	pg_start
	check "the server away at the end: exit 1, the spool kept" \
		"$rc $(ls "$B/spool" | grep -c '\.db$')" "1 1"
	./mailsift read -q --no-keep --spool "$B/spool" -o "$(uri later)" tests/pcap/demo.pcap 2>"$B/later2.err"
	check "the next run ships what waited" \
		"$(sql later "SELECT count(*) FROM messages m JOIN sessions s ON s.id = m.session_id WHERE s.run_id = (SELECT min(id) FROM runs)")" \
		"$(sqlite3 "$B/big.db" "SELECT count(*) FROM messages")"
	check "and the spool is gone" "$(ls "$B/spool" | grep -c '\.db$')" 0
	# a bound on the spool: the server stopped at once, 1 MB of rows,
	# then the sessions that begin are refused, and said so
	newdb bound
	# 120 copies of the captures, some 6 s to read: the spool's bound
	# is looked at once a second, as rows ship (30 copies took 1.4 s,
	# and CI's runs ended before a look found a megabyte waiting)
	ROWS=""; for _ in $(seq 120); do ROWS="$ROWS $CAPS"; done
	# shellcheck disable=SC2086
	./mailsift read -q --replace --no-keep -o "$B/rows.db" $ROWS 2>/dev/null
	all=$(sqlite3 "$B/rows.db" "SELECT count(*) FROM sessions")
	rm -rf "$B/bspool"
	# stopped once the run is in the database (its row made), not at
	# a set time: on a loaded machine the run had not connected yet
	# at 0.3 s, found no server, and spooled everything in its other
	# way (the server away from the start), never refusing
	(for _ in $(seq 200); do
		[ "$(sql bound "SELECT count(*) FROM runs" 2>/dev/null)" = 1 ] && break
		sleep 0.05
	done
	pg_stop) &
	# shellcheck disable=SC2086
	./mailsift read -q --no-keep --spool "$B/bspool" --spool-max 1 \
		-o "$(uri bound)" $ROWS 2>"$B/bound.err"
	rc=$?
	wait
	pg_start
	n=$(sed -n 's/^mailsift: \([0-9]*\) sessions were not logged.*/\1/p' "$B/bound.err")
	check "the spool past --spool-max: exit 1, sessions refused and said" \
		"$rc $([ "${n:-0}" -gt 0 ] && echo said)" "1 said"
	./mailsift read -q --no-keep --spool "$B/bspool" -o "$(uri bound)" tests/pcap/demo.pcap 2>/dev/null
	check "... and every other session logged, once" \
		"$(sql bound "SELECT count(*) FROM sessions WHERE run_id = (SELECT min(id) FROM runs)")" \
		"$((all - ${n:-0}))"
else
	bad "editcap did not split the capture"
fi

# ---------------------------------------------------------------- live
# mailsift live in a network namespace, the server away for 30 s.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
	if unshare -n env PATH="$PATH:/usr/sbin:/sbin" B="$B" D="$D" \
		PGBIN="$PGBIN" RUN="$RUN" sh tests/postgres-live.sh; then
		ok "live: the server away for 30 s lost nothing"
	else bad "live: see above"; fi
else
	echo "skip live: needs root and unshare"
fi

# ------------------------------------------------------------ serve
# mailsift serve over PostgreSQL: the same listings as over SQLite, a
# message's bytes from the server's blobs.
SPORT=$(free_port)
MAILSIFT_TOKEN=postgres-serve-token-0123 ./mailsift serve -d "$(uri same)" --listen "127.0.0.1:$SPORT" 2>"$B/serve.err" & spid=$!
scurl() { curl -s -H "Authorization: Bearer postgres-serve-token-0123" "$@"; }
for _ in $(seq 50); do scurl -o /dev/null "http://127.0.0.1:$SPORT/" && break; sleep 0.1; done
check "serve over PostgreSQL: the sessions listing of SQLite's" \
	"$(scurl "http://127.0.0.1:$SPORT/api/listing/sessions?limit=1000" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
	"$(sqlite3 "$B/same.db" "SELECT count(*) FROM sessions")"
# pages by key (issue 31): the last page and the one before a row, the
# rows of SQLite's log in its order
pids() { python3 -c 'import json, sys; print(" ".join(str(r["id"]) for r in json.load(sys.stdin)))'; }
pk=$(scurl "http://127.0.0.1:$SPORT/api/listing/sessions?limit=1&offset=3" | pids)
check "serve over PostgreSQL: the last page and the page before a row, by key" \
	"$(scurl "http://127.0.0.1:$SPORT/api/listing/messages?limit=3&last=1" | pids | ids)|$(scurl "http://127.0.0.1:$SPORT/api/listing/sessions?limit=2&before=$pk" | pids)" \
	"$(sqlite3 "$B/same.db" "SELECT id FROM (SELECT id FROM messages WHERE partial = 0 ORDER BY id DESC LIMIT 3) ORDER BY id" | tr '\n' ' ' | sed 's/ $//')|$(scurl "http://127.0.0.1:$SPORT/api/listing/sessions?limit=2&offset=1" | pids)"
# sorted pages by key (issue 30): PostgreSQL orders NULL above every
# value where SQLite orders it below; each walk must still give the
# whole selection as the server sorts it, row for row
kw=$(python3 tests/tools/keywalk.py "http://127.0.0.1:$SPORT" postgres-serve-token-0123 2>&1)
check "serve over PostgreSQL: pages by key, sorted by every column both ways, forward and back, and by offset: the whole selection each time" \
	"$(echo "$kw" | grep -c '^differs')|$(echo "$kw" | tail -1 | awk '{ print ($1 >= 200 && $2 == "walks," && $3 >= 40) }')" "0|1"
echo "$kw" | grep '^differs' | head -5
# the findings' totals by kind and protocol (SQLite reads its sums,
# PostgreSQL groups as asked): the rows of each in SQLite's log
check "serve over PostgreSQL: the findings' totals by kind and protocol" \
	"$(for k in $(sqlite3 "$B/same.db" "SELECT DISTINCT finding FROM v_tls_findings ORDER BY 1"); do for p in smtp pop3 imap; do scurl "http://127.0.0.1:$SPORT/api/listing/findings?count=1&finding=$k&proto=$p" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["total"], end=" ")'; done; done)" \
	"$(for k in $(sqlite3 "$B/same.db" "SELECT DISTINCT finding FROM v_tls_findings ORDER BY 1"); do for p in smtp pop3 imap; do printf '%s ' "$(sqlite3 "$B/same.db" "SELECT count(*) FROM v_tls_findings WHERE finding = '$k' AND proto = '$p'")"; done; done)"
# a count of none for a name the log never saw says so there too
check "serve over PostgreSQL: an unseen anomaly's and mechanism's count of none says so" \
	"$(scurl "http://127.0.0.1:$SPORT/api/listing/sessions?anomaly=no_such_thing&count=1" | grep -c '"total":0,"note":"anomaly no_such_thing: no anomaly')|$(scurl "http://127.0.0.1:$SPORT/api/listing/creds?mechanism=gssapi&count=1" | grep -c '"note":"mechanism gssapi')" "1|1"
pmid=$(sql same "SELECT id FROM messages WHERE kept = 1 ORDER BY id LIMIT 1")
check "serve over PostgreSQL: a message's .eml from the blobs" \
	"$(scurl "http://127.0.0.1:$SPORT/message/$pmid.eml" | sha256sum | cut -d' ' -f1)" \
	"$(sql same "SELECT sha256 FROM messages WHERE id = $pmid")"
check "serve over PostgreSQL: the message's parts and header" \
	"$(scurl "http://127.0.0.1:$SPORT/api/message?id=$pmid" | python3 -c 'import json, sys; m = json.load(sys.stdin); print(len(m["headers"]) > 0, "parts" in m)')" \
	"True True"
kill -TERM "$spid"; wait "$spid"

# ------------------------------------------------------------ upgrade
# A version 7 log made before the tables and columns of issue 19: they
# come when a newer mailsift writes to it, and the rows with them.  (Its
# schema statements ran as an earlier build had them: mailsift_schema
# carries no mark of this build's, so they run again.)
newdb early
./mailsift read -q --spool "$B/spool" -o "$(uri early)" tests/pcap/demo.pcap
sql early "DROP TABLE urls, archive_entries, yara_matches, message_auth CASCADE; ALTER TABLE parts DROP COLUMN magic_type CASCADE, DROP COLUMN findings CASCADE, DROP COLUMN sha1 CASCADE, DROP COLUMN archive_password CASCADE; ALTER TABLE messages DROP COLUMN findings CASCADE, DROP COLUMN received_path CASCADE, DROP COLUMN x_originating_ip CASCADE; ALTER TABLE sessions DROP COLUMN n_commands, DROP COLUMN n_messages, DROP COLUMN n_auths; COMMENT ON TABLE mailsift_schema IS NULL" >/dev/null
check "... (the log as the earlier build made it: no urls table)" \
	"$(sql early "SELECT count(*) FROM information_schema.tables WHERE table_name = 'urls'")" "0"
./mailsift read -q -o "$B/links-counts.db" tests/pcap/links.pcap
./mailsift read -q --spool "$B/spool" -o "$(uri early)" tests/pcap/links.pcap 2>"$B/early.err"
check "a log of version 7 made before the content tables: written to, they come" \
	"$?|$(sql early "SELECT count(*) FROM urls")|$(sql early "SELECT count(*) FROM parts p JOIN messages m ON m.id = p.message_id WHERE m.subject = 'Your account is limited' AND p.magic_type IS NOT NULL")" "0|11|2"
check "... and the sessions' counts, shipped with the new run's sessions as their rows count" \
	"$(sql early "SELECT count(*) FROM sessions s WHERE capture_file LIKE '%links.pcap' AND n_commands > 0 AND n_commands = (SELECT count(*) FROM commands c WHERE c.session_id = s.id) AND n_messages = (SELECT count(*) FROM messages m WHERE m.session_id = s.id AND m.partial = 0) AND n_auths = (SELECT count(*) FROM auth a WHERE a.session_id = s.id)")|$(sql early "SELECT count(*) FROM sessions WHERE capture_file LIKE '%links.pcap'")" \
	"$(sqlite3 "$B/links-counts.db" "SELECT count(*) FROM sessions")|$(sqlite3 "$B/links-counts.db" "SELECT count(*) FROM sessions")"

# ------------------------------------------------------------ refusals
newdb old
./mailsift read -q --spool "$B/spool" -o "$(uri old)" tests/pcap/demo.pcap
sql old "UPDATE mailsift_schema SET version = 6" >/dev/null
msg=$(./mailsift read -q --spool "$B/spool" -o "$(uri old)" tests/pcap/demo.pcap 2>&1)
check "a log of another schema version: exit 2" "$?" 2
case "$msg" in *"schema version 6"*) ok "... and says which" ;; *) bad "no schema message: $msg" ;; esac
msg=$(./mailsift sessions -d "postgresql:///x?host=$D/none&user=mailsift" 2>&1)
check "no server there: exit 2" "$?" 2
case "$msg" in *PostgreSQL*) ok "... and says so" ;; *) bad "no message: $msg" ;; esac

echo "postgres: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
