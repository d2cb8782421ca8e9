#!/bin/sh
# The workbench at scale (make bench-serve): every answer a page of
# mailsift serve asks for, timed on a log of N messages (default one
# million), and the query plans of the listings read for full scans.
#
# usage: bench/serve.sh [MESSAGES]
#
# The log is read from pcapgen's tiny profile (one SMTP session per
# notification, the shape of most mail), --no-keep: the pages read the
# log, not the kept bytes. Each answer is asked 5 times over one
# keep-alive connection and its median printed with its size; the
# slowest are listed last. The issue's target is 100 ms for every one.
set -eu
cd "$(dirname "$0")/.."
N=${1:-1000000}
B=build/bench
mkdir -p "$B"
pcap=$B/tiny-$N.pcap
log=$B/serve-$N.db
[ -f "$pcap" ] || build/rel/tools/pcapgen --tiny "$pcap" "$N" 42 2>/dev/null
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
./mailsift serve -d "$log" --listen "127.0.0.1:$PORT" --token-file "$B/serve.token" \
	>"$B/serve.out" 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null' EXIT
for _ in $(seq 50); do
	curl -s -o /dev/null "$U/" 2>/dev/null && break
	sleep 0.1
done

mid=$((msgs / 2))
sid=$(sqlite3 "$log" "SELECT session_id FROM messages WHERE id = $mid")
from=$(sqlite3 "$log" "SELECT from_addr FROM messages WHERE id = $mid" | sed 's/.*<//; s/>.*//')
sha=$(sqlite3 "$log" "SELECT sha256 FROM messages WHERE id = $mid")
client=$(sqlite3 "$log" "SELECT client_ip FROM sessions WHERE id = $sid")
last=$(((msgs - 1) / 100 * 100))
word=$(sqlite3 "$log" "SELECT subject FROM messages WHERE id = $mid" | tr -c 'A-Za-z\n' ' ' | awk '{ for (i = 1; i <= NF; i++) if (length($i) > 4) { print $i; exit } }')
# what each page asks, as the page asks it
set -- \
	"overview /api/overview" \
	"filters /api/filters" \
	"sessions, first page /api/listing/sessions?limit=100" \
	"sessions, total /api/listing/sessions?count=1" \
	"sessions, last page /api/listing/sessions?limit=100&offset=$last" \
	"sessions, sorted by duration /api/listing/sessions?sort=duration&desc=1&limit=100" \
	"sessions of a client /api/listing/sessions?client=$client&limit=100" \
	"sessions, values of server /api/listing/sessions?values=server&limit=50" \
	"messages, first page /api/listing/messages?limit=100" \
	"messages, total /api/listing/messages?count=1" \
	"messages, last page /api/listing/messages?limit=100&offset=$last" \
	"messages, sorted by size /api/listing/messages?sort=size&desc=1&limit=100" \
	"messages from a sender /api/listing/messages?from=$from&limit=100" \
	"messages, a day /api/listing/messages?since=2023-11-14&until=2023-11-15&limit=100" \
	"messages, values of from /api/listing/messages?values=from&limit=50" \
	"attachments, first page /api/listing/attachments?limit=100" \
	"hosts, first page /api/listing/hosts?limit=100" \
	"files, first page /api/listing/files?limit=100" \
	"a session /api/session?id=$sid" \
	"a message /api/message?id=$mid" \
	"search, a hash /api/search?q=sha256:$sha" \
	"search, a word /api/search?q=$word"
printf '%-36s %9s %9s\n' answer "ms (med)" bytes
for t in "$@"; do
	name=${t% /*}
	path=/${t##* /}
	ms=$(for _ in 1 2 3 4 5; do
		curl -s -o "$B/serve.body" -H "Authorization: Bearer $T" \
		    -w '%{time_total}\n' "$U$path"
	done | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 * 1000 }')
	printf '%-36s %9s %9s\n' "$name" "$ms" "$(stat -c %s "$B/serve.body")"
	echo "$ms $name" >>"$B/serve.times.$$"
done
echo
echo "slowest:"
sort -rn "$B/serve.times.$$" | head -5 | sed 's/^/  /'
rm -f "$B/serve.times.$$"
