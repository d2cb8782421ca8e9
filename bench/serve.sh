#!/bin/sh
# The workbench at scale (make bench-serve): every answer a page of
# mailsift serve asks for, timed on a log of N messages (default one
# million).
#
# usage: bench/serve.sh [MESSAGES]
#        SERVE_LOG=LOG bench/serve.sh [MESSAGES]  (another log of as many,
#        to set two side by side)
#
# The log is read from pcapgen's tiny profile (one SMTP session per
# notification, the shape of most mail), --no-keep: the pages read the
# log, not the kept bytes. Each answer is asked 5 times over one
# keep-alive connection and its median printed with its size; the
# slowest are listed last; then the console's commands (each listing,
# show, search, stats), median of 3 runs each. The issue's target is
# 100 ms for every one; tests/scale.sh shows which answers' work grows
# with the log.
set -eu
cd "$(dirname "$0")/.."
. tests/answers.sh
N=${1:-1000000}
B=build/bench
mkdir -p "$B"
pcap=$B/tiny-$N.pcap
log=${SERVE_LOG:-$B/serve-$N.db}
[ -f "$pcap" ] || build/rel/tools/pcapgen --tiny "$pcap" "$N" 42 2>/dev/null
# a log an older mailsift wrote may lack what this one keeps as it
# writes (the sums that answer values and stats) or builds as it closes
# the log (the sort indexes): timed as it is, its answers would be the
# slow ones this version no longer gives; read anew
tables() { sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY 1"; }
if [ -f "$log" ]; then
	fresh=$(mktemp -d)
	./mailsift read -q --no-keep -o "$fresh/t.db" tests/pcap/demo.pcap
	tables "$fresh/t.db" >"$fresh/want"
	tables "$log" >"$fresh/have"
	if [ -n "$(comm -23 "$fresh/want" "$fresh/have")" ]; then
		echo "$log: written by an older mailsift (no $(comm -23 "$fresh/want" "$fresh/have" | head -1)): read anew"
		rm -rf "$log" "$log"-wal "$log"-shm "$log".blobs
	fi
	rm -rf "$fresh"
fi
if [ ! -f "$log" ]; then
	start=$(date +%s)
	./mailsift read -q --no-keep -o "$log" "$pcap"
	echo "read: $N messages in $(($(date +%s) - start)) s"
fi
msgs=$(sqlite3 "$log" "SELECT count(*) FROM messages")
echo "log: $log, $msgs messages, $(($(stat -c %s "$log") / 1048576)) MiB"

PORT=$((30000 + $$ % 20000))
U=http://127.0.0.1:$PORT
T=bench-token-$$-0123456789
echo "$T" >"$B/serve.token"
chmod 600 "$B/serve.token"
# each answer made as asked: the queries' own times, not the kept
# answers' (serve keeps the slow ones: doc/performance.md)
MAILSIFT_ANSWER_KEEP_MS=off ./mailsift serve -d "$log" --listen "127.0.0.1:$PORT" --token-file "$B/serve.token" \
	>"$B/serve.out" 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null' EXIT
for _ in $(seq 50); do
	curl -s -o /dev/null "$U/" 2>/dev/null && break
	sleep 0.1
done

serve_answers "$log" >"$B/serve.answers"
printf '%-36s %9s %9s\n' answer "ms (med)" bytes
while IFS='	' read -r name path; do
	ms=$(for _ in 1 2 3 4 5; do
		curl -s -o "$B/serve.body" -H "Authorization: Bearer $T" \
		    -w '%{time_total}\n' "$U$path"
	done | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 * 1000 }')
	printf '%-36s %9s %9s\n' "$name" "$ms" "$(stat -c %s "$B/serve.body")"
	echo "$ms $name" >>"$B/serve.times.$$"
done <"$B/serve.answers"
echo
echo "slowest:"
sort -rn "$B/serve.times.$$" | head -5 | sed 's/^/  /'
rm -f "$B/serve.times.$$"

# The console's commands on the same log, each a process of its own that
# keeps nothing between runs (serve keeps its slow answers; these cannot):
# median of 3 wall-clock runs, with the same values as the answers above.
mid=$(sqlite3 "$log" "SELECT id FROM messages ORDER BY id LIMIT 1 OFFSET $((msgs / 2))")
sid=$(sqlite3 "$log" "SELECT session_id FROM messages WHERE id = $mid")
word=$(sqlite3 "$log" "SELECT subject FROM messages WHERE id = $mid" | tr -c 'A-Za-z\n' ' ' |
	awk '{ for (i = 1; i <= NF; i++) if (length($i) > length(w)) w = $i } END { print w }')
sha=$(sqlite3 "$log" "SELECT sha256 FROM messages WHERE id = $mid")
echo
printf '%-36s %9s\n' command "ms (med)"
cli_time() { # name, then the command's arguments
	name=$1
	shift
	ms=$(for _ in 1 2 3; do
		s0=$(date +%s%N)
		./mailsift "$@" -d "$log" >/dev/null 2>&1 || true
		echo $((($(date +%s%N) - s0) / 1000000))
	done | sort -n | sed -n 2p)
	printf '%-36s %9s\n' "$name" "$ms"
}
for l in sessions messages creds attachments urls tls findings hosts files; do
	cli_time "$l --limit 50" "$l" --limit 50
done
cli_time "show (a session)" show "$sid"
cli_time "search (sha256:HASH)" search "sha256:$sha"
cli_time "search (a bare hash)" search "$sha"
cli_time "search (a word in every message)" search "$word"
cli_time "stats" stats
