#!/bin/sh
# Where the log goes, and how many processes write it: SQLite against
# PostgreSQL (a private server on this machine, tests/tools/pgtmp.sh), one
# job against two (read --jobs), and several writers into one server.
#
# usage: bench/stores.sh [MEGABYTES]   (default 100; make bench-stores)
#
# Two captures: the benchmark capture of pcapgen --bench (large messages:
# bytes per second), and a capture rich in rows (the shipped and recorded
# captures over and over: 40 copies, as a run would read them; rows per
# second).  Each figure is the best of three.
set -eu
cd "$(dirname "$0")/.."
MB=${1:-100}
B=build/bench
mkdir -p "$B"
BIG=$B/bench-$MB.pcap
[ -f "$BIG" ] || build/rel/tools/pcapgen --bench "$BIG" "$MB" 42 2>/dev/null
ROWS=""
for _ in $(seq 40); do ROWS="$ROWS $(ls tests/pcap/*.pcap tests/recorded/*.pcap | tr '\n' ' ')"; done
. tests/tools/pgtmp.sh
pg_init
trap pg_cleanup EXIT INT TERM
pg_start

# best NAME CMD...: the best of three; prints NAME ELAPSED CPU(user+sys).
# With FRESH=DB, database DB is made anew before each (kept bytes already
# there would not be sent again).
best() {
	name=$1; shift
	b=""; bc=""
	for _ in 1 2 3; do
		[ -z "${FRESH:-}" ] || fresh "$FRESH"
		/usr/bin/time -f "%e %U %S" -o "$B/t.out" "$@" >/dev/null 2>&1 || true
		read -r e u s <"$B/t.out"
		c=$(echo "$u + $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$e < $b" | bc)" = 1 ]; then b=$e; bc=$c; fi
	done
	echo "$name $b $bc"
}
rows_in() { # LOG: rows in every table
	sqlite3 "$1" "SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM commands) + (SELECT count(*) FROM messages) + (SELECT count(*) FROM headers) + (SELECT count(*) FROM parts) + (SELECT count(*) FROM extensions) + (SELECT count(*) FROM auth) + (SELECT count(*) FROM transactions) + (SELECT count(*) FROM recipients) + (SELECT count(*) FROM items) + (SELECT count(*) FROM mailboxes) + (SELECT count(*) FROM responses) + (SELECT count(*) FROM anomalies) + (SELECT count(*) FROM message_text) + (SELECT count(*) FROM tls) + (SELECT count(*) FROM certificates)"
}
fresh() { psql -X -q -d "$(uri postgres)" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null 2>&1; }

bytes=$(stat -c %s "$BIG")
# shellcheck disable=SC2086
./mailsift read -q --replace --no-keep -o "$B/rows.db" $ROWS 2>/dev/null || true
nrows=$(rows_in "$B/rows.db")
echo "captures: $BIG ($bytes bytes); a row-rich run ($nrows rows)"
echo
echo "store       capture    keep  seconds  cpu-s  MB/s   rows/s"
for keep in keep no-keep; do
	k=""; [ "$keep" = no-keep ] && k=--no-keep
	set -- $(best sqlite ./mailsift read -q --replace $k -o "$B/s.db" "$BIG")
	printf "%-11s %-10s %-5s %-8s %-6s %-6.0f\n" SQLite big "$keep" "$2" "$3" "$(echo "$bytes / $2 / 1000000" | bc -l)"
	set -- $(FRESH=bench best pg ./mailsift read -q $k --spool "$B/spool" -o "$(uri bench)" "$BIG")
	printf "%-11s %-10s %-5s %-8s %-6s %-6.0f\n" PostgreSQL big "$keep" "$2" "$3" "$(echo "$bytes / $2 / 1000000" | bc -l)"
done
# shellcheck disable=SC2086
set -- $(best sqlite ./mailsift read -q --replace --no-keep -o "$B/s.db" $ROWS)
printf "%-11s %-10s %-5s %-8s %-6s %-6s %.0f\n" SQLite rows no "$2" "$3" - "$(echo "$nrows / $2" | bc -l)"
# shellcheck disable=SC2086
set -- $(FRESH=bench best pg ./mailsift read -q --no-keep --spool "$B/spool" -o "$(uri bench)" $ROWS)
printf "%-11s %-10s %-5s %-8s %-6s %-6s %.0f\n" PostgreSQL rows no "$2" "$3" - "$(echo "$nrows / $2" | bc -l)"

echo
echo "read --jobs (--no-keep, SQLite), on $(nproc) cores"
set -- $(best j1 ./mailsift read -q --replace --no-keep -j 1 -o "$B/j.db" "$BIG")
t1=$2 c1=$3
set -- $(best j2 ./mailsift read -q --replace --no-keep -j 2 -o "$B/j.db" "$BIG")
t2=$2 c2=$3
echo "  1 job:  $t1 s, $c1 CPU-s;  2 jobs: $t2 s, $c2 CPU-s"
# what every job pays (f: reading every packet, its process, its spool);
# the rest (s) divides among jobs
f=$(echo "$c2 - $c1" | bc -l)
s=$(echo "2 * $c1 - $c2" | bc -l)
for n in 4 8 16; do
	printf "  expected with %2d jobs on %2d cores: %.2f s (%.0f MB/s)\n" "$n" "$n" \
		"$(echo "$f + $s / $n" | bc -l)" "$(echo "$bytes / ($f + $s / $n) / 1000000" | bc -l)"
done

echo
echo "writers into one PostgreSQL (the row-rich run each, --no-keep)"
# The server's CPU: the whole machine's, less the writers' own.
cpu_all() { awk '/^cpu / { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8) / '"$(getconf CLK_TCK)"' }' /proc/stat; }
for w in 1 2 4; do
	fresh fleet
	c0=$(cpu_all)
	start=$(date +%s.%N)
	for i in $(seq "$w"); do
		# shellcheck disable=SC2086
		/usr/bin/time -f "%U %S" -o "$B/w$i.time" ./mailsift read -q --no-keep --sensor "s$i" \
			--spool "$B/spool" -o "$(uri fleet)" $ROWS >/dev/null 2>&1 &
	done
	wait
	el=$(echo "$(date +%s.%N) - $start" | bc -l)
	mine=$(cat "$B"/w*.time | awk '{ s += $1 + $2 } END { print s }')
	c=$(echo "$(cpu_all) - $c0 - $mine" | bc -l)
	rm -f "$B"/w*.time
	printf "  %d writers: %.2f s, %.0f rows/s in all; the server used about %.2f CPU-s (%.0f rows a server CPU-s)\n" \
		"$w" "$el" "$(echo "$w * $nrows / $el" | bc -l)" "$c" "$(echo "$w * $nrows / $c" | bc -l)"
done
