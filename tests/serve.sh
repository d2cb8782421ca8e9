#!/bin/sh
# mailsift serve on the loopback: the JSON answers are the CLI's SQL, the
# security headers are on every answer, the .eml download is the message
# as logged, hostile values stay data, the server refuses what it must
# (writes, unknown paths, bad ids, other hosts without a token) and
# survives malformed HTTP and many clients at once.
set -u
cd "$(dirname "$0")/.."
B=build/serve
BIN=${BIN:-build/san/mailsift}
pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "  expected: $3"; echo "  got:      $2"; fi; }
rm -rf "$B"; mkdir -p "$B"

# The log: the shipped and recorded captures (terminal.pcap's subjects
# and names carry escape sequences, overrides and markup).
./mailsift read -q --replace -o "$B/log.db" tests/pcap/*.pcap tests/recorded/*.pcap 2>/dev/null
. tests/tools/freeport.sh
# a server that is gone where it should answer: why, from its stderr
gone() { kill -0 "$1" 2>/dev/null || { echo "  serve exited early:"; sed 's/^/    /' "$2"; }; }
PORT=$(free_port)
U=http://127.0.0.1:$PORT
# every request carries the token (the file made by the first start)
"$BIN" serve -d "$B/log.db" --listen "127.0.0.1:$PORT" --token-file "$B/token" 2>"$B/serve.err" & pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$B/token" ] && break; sleep 0.1; done
T=$(cat "$B/token")
printf 'header = "Authorization: Bearer %s"\n' "$T" >"$B/auth.curl"
for _ in $(seq 50); do curl -K "$B/auth.curl" -s -o /dev/null "$U/" && break; sleep 0.1; done
gone "$pid" "$B/serve.err"

get() { curl -K "$B/auth.curl" -s "$U$1"; }
code() { curl -K "$B/auth.curl" -s -o /dev/null -w '%{http_code}' "$@"; }

# The same rows as the CLI's listings
for l in sessions messages attachments urls creds tls hosts files; do
	check "$l: the rows of mailsift $l" \
		"$(get "/api/listing/$l?limit=1000" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
		"$(./mailsift "$l" -d "$B/log.db" --json --limit 1000 | wc -l)"
done
check "filters as the CLI's (--proto imap)" \
	"$(get "/api/listing/sessions?proto=imap&limit=1000" | python3 -c 'import json, sys; print(sorted({r["proto"] for r in json.load(sys.stdin)}))')" \
	"['imap']"
check "paging: limit and offset" \
	"$(get "/api/listing/sessions?limit=2&offset=1" | python3 -c 'import json, sys; print([r["id"] for r in json.load(sys.stdin)])')" \
	"[2, 3]"
check "a filter that does not apply: 400" "$(code "$U/api/listing/attachments?user=x")" 400
check "a filter's bad value: 400, said by the name the page gives it" \
	"$(code "$U/api/listing/sessions?host=bogus")|$(get "/api/listing/sessions?host=bogus" | grep -c '"host bogus: not an address')" "400|1"
h=$(sqlite3 "$B/log.db" "SELECT sha256 FROM parts WHERE filename IS NOT NULL LIMIT 1")
check "attachments by hash: as mailsift attachments --hash" \
	"$(get "/api/listing/attachments?hash=$h&limit=1000" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
	"$(./mailsift attachments -d "$B/log.db" --hash "$h" --json --limit 1000 | wc -l)"
# the hosts and files views (issue 31): every address once with its
# sessions as either end; every attachment's content once, with the
# messages that carried it; a host's click leads to its sessions, a
# file's to the attachments with its hash
check "hosts: every address of the sessions once, its sessions counted from both ends" \
	"$(get "/api/listing/hosts?limit=1000" | python3 -c 'import json, sys; r = json.load(sys.stdin); print(len(r) == len({x["host"] for x in r}), sum(x["sessions"] for x in r))')" \
	"True $(sqlite3 "$B/log.db" "SELECT 2 * count(*) FROM sessions")"
check "files: each content once, the messages that carried it as attachments" \
	"$(get "/api/listing/files?hash=$h" | python3 -c 'import json, sys; r = json.load(sys.stdin); print(len(r), r[0]["messages"])')" \
	"1 $(sqlite3 "$B/log.db" "SELECT count(DISTINCT message_id) FROM parts WHERE sha256 = '$h' AND filename IS NOT NULL")"
check "the page links the hosts and files views, and pivots from them" \
	"$(get / | grep -c 'href="#/hosts"\|href="#/files"') $(get /app.js | grep -c "#/sessions?host=\|#/attachments?hash=")" \
	"1 2"
check "attachments by name: as mailsift attachments --name" \
	"$(get "/api/listing/attachments?name=invoice&limit=1000" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
	"$(./mailsift attachments -d "$B/log.db" --name invoice --json --limit 1000 | wc -l)"
for f in creds attachments anomalies; do
	check "sessions with $f: as mailsift sessions --with-$f" \
		"$(get "/api/listing/sessions?$f=1&limit=1000" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
		"$(./mailsift sessions -d "$B/log.db" --with-$f --json --limit 1000 | wc -l)"
done

# A session and a message, as show and the tables have them
check "a session: its transcript, as mailsift show's" \
	"$(get "/api/session?id=2" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["transcript"]))')" \
	"$(./mailsift show 2 -d "$B/log.db" | tail -n +2 | wc -l)"
mid=$(sqlite3 "$B/log.db" "SELECT message_id FROM parts WHERE filename IS NOT NULL LIMIT 1")
# (issue 31) the page offers each listing the filters the server says it
# takes, and every one of them answers (the credentials form offered
# from:, which then failed); no listing offers one it would refuse
get /api/filters >"$B/filters.json"
fbad=$(python3 - "$B/filters.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sample = {"proto": "smtp", "host": "127.0.0.0/8", "user": "a", "from": "a",
          "to": "a", "subject": "a", "since": "2000-01-01", "until": "2100-01-01",
          "name": "a", "hash": "d41d8cd98f00b204e9800998ecf8427e",
          "outcome": "accepted", "client": "127.0.0.1", "server": "127.0.0.1",
          "query": "proto:smtp", "finding": "starttls_not_used",
          "anomaly": "stream_gap", "mechanism": "plain", "port": "25"}
# a login's verdict is not a message's
of = {("creds", "outcome"): "failure"}
for l, f in sorted(d.items()):
    for k in f["values"]:
        print("%s %s=%s" % (l, k, of.get((l, k), sample[k])))
    for k in f["flags"]:
        print("%s %s=1" % (l, k))
PY
)
nf=0; nfbad=0
while read -r l kv; do
	nf=$((nf + 1))
	[ "$(code "$U/api/listing/$l?$kv")" = 200 ] || { nfbad=$((nfbad + 1)); echo "  $l?$kv refused"; }
done <<EOF_F
$fbad
EOF_F
check "every filter the page offers answers ($nf of them)" "$nfbad" 0
check "the credentials page offers no message filters" \
	"$(python3 -c 'import json, sys; print(sorted(set(json.load(open(sys.argv[1]))["creds"]["values"]) & {"from", "to", "subject"}))' "$B/filters.json")" "[]"
# (issue 31) the whole selection sorted on the server, a page of it,
# and its total
check "a listing's total, for the pages" \
	"$(get "/api/listing/sessions?count=1&proto=smtp" | tr -d "\n")" \
	"[{\"total\":$(./mailsift sessions -d "$B/log.db" --proto smtp --json --limit 100000 | wc -l)}]"
# the findings' totals by kind and protocol come from their sums
# (sqlite_findings.c): as many as the rows the filters keep
fsum=$(for k in $(sqlite3 "$B/log.db" "SELECT DISTINCT finding FROM v_tls_findings"); do
	for p in "" smtp pop3 imap; do
		q="finding=$k${p:+&proto=$p}"
		echo "$q $(get "/api/listing/findings?count=1&$q" | tr -d '\n') $(get "/api/listing/findings?limit=1000&$q" | grep -c '"finding"')"
	done
done | awk '$2 != "[{\"total\":" $3 "}]" { print "  " $0 >"/dev/stderr"; bad++ } END { print NR, bad + 0 }')
check "the findings' totals by kind and protocol: as their rows" \
	"$fsum" "$((4 * $(sqlite3 "$B/log.db" "SELECT count(DISTINCT finding) FROM v_tls_findings"))) 0"
check "a kind of finding that is none: 400, the kinds said" \
	"$(code "$U/api/listing/findings?count=1&finding=nope")|$(get "/api/listing/findings?finding=nope" | grep -c 'not one of starttls_not_used')" "400|1"
# with no filter the totals come from the indexes: the same numbers
check "a listing's total with no filter: as its rows (messages without their pieces)" \
	"$(get "/api/listing/messages?count=1" | tr -d "\n")|$(get "/api/listing/sessions?count=1" | tr -d "\n")" \
	"[{\"total\":$(./mailsift messages -d "$B/log.db" --json --limit 0 | wc -l)}]|[{\"total\":$(./mailsift sessions -d "$B/log.db" --json --limit 0 | wc -l)}]"
check "sorted on the server by a column, the whole selection: the largest message first" \
	"$(get "/api/listing/messages?sort=size&desc=1&limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["size"])')" \
	"$(./mailsift messages -d "$B/log.db" --json --limit 100000 | python3 -c 'import json, sys; print(max(json.loads(l).get("size") or 0 for l in sys.stdin))')"
check "a sort by a column the listing has not: 400, said" \
	"$(code "$U/api/listing/messages?sort=password")|$(get "/api/listing/messages?sort=x%22%3B" | grep -c 'has no column')" "400|1"
# (issue 31) a column's values with their counts, as the filters keep
# them: the same answer as the CLI's --values
check "a column's values and counts, as the CLI gives them" \
	"$(get "/api/listing/sessions?values=server&proto=smtp&limit=100" | python3 -c 'import json, sys; print(" ".join("%s=%d" % (r["value"], r["count"]) for r in json.load(sys.stdin)))')" \
	"$(./mailsift sessions -d "$B/log.db" --proto smtp --values server --limit 100 --json | python3 -c 'import json, sys; print(" ".join("%s=%d" % (r["value"], r["count"]) for r in map(json.loads, sys.stdin)))')"
check "values of a column the listing has not: 400" \
	"$(code "$U/api/listing/messages?values=password")" 400
check "a switch neither 1 nor 0 (desc=yes, count=true, last=2): 400, said" \
	"$(code "$U/api/listing/messages?desc=yes")|$(code "$U/api/listing/messages?count=true")|$(code "$U/api/listing/sessions?last=2")|$(get "/api/listing/messages?desc=yes" | grep -c 'desc, count and last: 1 or 0')|$(code "$U/api/listing/messages?desc=0&count=0&last=0")" "400|400|400|1|200"
# (issue 30) pages by the rows' keys, sorted or not: every keyed listing
# walked page by page by each of its columns both ways, forward from the
# first page and back from the last, is its whole selection row for row
# (ties, NULLs and all); a sorted page after a row that is not there: 400
kw=$(python3 tests/tools/keywalk.py "$U" "$T" 2>&1)
check "pages by key, sorted by every column both ways, forward and back, and by offset (past the middle from the end): the whole selection each time" \
	"$(echo "$kw" | grep -c '^differs')|$(echo "$kw" | tail -1 | awk '{ print ($1 >= 200 && $2 == "walks," && $3 >= 40) }')" "0|1"
echo "$kw" | grep '^differs' | head -5
check "a sorted page after a row that is not there: 400, said" \
	"$(code "$U/api/listing/messages?sort=size&after=999999999")|$(get "/api/listing/messages?sort=size&after=999999999" | grep -c 'no row 999999999')" "400|1"
# (issue 31) a listing downloaded whole, as its filters say: CSV and JSON;
# a value a spreadsheet would run as a formula goes with a leading '
curl -K "$B/auth.curl" -s -D "$B/dl.hdr" -o "$B/dl-messages.csv" "$U/api/listing/messages?proto=smtp&format=csv"
check "a listing as CSV: a download, a header and every row the filter keeps" \
	"$(grep -ci '^Content-Disposition: attachment; filename="mailsift-messages.csv"' "$B/dl.hdr")|$(python3 -c 'import csv, sys; r = list(csv.reader(open(sys.argv[1]))); print(r[0][0], len(r) - 1)' "$B/dl-messages.csv")" \
	"1|id $(./mailsift messages -d "$B/log.db" --proto smtp --json --limit 100000 | wc -l)"
check "a listing as JSON: every row" \
	"$(get "/api/listing/messages?proto=smtp&format=json" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
	"$(./mailsift messages -d "$B/log.db" --proto smtp --json --limit 100000 | wc -l)"
fs=$(sqlite3 "$B/log.db" "SELECT min(id) FROM sessions")
fu=$(sqlite3 "$B/log.db" "SELECT coalesce(username, '') FROM sessions WHERE id = $fs")
sqlite3 "$B/log.db" "UPDATE sessions SET username = '=HYPERLINK(\"http://x\")' WHERE id = $fs"
check "CSV: a value that a spreadsheet would run is written as text" \
	"$(get "/api/listing/sessions?format=csv" | python3 -c 'import csv, sys; print([r[7] for r in csv.reader(sys.stdin) if r[0] == sys.argv[1]][0])' "$fs")" \
	"'=HYPERLINK(\"http://x\")"
sqlite3 "$B/log.db" "UPDATE sessions SET username = NULLIF('$fu', '') WHERE id = $fs"
# (issue 30) the journey is worked out from the messages that can share
# it, not the whole log: the same hops as v_message_journeys, for every
# message of the log
jbad=0
for m in $(sqlite3 "$B/log.db" "SELECT id FROM messages"); do
	want=$(sqlite3 -json "$B/log.db" "SELECT hop, message_id, session_id FROM v_message_journeys WHERE journey = (SELECT journey FROM v_message_journeys WHERE message_id = $m) ORDER BY hop" | python3 -c 'import json, sys; t = sys.stdin.read().strip(); print([(r["hop"], r["message_id"], r["session_id"]) for r in (json.loads(t) if t else [])])')
	got=$(get "/api/message?id=$m" | python3 -c 'import json, sys; print([(r["hop"], r["message_id"], r["session_id"]) for r in json.load(sys.stdin).get("journey", [])])')
	[ "$want" = "$got" ] || { jbad=$((jbad + 1)); echo "  message $m: $got, the view: $want"; }
done
check "every message's journey: the view's hops, from the messages that can share it" "$jbad" 0
check "a message: its parts and headers, its journey" \
	"$(get "/api/message?id=$mid" | python3 -c 'import json, sys; m = json.load(sys.stdin); print(len(m["parts"]), len(m["headers"]) > 0, len(m["journey"]) >= 1)')" \
	"$(sqlite3 "$B/log.db" "SELECT count(*) FROM parts WHERE message_id = $mid") True True"
curl -K "$B/auth.curl" -s -o "$B/m.eml" "$U/message/$mid.eml"
check "the .eml download is the message as logged" \
	"$(sha256sum <"$B/m.eml" | cut -d' ' -f1)" \
	"$(sqlite3 "$B/log.db" "SELECT sha256 FROM messages WHERE id = $mid")"
sid=$(sqlite3 "$B/log.db" "SELECT session_id FROM messages WHERE id = $mid")
curl -K "$B/auth.curl" -s -o "$B/s.pcap" "$U/session/$sid.pcap"
./mailsift read -q --replace -o "$B/pcapcut.db" "$B/s.pcap" 2>/dev/null
check "a session's packets cut as a pcap: read again, the same messages" \
	"$(sqlite3 "$B/pcapcut.db" "SELECT sha256 FROM messages ORDER BY id")" \
	"$(sqlite3 "$B/log.db" "SELECT sha256 FROM messages WHERE session_id = $sid ORDER BY id")"
check "... and only that connection's packets" \
	"$(tshark -r "$B/s.pcap" -T fields -e tcp.stream 2>/dev/null | sort -u | wc -l)" "1"
# (issue 31) a transcript line's frame, alone: the packet of that frame
# number in the capture the session was read from
fr=$(sqlite3 "$B/log.db" "SELECT frame FROM commands WHERE session_id = $sid AND frame IS NOT NULL ORDER BY seq LIMIT 1")
cap=$(sqlite3 "$B/log.db" "SELECT capture_file FROM sessions WHERE id = $sid")
curl -K "$B/auth.curl" -s -o "$B/f.pcap" "$U/session/$sid.pcap?frame=$fr"
check "a transcript line's frame: that one packet, the capture's frame $fr" \
	"$(tshark -r "$B/f.pcap" -T fields -e frame.time_epoch -e tcp.seq_raw -e tcp.len 2>/dev/null | tr '\n' ' ')" \
	"$(tshark -r "$cap" -Y "frame.number == $fr" -T fields -e frame.time_epoch -e tcp.seq_raw -e tcp.len 2>/dev/null | tr '\n' ' ')"
check "a frame outside the session, or not a number: 404 and 400" \
	"$(code "$U/session/$sid.pcap?frame=999999999")|$(code "$U/session/$sid.pcap?frame=x")" "404|400"
check "search: the messages mailsift search finds" \
	"$(get "/api/search?q=figures" | python3 -c 'import json, sys; print(sorted(r["id"] for r in json.load(sys.stdin)))')" \
	"$(./mailsift search figures -d "$B/log.db" 2>/dev/null | tail -n +2 | cut -f1 | sort -n | python3 -c 'import sys; print([int(x) for x in sys.stdin.read().split()])')"

check "search: how its answer is ordered, for the page to say" \
	"$(get "/api/search?q=figures&about=1")|$(get "/api/search?q=figures%20OR%20owned&about=1")" \
	'{"order":"best","rank_max":20000}|{"order":"log","rank_max":0}'

check "overview: stats' tables and the series by day, as JSON" \
	"$(get /api/overview | python3 -c 'import json, sys; o = json.load(sys.stdin); print(sum(r["sessions"] for r in o["sessions by protocol"]) == sum(r["sessions"] for r in o["sessions by day"]), len(o["top senders"]) > 0)')" \
	"True True"

# (issue 31) a bar of the overview leads to as many rows as it counts:
# an attempt of a login by its protocol, mechanism and outcome; a
# server's sessions by its address, port and protocol; an anomaly's
# sessions (the bar says how many beside how often)
exact=$(get /api/overview | python3 -c '
import json, sys, urllib.parse as u
o = json.load(sys.stdin)
for r in o["authentication"]:
    print(r["attempts"], "logins", "creds?" + u.urlencode({k: r[k] for k in ("proto", "mechanism", "outcome")}))
for r in o["top servers"]:
    print(r["sessions"], "servers", "sessions?" + u.urlencode({k: r[k] for k in ("server", "port", "proto")}))
for r in o["anomalies"]:
    print(r["sessions"], "anomalies", "sessions?" + u.urlencode({"anomaly": r["name"]}))' |
	while read -r want bar q; do
		got=$(get "/api/listing/${q%%\?*}?${q#*\?}&count=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["total"])' 2>/dev/null)
		echo "$bar $([ "$got" = "$want" ] && echo same || echo "$q: ${got:-error} for $want")"
	done | sort | uniq -c | awk '{ $1 = ""; print }' | tr '\n' ';')
check "overview: each login, server and anomaly bar leads to as many rows as it counts" \
	"$exact" " anomalies same; logins same; servers same;"

# an anomaly or a mechanism the log never saw: its count of none says so
# (a typo, likelier than a quiet log), as the CLI does on stderr; a name
# the log has, or none found for other filters, gets no note
check "a count of none for a name the log never saw says so; a seen one does not" \
	"$(get '/api/listing/sessions?anomaly=no_such_thing&count=1')|$(get '/api/listing/creds?mechanism=gssapi&count=1' | grep -c '"note":"mechanism gssapi: no login by that mechanism in this log')|$(get '/api/listing/sessions?anomaly=stream_gap&host=192.0.2.254&count=1' | grep -c note)" \
	'[{"total":0,"note":"anomaly no_such_thing: no anomaly of that name in this log (mailsift stats lists the log'"'"'s)"}]|1|0'

# Safe on hostile content
hdr=$(curl -K "$B/auth.curl" -s -D- -o /dev/null "$U/api/listing/messages")
for h in "Content-Security-Policy: default-src 'none'" "X-Content-Type-Options: nosniff" \
	"X-Frame-Options: DENY" "Content-Type: application/json"; do
	echo "$hdr" | grep -qi "^$h" && ok "JSON: $h" || bad "JSON: $h"
done
hdr=$(curl -K "$B/auth.curl" -s -D- -o /dev/null "$U/")
echo "$hdr" | grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'" &&
	ok "page: scripts only its own, nothing from elsewhere" || bad "page: CSP"
hdr=$(curl -K "$B/auth.curl" -s -D- -o /dev/null "$U/message/$mid.eml")
echo "$hdr" | grep -qi '^Content-Disposition: attachment' && ok ".eml: a download, never rendered" || bad ".eml: disposition"
check "a hostile subject arrives as JSON text, escapes escaped" \
	"$(get "/api/listing/messages?limit=1000" | grep -c '\\u001b')" "1"
check "the page's script builds no HTML from data (no innerHTML)" \
	"$(get /app.js | grep -c 'innerHTML\|outerHTML\|insertAdjacentHTML\|document.write')" "0"

# Parts: a decoded part is a download that hashes as logged; an HTML
# part for the page's sandboxed frame loads nothing (links.pcap's has a
# tracking pixel) and runs nothing.
pp=$(sqlite3 -separator ' ' "$B/log.db" "SELECT message_id, part FROM parts WHERE filename IS NOT NULL ORDER BY message_id, part LIMIT 1")
curl -K "$B/auth.curl" -s -D "$B/part.hdr" -o "$B/part" "$U/message/${pp% *}/part/${pp#* }"
# (issue 31) downloaded under the sender's name, made safe as extract
# makes it, not as message-N-part-P.bin
check "a part: downloaded under its own name" \
	"$(grep -i '^Content-Disposition:' "$B/part.hdr" | tr -d '\r')" \
	"Content-Disposition: attachment; filename=\"$(sqlite3 "$B/log.db" "SELECT filename FROM parts WHERE message_id = ${pp% *} AND part = ${pp#* }")\"; filename*=UTF-8''$(sqlite3 "$B/log.db" "SELECT filename FROM parts WHERE message_id = ${pp% *} AND part = ${pp#* }")"
check "a part: its decoded bytes, as logged" "$(sha256sum <"$B/part" | cut -d' ' -f1)" \
	"$(sqlite3 "$B/log.db" "SELECT sha256 FROM parts WHERE message_id = ${pp% *} AND part = ${pp#* }")"
hp=$(sqlite3 -separator ' ' "$B/log.db" "SELECT p.message_id, p.part FROM parts p JOIN messages m ON m.id = p.message_id WHERE m.subject = 'Your account is limited' AND p.content_type = 'text/html'")
hdr=$(curl -K "$B/auth.curl" -s -D "$B/h.hdr" -o "$B/h.html" "$U/message/${hp% *}/part/${hp#* }.html"; cat "$B/h.hdr")
echo "$hdr" | grep -qi "^Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox" &&
	ok "HTML part: no script, no load from anywhere, sandboxed, framed only here" || bad "HTML part: CSP"
grep -q 'track.example.net/pixel.gif' "$B/h.html" && ok "HTML part: the pixel is there, and the policy keeps it from loading" || bad "HTML part: body"
check "a non-HTML part as HTML: 404" "$(code "$U/message/${pp% *}/part/${pp#* }.html")" 404
check "the page frames HTML parts sandboxed, without allow-scripts" \
	"$(get /app.js | grep -c "setAttribute('sandbox', '')")" "1"

# Refusals
check "POST: 405" "$(code -X POST "$U/api/listing/sessions")" 405
check "unknown path: 404" "$(code "$U/etc/passwd")" 404
check "bad id: 400" "$(code "$U/api/message?id=x")" 400
check "no such message: 404" "$(code "$U/api/message?id=999999")" 404
check "path tricks: 404" "$(code --path-as-is "$U/message/../../etc/passwd")" 404

# Malformed HTTP and many clients: the server answers on
python3 - "$PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
for junk in (b"\x00\xff" * 500 + b"\r\n\r\n", b"GET / HTTP/1.1\r\n" + b"X: " + b"A" * 200000 + b"\r\n\r\n",
             b"GET /" + b"%" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
             b"GET /api/listing/sessions?limit=" + b"9" * 400 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"\r\n" * 1000):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(junk)
        s.recv(100)
    except OSError:
        pass
    s.close()
# half a request, left open
hang = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
for h in hang:
    h.sendall(b"GET / HTTP/1.1\r\nHost")
PY
check "after malformed requests, still answering" "$(code "$U/api/listing/sessions")" 200

for i in $(seq 40); do
	curl -K "$B/auth.curl" -s -o /dev/null -w '%{http_code}\n' "$U/api/listing/messages?limit=50" >"$B/c$i" &
done
wait_all() { for i in $(seq 40); do while [ ! -s "$B/c$i" ]; do sleep 0.05; done; done; }
wait_all
check "40 clients at once: all answered" "$(cat "$B"/c* | sort -u)" 200

# In a real browser (Debian's chromium, headless): the pages on hostile
# mail (tests/data/hostile.eml: script and handlers in From, Subject, a
# header, the HTML part and an attachment name; remote images, a frame
# and a CSS background). No script of the message runs (the title stays,
# no "PWNED" title, one script element: the page's own), the payloads
# show as text, the HTML part is in a sandboxed frame, no request goes to
# any host but the server; screenshots of each page are kept.
if command -v chromium >/dev/null 2>&1; then
	mkdir -p "$B/hostile" "$B/shots"
	build/rel/tools/pcapgen --eml tests/data/hostile.eml "$B/hostile" hostile
	# HTML in UTF-16 (issue 34): its elements that reach out must be
	# seen and renamed as in UTF-8; a listener on LPORT counts any
	# connection the browser opens to the addresses in them
	LPORT=$(free_port)
	python3 tests/tools/mkcharsets.py "$B/hostile" "$LPORT"
	for m in utf16-bom utf16-le; do
		build/rel/tools/pcapgen --eml "$B/hostile/$m.eml" "$B/hostile" "$m"
	done
	# (issue 31) images: a PNG, and SVG with script sent as image/png
	python3 - "$B/hostile/images.eml" <<'PY'
import base64, struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) + \
    chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00\x00\xff\x00\x00\x00\x00\xff\x00\xff\xff\xff")) + chunk(b"IEND", b"")
svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="document.title=\'PWNED-SVG\'"><script>document.title="PWNED-SVG"</script></svg>'
def part(name, data):
    return ("--b\r\nContent-Type: image/png; name=%s\r\nContent-Disposition: attachment; filename=%s\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n" % (name, name, base64.encodebytes(data).decode().replace("\n", "\r\n")))
open(sys.argv[1], "w", newline="").write(
    "From: photos@example.net\r\nTo: analyst@example.net\r\nSubject: images\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\ntwo pictures\r\n"
    + part("dot.png", png) + part("svg-as.png", svg) + "--b--\r\n")
PY
	build/rel/tools/pcapgen --eml "$B/hostile/images.eml" "$B/hostile" images
	./mailsift read -q --replace -o "$B/hostile.db" "$B/hostile/hostile.pcap" tests/pcap/demo.pcap \
		"$B/hostile/utf16-bom.pcap" "$B/hostile/utf16-le.pcap" "$B/hostile/images.pcap" 2>/dev/null
	imid=$(sqlite3 "$B/hostile.db" "SELECT id FROM messages WHERE subject = 'images'")
	pngsha=$(sqlite3 "$B/hostile.db" "SELECT sha256 FROM parts WHERE filename = 'dot.png'")
	svgsha=$(sqlite3 "$B/hostile.db" "SELECT sha256 FROM parts WHERE filename = 'svg-as.png'")
	python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); n = 0
while True:
    c, _ = s.accept(); n += 1; c.close()
    open(sys.argv[2], "w").write(str(n))
' "$LPORT" "$B/listener.count" & lpid=$!
	u16a=$(sqlite3 "$B/hostile.db" "SELECT id FROM messages WHERE subject = 'utf16-bom page'")
	u16b=$(sqlite3 "$B/hostile.db" "SELECT id FROM messages WHERE subject = 'utf16-le page'")
	kill -TERM "$pid"; wait "$pid"
	"$BIN" serve -d "$B/hostile.db" --listen "127.0.0.1:$PORT" --token-file "$B/token" 2>>"$B/serve.err" & pid=$!
	for _ in $(seq 50); do curl -K "$B/auth.curl" -s -o /dev/null "$U/" && break; sleep 0.1; done
	# a hostile attachment name, downloaded: the header carries it inert
	# (no quote, angle bracket or control of the sender's in the plain
	# name; all of it percent-encoded in filename*)
	hn=$(sqlite3 -separator ' ' "$B/hostile.db" "SELECT p.message_id, p.part FROM parts p JOIN messages m ON m.id = p.message_id WHERE p.filename LIKE '%PWNED-NAME%' AND m.kept = 1 LIMIT 1")
	curl -K "$B/auth.curl" -s -D "$B/hn.hdr" -o /dev/null "$U/message/${hn% *}/part/${hn#* }"
	check "a hostile attachment name: its download's header inert" \
		"$(grep -i '^Content-Disposition:' "$B/hn.hdr" | tr -d '\r' | sed 's/^[^;]*; filename="\([^"]*\)"; filename\*=UTF-8'"''"'\(.*\)$/\1|\2/' | python3 -c 'import sys, urllib.parse; a, b = sys.stdin.read().strip().split("|"); print(all(32 <= ord(c) < 127 and c not in "\"\\<>" for c in a), all(c.isalnum() or c in "-._~%" for c in b), "PWNED-NAME" in urllib.parse.unquote(b))')" \
		"True True True"
	# no name resolves (no query leaves this host whatever a page asks),
	# and none of the browser's own background traffic
	CHROME="--headless
--no-sandbox
--disable-gpu
--user-data-dir=$B/chrome
--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1
--disable-background-networking
--disable-component-update
--disable-sync
--disable-default-apps
--no-first-run
--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,AutofillServerCommunication
--disable-client-side-phishing-detection
--disable-domain-reliability
--virtual-time-budget=6000"
	browse() { # name fragment
		(IFS='
'; set -f
		timeout 90 chromium $CHROME --log-net-log="$B/$1.net.json" \
			--dump-dom "$U/?token=$T#/$2" >"$B/$1.dom.html" 2>"$B/$1.chrome.err"
		timeout 90 chromium $CHROME --window-size=1280,1000 \
			--screenshot="$B/shots/$1.png" "$U/?token=$T#/$2" >/dev/null 2>&1)
	}
	browse message message/1
	browse overview overview
	browse messages messages
	browse session session/1
	browse creds creds
	browse attachments attachments
	browse badsearch 'search?q=sha256:xyz'
	browse search 'search?q=PWNED'
	browse boolsearch 'search?q=(subject%3Ainvoice%20OR%20file%3A*.exe)%20NOT%20from%3Aalice'
	browse qlisting 'sessions?query=(subject%3Ainvoice%20OR%20file%3A*.exe)%20NOT%20from%3Aalice'
	browse messagerec message/1
	# a sorted listing's pages past the middle are asked the other way
	# round from the end (an offset steps over every row before it)
	stotal=$(get '/api/listing/messages?count=1' | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["total"])')
	# (the last half of the rows, a page: more than one row to turn)
	sper=$((stotal / 2)) slast=$((stotal - stotal / 2))
	browse sortedlast "messages?sort=size&desc=1&limit=$sper&offset=$slast"
	# ... and so are an unsorted selection's with a filter on (the
	# server turns only what no filter narrows: the page knows the count)
	utotal=$(get '/api/listing/messages?proto=smtp&count=1' | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["total"])')
	uper=$((utotal / 2)) ulast=$((utotal - utotal / 2))
	browse unsortedlast "messages?proto=smtp&limit=$uper&offset=$ulast"
	# (issue 30) a sorted listing's Next goes by the last row's key
	browse sortedfirst "messages?sort=size&desc=1&limit=2"
	snext=$(grep -o '<a href="#/messages?[^"]*">Next<' "$B/sortedfirst.dom.html" | sed 's/<a href="#\///; s/">Next<$//; s/&amp;/\&/g')
	browse sortednext "$snext"
	browse images "message/$imid"
	browse files files
	# (issue 31) times in the browser's zone, by the switch's choice as a
	# link carries it; then back to UTC for the pages after
	(export TZ=Asia/Kolkata; browse local 'messages?tz=local'; browse utcagain 'overview?tz=utc')
	browse values 'messages?values=from'
	browse unseen 'sessions?anomaly=no_such_thing'
	browse utf16bom "message/$u16a"
	browse utf16le "message/$u16b"
	for v in message overview messages session utf16bom utf16le values; do
		check "browser, $v page: the title is the page's, no script of the message ran" \
			"$(grep -o '<title>[^<]*</title>' "$B/$v.dom.html" | head -1)" "<title>mailsift</title>"
		check "browser, $v page: one script element, the page's own" \
			"$(grep -o '<script[^>]*>' "$B/$v.dom.html" | tr '\n' ' ')" '<script src="/app.js" defer=""> '
		[ -s "$B/shots/$v.png" ] && ok "browser, $v page: screenshot kept" || bad "browser, $v page: no screenshot"
		python3 - "$B/$v.net.json" "127.0.0.1:$PORT" >"$B/$v.net.out" 2>"$B/$v.preconnect" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ev = {v: k for k, v in d["constants"]["logEventTypes"].items()}
urls = set()
for e in d["events"]:
    p = e.get("params") or {}
    # requests made for the page (its site in the isolation key), not
    # the browser's own chatter (updates, accounts), which goes nowhere:
    # no name resolves
    if ev.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in p and \
            "127.0.0.1" in p.get("network_isolation_key", ""):
        urls.add(p["url"])
    # a connection opened ahead of time (Chromium's preload scanner)
    if p.get("is_preconnect") and sys.argv[2] not in p.get("url", ""):
        print("preconnect " + p["url"], file=sys.stderr)
print("\n".join(sorted(u for u in urls if sys.argv[2] not in u)))
PY
		check "browser, $v page: no request or connection to any host but the server" \
			"$(cat "$B/$v.net.out" "$B/$v.preconnect")" ""
	done
	kill "$lpid" 2>/dev/null
	check "browser: HTML in UTF-16, with and without a mark: no connection to the addresses in it" \
		"$(cat "$B/listener.count" 2>/dev/null || echo 0)" 0
	for m in $u16a $u16b; do
		curl -K "$B/auth.curl" -s -D "$B/u16.hdr" -o "$B/u16.html" "$U/message/$m/part/1.html"
		check "HTML in UTF-16 (message $m): served as UTF-8, every element that reaches out renamed" \
			"$(grep -ci '^Content-Type: text/html; charset=utf-8' "$B/u16.hdr") $(grep -o '<x-[a-z]*' "$B/u16.html" | tr '\n' ' ')" \
			"1 <x-link <x-link <x-meta <x-base <x-iframe "
	done
	check "browser: the messages page lists the rows of mailsift messages" \
		"$(python3 -c '
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    rows = 0
    def handle_starttag(s, t, a):
        if t == "tr": P.rows += 1
P().feed(open(sys.argv[1]).read()); print(P.rows - 1)' "$B/messages.dom.html")" \
		"$(./mailsift messages -d "$B/hostile.db" --json --limit 100 | wc -l)"
	check "browser: a name the log never saw is said in place of an empty table" \
		"$(grep -c "no anomaly of that name in this log" "$B/unseen.dom.html")|$(grep -c '>Nothing\.<' "$B/unseen.dom.html")" "1|0"
	# (issue 31) a credential's own id is no session's: the session links
	# of the credentials page are its session column's
	check "browser: credentials link to their own sessions" \
		"$(grep -o 'href="#/session/[0-9]*"' "$B/creds.dom.html" | sed 's/[^0-9]//g' | sort -n | tr '\n' ' ')" \
		"$(sqlite3 "$B/hostile.db" "SELECT session_id FROM auth ORDER BY 1" | tr '\n' ' ')"
	check "browser: attachments link to their messages and sessions" \
		"$(grep -o 'href="#/\(message\|session\)/[0-9]*"' "$B/attachments.dom.html" | sort -u | tr -d '"' | tr '\n' ' ')" \
		"$(sqlite3 "$B/hostile.db" "SELECT DISTINCT 'href=#/message/' || message_id FROM v_attachments UNION SELECT DISTINCT 'href=#/session/' || session_id FROM v_attachments ORDER BY 1" | tr '\n' ' ')"
	check "browser: transcript times as ISO 8601, not epoch seconds" \
		"$(grep -c '<td[^>]*>[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9:.]*Z</td>' "$B/session.dom.html" | awk '{ print ($1 >= 1) }')|$(grep -c '<td[^>]*>1[0-9]\{9\}\.[0-9]*</td>' "$B/session.dom.html")" "1|0"
	# (issue 31) follow the session: each side its colour, times relative
	# to the first line beside the clock's
	check "browser: a transcript's sides apart, each line's time from the first" \
		"$(grep -c '<tr class="who-client">' "$B/session.dom.html" | awk '{ print ($1 >= 1) }')|$(grep -c '<tr class="who-server">' "$B/session.dom.html" | awk '{ print ($1 >= 1) }')|$(grep -c '<td[^>]*>+0\.000</td>' "$B/session.dom.html")" "1|1|1"
	check "browser: the credentials form has the filters the server offers" \
		"$(grep -o '<input name="[a-z]*"' "$B/creds.dom.html" | sed 's/.*="//; s/"//' | tr '\n' ' ')" \
		"$(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["creds"]["values"]) + " ")' "$B/filters.json")"
	# pivots LINKS: of the links (one a line, "listing?query" or
	# "search?q=..."), how many, and how many lead to no rows (each said)
	pivots() {
		n=0 bad=0
		for h in $1; do
			n=$((n + 1))
			case $h in
			search\?*) k=$(get "/api/${h}" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null) ;;
			*) k=$(get "/api/listing/${h%%\?*}?${h#*\?}&count=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["total"])' 2>/dev/null) ;;
			esac
			[ "${k:-0}" -gt 0 ] || { bad=$((bad + 1)); echo "  pivot $h: ${k:-error}" >&2; }
		done
		echo "$n $bad"
	}
	# (issue 31) the overview's bars lead to the rows they count
	pv=$(grep -o '<a href="#/[a-z]*?[^"]*"' "$B/overview.dom.html" | sed 's/<a href="#\///; s/"$//; s/&amp;/\&/g' | sort -u)
	r=$(pivots "$pv"); npv=${r% *} pvbad=${r#* }
	check "browser: every bar of the overview leads to rows ($npv pivots)" \
		"$([ "$npv" -ge 5 ] && echo many)|$pvbad" "many|0"
	# (issue 31) every value a pivot: a click narrows the listing to it
	cpv=$(grep -o '<a href="#/messages?[^"]*"' "$B/messages.dom.html" | grep -v -E 'offset=|after=|before=|last=' | sed 's/<a href="#\///; s/"$//; s/&amp;/\&/g' | sort -u)
	r=$(pivots "$cpv"); cbad=${r#* }
	check "browser: the messages' senders, recipients, subjects, protocols and outcomes are pivots, each to rows" \
		"$(for f in proto from to subject outcome; do echo "$cpv" | grep -c "?$f="; done | awk '$1 > 0' | wc -l)|$cbad" "5|0"
	# (issue 31) a session's and a message's fields lead on: addresses,
	# sender, recipients, subject, a part's hash (a search) and file name
	ppv=$(cat "$B/message.dom.html" "$B/session.dom.html" | grep -o '<a href="#/[a-z]*?[^"]*"' | sed 's/<a href="#\///; s/"$//; s/&amp;/\&/g' | sort -u)
	r=$(pivots "$ppv"); pbad=${r#* }
	check "browser: a session's and a message's fields are pivots, each to rows" \
		"$(for f in 'sessions?host=' 'messages?from=' 'messages?to=' 'messages?subject=' 'search?q=sha256' 'attachments?name='; do echo "$ppv" | grep -c "^$f"; done | awk '$1 > 0' | wc -l)|$pbad" "6|0"
	# (issue 31) a column's values as bars, each leading to its rows
	vpv=$(grep -o '<a href="#/messages?[^"]*from=[^"]*"' "$B/values.dom.html" | sed 's/<a href="#\///; s/"$//; s/&amp;/\&/g' | sort -u)
	r=$(pivots "$vpv"); nv=${r% *} vbad=${r#* }
	check "browser: a column's values, a bar each leading to its rows" \
		"$nv|$vbad|$(grep -c 'Values of' "$B/messages.dom.html")" \
		"$(get "/api/listing/messages?values=from&limit=50" | python3 -c 'import json, sys; print(sum(1 for r in json.load(sys.stdin) if r["value"]))')|0|1"
	check "browser: a listing says which rows of how many, and downloads whole" \
		"$(grep -c '<span>Rows 1-[0-9]* of [0-9]*</span>' "$B/messages.dom.html")|$(grep -o 'href="/api/listing/messages?format=[a-z]*"' "$B/messages.dom.html" | tr '\n' ' ')" \
		"1|href=\"/api/listing/messages?format=csv\" href=\"/api/listing/messages?format=json\" "
	check "browser: a sorted listing's last page, asked from the end the other way round: the rows the offset gives, in order" \
		"$(grep -o '<span>Rows [0-9-]* of [0-9]*</span>' "$B/sortedlast.dom.html")|$(grep -o 'href="#/message/[0-9]*"' "$B/sortedlast.dom.html" | sed 's/[^0-9]//g' | tr '\n' ' ')|$(grep -c "api/listing/messages?sort=size&limit=$((stotal - slast))&offset=0" "$B/sortedlast.net.json" | awk '{ print ($1 > 0) }')|$([ "$sper" -ge 2 ] && echo rows-to-turn)" \
		"<span>Rows $((slast + 1))-$stotal of $stotal</span>|$(get "/api/listing/messages?sort=size&desc=1&format=json" | python3 -c 'import json, sys; print("".join("%d " % r["id"] for r in json.load(sys.stdin)['"$slast:$((slast + sper))"']))')|1|rows-to-turn"
	check "browser: an unsorted listing's last page with a filter on, asked from the end (desc alone turns the key): the rows the offset gives, in order" \
		"$(grep -o '<span>Rows [0-9-]* of [0-9]*</span>' "$B/unsortedlast.dom.html")|$(grep -o 'href="#/message/[0-9]*"' "$B/unsortedlast.dom.html" | sed 's/[^0-9]//g' | tr '\n' ' ')|$(grep -c "api/listing/messages?proto=smtp&limit=$((utotal - ulast))&offset=0&desc=1" "$B/unsortedlast.net.json" | awk '{ print ($1 > 0) }')|$([ "$uper" -ge 2 ] && echo rows-to-turn)" \
		"<span>Rows $((ulast + 1))-$utotal of $utotal</span>|$(get "/api/listing/messages?proto=smtp&format=json" | python3 -c 'import json, sys; print("".join("%d " % r["id"] for r in json.load(sys.stdin)['"$ulast:$((ulast + uper))"']))')|1|rows-to-turn"
	check "browser: a sorted listing's Next, by the last row's key: the rows an offset gives, Previous by the first's" \
		"$snext|$(grep -o 'href="#/message/[0-9]*"' "$B/sortednext.dom.html" | sed 's/[^0-9]//g' | tr '\n' ' ')|$(grep -o '<span>[^<]*</span>' "$B/sortednext.dom.html" | head -1)|$(grep -o '<a href="#/messages?[^"]*">Previous<' "$B/sortednext.dom.html" | sed 's/&amp;/\&/g')" \
		"messages?sort=size&desc=1&after=$(get "/api/listing/messages?sort=size&desc=1&limit=1&offset=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')&limit=2|$(get "/api/listing/messages?sort=size&desc=1&limit=2&offset=2" | python3 -c 'import json, sys; print("".join("%d " % r["id"] for r in json.load(sys.stdin)))')|<span>2 rows of $stotal, by size</span>|<a href=\"#/messages?sort=size&desc=1&before=$(get "/api/listing/messages?sort=size&desc=1&limit=1&offset=2" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')&limit=2\">Previous<"
	check "browser: a query the language refuses: said under the form, which stays" \
		"$(grep -c '<input name="q"' "$B/badsearch.dom.html")|$(grep -c '<p class="err">.*not an MD5, SHA-1 or SHA-256 in hex' "$B/badsearch.dom.html")" "1|1"
	check "browser: a search finds the hostile message, shown as text" \
		"$(grep -c 'href="#/message/' "$B/search.dom.html" | awk '{ print ($1 >= 1) }')|$(grep -c '<script>document' "$B/search.dom.html")" "1|0"
	# (issue 31) the language in the bar at the top of every page; its
	# operators in a shared link find what the API finds
	check "browser: the search bar on every page; a query with operators, its rows" \
		"$(cat "$B/overview.dom.html" "$B/messages.dom.html" "$B/session.dom.html" | grep -c '<form id="bar" role="search">')|$(grep -o 'href="#/message/[0-9]*"' "$B/boolsearch.dom.html" | sort -u | wc -l)" \
		"3|2"
	check "the API: the same query, the hostile message and the invoice" \
		"$(get '/api/search?q=(subject%3Ainvoice%20OR%20file%3A*.exe)%20NOT%20from%3Aalice' | python3 -c 'import json, sys; print(sorted({r["id"] for r in json.load(sys.stdin)}))')" "[1, 3]"
	# a listing filtered by the same query (query=, the bar on a
	# listing's page): the rows of those messages
	qsess=$(get '/api/search?q=(subject%3Ainvoice%20OR%20file%3A*.exe)%20NOT%20from%3Aalice' | python3 -c 'import json, sys; print(" ".join(str(s) for s in sorted({r["session"] for r in json.load(sys.stdin)})))')
	check "a listing takes the language: messages and sessions of what the query finds, in the browser too" \
		"$(get '/api/listing/messages?query=(subject%3Ainvoice%20OR%20file%3A*.exe)%20NOT%20from%3Aalice' | python3 -c 'import json, sys; print(sorted(r["id"] for r in json.load(sys.stdin)))')|$(get '/api/listing/sessions?query=(subject%3Ainvoice%20OR%20file%3A*.exe)%20NOT%20from%3Aalice' | python3 -c 'import json, sys; print(" ".join(str(r["id"]) for r in json.load(sys.stdin)))')|$(grep -o 'href="#/session/[0-9]*"' "$B/qlisting.dom.html" | sort -u | sed 's/[^0-9]//g' | sort -n | tr '\n' ' ' | sed 's/ $//')|$(grep -c '<input name="query"' "$B/qlisting.dom.html")" \
		"[1, 3]|$qsess|$qsess|0"
	check "a listing's query the language refuses: 400, said" \
		"$(code "$U/api/listing/messages?query=(proto%3Asmtp")|$(get '/api/listing/messages?query=(proto%3Asmtp' | grep -c 'left open')" \
		"400|1"
	# (issue 31) time: a histogram over the log's own span, its bars'
	# counts the log's, each bar leading to its rows (checked with the
	# overview's other bars above); the first bin not before the first
	# message's day
	check "browser: the timelines count every message and session, over the log's span" \
		"$(python3 -c '
import re, sys
d = open(sys.argv[1]).read()
svgs = re.findall(r"<svg[^>]*class=\"timeline\".*?</svg>", d, re.S)
print("|".join(str(sum(int(n) for n in re.findall(r"<title>[^<]*: ([0-9]+)</title>", s))) for s in svgs),
      re.findall(r"<text[^>]*>([0-9-]{10})", svgs[0])[0] if svgs else "")' "$B/overview.dom.html")" \
		"$(sqlite3 "$B/hostile.db" "SELECT (SELECT count(*) FROM messages WHERE partial = 0) || '|' || (SELECT count(*) FROM sessions) || ' ' || (SELECT date(min(begin_ts), 'unixepoch') FROM messages)")"
	check "browser: times in the browser's zone when the switch says so (+05:30)" \
		"$(grep -o '<td class="whole">[0-9-]* [0-9:]*+05:30</td>' "$B/local.dom.html" | head -1 | sed 's/<[^>]*>//g')|$(grep -c 'Times: local' "$B/local.dom.html")" \
		"$(sqlite3 "$B/hostile.db" "SELECT datetime(begin_ts, 'unixepoch', '+330 minutes') || '+05:30' FROM messages WHERE partial = 0 ORDER BY id LIMIT 1")|1"
	check "browser: ... and in UTC again when a link says so" \
		"$(grep -c 'Times: UTC' "$B/utcagain.dom.html")" 1
	# (issue 31) images shown as images, from this server only, typed by
	# their bytes: the PNG is one, the SVG sent as image/png is not
	check "browser: a message's images and the Files view's thumbnails, the PNG only" \
		"$(grep -o '<img src="/file/[0-9a-f]*\.image"' "$B/images.dom.html" | sort -u | tr '\n' ' ')|$(grep -o '<img src="/file/[0-9a-f]*\.image"' "$B/files.dom.html" | sort -u | tr '\n' ' ')|$(grep -c PWNED-SVG "$B/images.dom.html")" \
		"<img src=\"/file/$pngsha.image\" |<img src=\"/file/$pngsha.image\" |0"
	curl -K "$B/auth.curl" -s -D "$B/img.hdr" -o "$B/img.body" "$U/file/$pngsha.image"
	check "/file/SHA.image: the PNG's bytes, typed by them, sandboxed, not sniffed" \
		"$(sha256sum <"$B/img.body" | cut -d' ' -f1)|$(grep -i '^Content-Type:' "$B/img.hdr" | tr -d '\r')|$(grep -ci '^Content-Security-Policy:.*sandbox' "$B/img.hdr")|$(grep -ci '^X-Content-Type-Options: nosniff' "$B/img.hdr")" \
		"$pngsha|Content-Type: image/png|1|1"
	check "/file/SHA.image: SVG sent as image/png is no image (404), nor a bad name" \
		"$(code "$U/file/$svgsha.image")|$(code "$U/file/$(echo "$pngsha" | tr a-f A-F).image")|$(code "$U/file/$pngsha.svg")" "404|404|404"
	# (issue 31) a pivot's term, for Alt- or Shift-click to add it to the
	# bar's query: each one the search language takes, and finds rows
	tbad=0; nt=0
	for t in $(grep -ho 'data-term="[^"]*"' "$B/messages.dom.html" "$B/message.dom.html" | sed 's/^data-term="//; s/"$//' | sort -u | head -12 | tr ' ' '+'); do
		nt=$((nt + 1))
		n=$(get "/api/search?q=$(python3 -c 'import html, sys, urllib.parse; print(urllib.parse.quote(html.unescape(sys.argv[1].replace("+", " "))))' "$t")" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null)
		[ "${n:-0}" -gt 0 ] || { tbad=$((tbad + 1)); echo "  term $t: ${n:-refused}"; }
	done
	check "browser: pivots carry their search terms, each finding messages" \
		"$([ "$nt" -ge 4 ] && echo some)|$tbad" "some|0"
	# (issue 31) with a real pointer (the DevTools protocol,
	# tests/tools/cdp.py): a drag across the timeline opens the listing
	# of the span it covered, bin boundaries both; a click on a pivot
	# with Alt held puts its term in the bar and stays on the page
	CDP_FLAGS=$(echo "$CHROME" | grep -v -e '^--headless$' -e '^--virtual-time-budget')
	export CDP_FLAGS
	drag=$(timeout 60 python3 tests/tools/cdp.py "$U/?token=$T#/overview" drag 'svg.timeline' 2>&1)
	alt=$(timeout 60 python3 tests/tools/cdp.py "$U/?token=$T#/messages" altclick 'a[data-term^="from:"]' 2>&1 | tr '\n' ' ')
	term=$(grep -o 'data-term="from:[^"]*"' "$B/messages.dom.html" | head -1 | sed 's/^data-term="//; s/"$//' | python3 -c 'import html, sys; print(html.unescape(sys.stdin.read().strip()))')
	check "browser, a real pointer: a drag across the timeline, the listing of its span" \
		"$(echo "$drag" | python3 -c '
import sys, urllib.parse
h = sys.stdin.read().strip()
path, _, q = h.partition("?")
q = dict(urllib.parse.parse_qsl(q))
s, u = q.get("since", ""), q.get("until", "")
print(path, s < u, s.endswith(":00:00Z"), u.endswith(":00:00Z"))')" \
		"#/messages True True True"
	check "browser, a real pointer: Alt-click on a pivot adds its term to the bar, the page stays" \
		"$alt" "$term #/messages "
	check "browser: a message's own fields, one a line" \
		"$(grep -o '<table class="record">' "$B/messagerec.dom.html" | wc -l)|$(grep -c '<th>subject</th>' "$B/messagerec.dom.html")" "1|1"
	check "browser: the message's payloads show as text" \
		"$(grep -c "&lt;script&gt;document.title='PWNED-FROM'&lt;/script&gt;" "$B/message.dom.html") $(grep -c "PWNED-SUBJECT" "$B/message.dom.html")" "1 1"
	check "browser: the subject's right-to-left override shown, not obeyed" \
		"$(grep -c 'PWNED-SUBJECT.*\\u202e gnp.exe' "$B/message.dom.html")" "1"
	grep -q '<iframe sandbox="" referrerpolicy="no-referrer" src="/message/1/part/1.html"' "$B/message.dom.html" &&
		ok "browser: the HTML part in a frame sandboxed without allow-scripts" || bad "browser: the HTML part's frame"
	check "browser: a session's transcript, as mailsift show's lines" \
		"$(python3 -c '
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.h = ""; s.rows = {}; s.cur = None; s.inh = False
    def handle_starttag(s, t, a):
        if t == "h3": s.inh = True; s.h = ""
        if t == "tr" and s.h: s.rows[s.h] = s.rows.get(s.h, 0) + 1
    def handle_endtag(s, t):
        if t == "h3": s.inh = False
    def handle_data(s, d):
        if s.inh: s.h += d
p = P(); p.feed(open(sys.argv[1]).read()); print(p.rows.get("Transcript", 1) - 1)' "$B/session.dom.html")" \
		"$(./mailsift show 1 -d "$B/hostile.db" | tail -n +2 | wc -l)"
else
	echo "skip browser: no chromium"
fi

kill -TERM "$pid"; wait "$pid"; rc=$?
check "SIGTERM: exit 0" "$rc" 0

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# Beyond the loopback: HTTPS or an explicit --plain-http
"$BIN" serve -d "$B/log.db" --listen "0.0.0.0:$PORT" 2>"$B/t.err"
check "listening beyond the loopback in plain HTTP: exit 2, said" \
	"$?|$(grep -c 'give --tls-cert and --tls-key' "$B/t.err")" "2|1"
"$BIN" serve -d "$B/log.db" --listen "0.0.0.0:$PORT" --no-token 2>"$B/t.err"
check "--no-token beyond the loopback: exit 2" "$?" 2
# a port another program holds: said with why, the port as given
TPORT=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$TPORT" & hpid=$!
for _ in $(seq 50); do python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$TPORT" 2>/dev/null && break; sleep 0.1; done
"$BIN" serve -d "$B/log.db" --listen "127.0.0.1:$TPORT" --no-token 2>"$B/t.err"
check "a port taken: exit 2, said with why, the port as given" \
	"$?|$(cat "$B/t.err")" "2|mailsift serve: cannot listen on 127.0.0.1:$TPORT: Address already in use"
kill "$hpid" 2>/dev/null; wait "$hpid" 2>/dev/null

# The token (issue 34): random by default and said once; from ?token= a
# cookie the page's own requests carry; a foreign Host refused whatever
# it holds (DNS rebinding); --no-creds on every answer.
rm -f "$B/t.err"; "$BIN" serve -d "$B/log.db" --listen "127.0.0.2:$PORT" --no-creds 2>"$B/t.err" & pid=$!
U2=http://127.0.0.2:$PORT
for _ in $(seq 50); do [ -s "$B/t.err" ] && break; sleep 0.1; done
T2=$(sed -n 's/.*?token=\([0-9a-f]*\) .*/\1/p' "$B/t.err")
check "a random token by default, said once" "${#T2}" 32
check "without it: 401" "$(code "$U2/api/listing/sessions")" 401
check "a wrong one: 401" "$(code -H 'Authorization: Bearer 0123456789abcdef0124' "$U2/api/listing/sessions")" 401
check "with it: 200" "$(code -H "Authorization: Bearer $T2" "$U2/api/listing/sessions")" 200
hdr=$(curl -s -D- -o /dev/null "$U2/?token=$T2")
check "?token= on the page: a redirect out of the address bar, the token in a cookie" \
	"$(echo "$hdr" | tr -d '\r' | grep -c -e '^HTTP/1.1 303' -e '^Location: /$' -e "^Set-Cookie: mailsift_token_$PORT=$T2; Path=/; HttpOnly; SameSite=Strict$")" 3
check "the cookie opens the page's script and the API" \
	"$(code -b "mailsift_token_$PORT=$T2" "$U2/app.js") $(code -b "mailsift_token_$PORT=$T2" "$U2/api/listing/sessions")" "200 200"
check "a wrong cookie: 401" "$(code -b "mailsift_token_$PORT=x$T2" "$U2/api/listing/sessions")" 401
check "DNS rebinding: a foreign Host refused, token or not" \
	"$(code -H 'Host: rebind.attacker.example:8025' "$U2/api/listing/creds") $(code -H 'Host: rebind.attacker.example:8025' -H "Authorization: Bearer $T2" "$U2/api/listing/sessions")" "421 421"
check "... addresses and localhost are this server" \
	"$(code -H "Host: localhost:$PORT" -H "Authorization: Bearer $T2" "$U2/api/listing/sessions") $(code -H "Host: [::1]:$PORT" -H "Authorization: Bearer $T2" "$U2/api/listing/sessions")" "200 200"
A2="Authorization: Bearer $T2"
check "--no-creds: no credentials listing" "$(code -H "$A2" "$U2/api/listing/creds")" 404
check "--no-creds: no packets (they carry what logged in)" "$(code -H "$A2" "$U2/session/1.pcap")" 403
# every password and initial response the log holds, nowhere in any
# session's answer; the transcript says a password crossed
sqlite3 "$B/log.db" "SELECT password FROM auth WHERE password IS NOT NULL UNION SELECT substr(args, instr(args, ' ') + 1) FROM commands WHERE verb IN ('AUTH', 'AUTHENTICATE') AND instr(args, ' ') > 0 UNION SELECT args FROM commands WHERE verb = 'PASS'" >"$B/secrets"
: >"$B/nocreds.json"
for sid in $(sqlite3 "$B/log.db" "SELECT DISTINCT session_id FROM auth UNION SELECT session_id FROM commands WHERE verb IN ('PASS', 'LOGIN', 'AUTH', 'APOP')"); do
	curl -s -H "$A2" "$U2/api/session?id=$sid" >>"$B/nocreds.json"
done
check "--no-creds: no password, initial response or PASS argument in any transcript" \
	"$(grep -c -F -f "$B/secrets" "$B/nocreds.json")|$(wc -l <"$B/secrets")" "0|$(wc -l <"$B/secrets")"
check "--no-creds: the transcript says a password crossed, hidden" \
	"$(grep -o -e 'PASS \[hidden\]' -e 'AUTH PLAIN \[hidden\]' -e 'LOGIN [^ ]* \[hidden\]' -e 'password \[hidden\]' "$B/nocreds.json" | sed 's/LOGIN [^ ]*/LOGIN u/' | sort -u | tr '\n' ',')" \
	"AUTH PLAIN [hidden],LOGIN u [hidden],PASS [hidden],password [hidden],"
kill -TERM "$pid"; wait "$pid"
rm -f "$B/t.err"; "$BIN" serve -d "$B/log.db" --listen "127.0.0.2:$PORT" --token 0123456789abcdef0123 --allow-host mail-sensor.example 2>"$B/t.err" & pid=$!
for _ in $(seq 50); do [ -s "$B/t.err" ] && break; sleep 0.1; done
check "--allow-host: that name is this server too" \
	"$(code -H 'Host: mail-sensor.example:8025' -H 'Authorization: Bearer 0123456789abcdef0123' "$U2/api/listing/sessions") $(code -H 'Host: other.example:8025' -H 'Authorization: Bearer 0123456789abcdef0123' "$U2/api/listing/sessions")" "200 421"
check "--token: as given" "$(code -H 'Authorization: Bearer 0123456789abcdef0123' "$U2/api/listing/sessions")" 200
kill -TERM "$pid"; wait "$pid"
rm -f "$B/t.err"; MAILSIFT_TOKEN=from-the-environment-0123 MAILSIFT_RANK_MAX=1 "$BIN" serve -d "$B/log.db" --listen "127.0.0.2:$PORT" 2>"$B/t.err" & pid=$!
for _ in $(seq 50); do [ -s "$B/t.err" ] && break; sleep 0.1; done
check "MAILSIFT_TOKEN: the token, not said" \
	"$(code -H 'Authorization: Bearer from-the-environment-0123' "$U2/api/listing/sessions")|$(grep -c 'from-the-environment' "$B/t.err")" "200|0"
# (a bound of 1 stands for the 20,000 past which a text is not ranked)
gt() { curl -s -H 'Authorization: Bearer from-the-environment-0123' "$U2$1"; }
check "search past the bound: the last logged first, and said so" \
	"$(gt "/api/search?q=the&about=1")|$(gt "/api/search?q=the" | python3 -c 'import json, sys; r = [x["id"] for x in json.load(sys.stdin)]; print(len(r) > 1 and r == sorted(r, reverse=True))')" \
	'{"order":"last_logged","rank_max":1}|True'
kill -TERM "$pid"; wait "$pid"

# Bytes that are not UTF-8 in a subject, a name, a header, a text and a
# file name: every JSON answer stays valid UTF-8 (U+FFFD for them), as a
# strict parser reads it.
mkdir -p "$B/bad"
python3 tests/tools/mkcharsets.py "$B/bad" 1
build/rel/tools/pcapgen --eml "$B/bad/badutf8.eml" "$B/bad" badutf8
./mailsift read -q --replace -o "$B/bad.db" "$B/bad/badutf8.pcap" tests/pcap/demo.pcap 2>/dev/null
rm -f "$B/t.err"; "$BIN" serve -d "$B/bad.db" --listen "127.0.0.2:$PORT" --token-file "$B/token" 2>"$B/t.err" & pid=$!
for _ in $(seq 50); do [ -s "$B/t.err" ] && break; sleep 0.1; done
: >"$B/bad.answers"
for p in /api/listing/sessions /api/listing/messages /api/listing/attachments /api/listing/urls \
	/api/listing/creds /api/listing/tls "/api/search?q=badutf8" /api/overview \
	$(sqlite3 "$B/bad.db" "SELECT '/api/session?id=' || id FROM sessions; SELECT '/api/message?id=' || id FROM messages"); do
	curl -K "$B/auth.curl" -s "$U2$p" >"$B/bad.one"
	python3 -c '
import json, sys
json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))' "$B/bad.one" 2>/dev/null ||
		echo "$p" >>"$B/bad.answers"
done
check "bytes that are not UTF-8: every JSON answer valid UTF-8 and JSON" "$(cat "$B/bad.answers")" ""
check "... the subject with U+FFFD where they were" \
	"$(curl -K "$B/auth.curl" -s "$U2/api/listing/messages" | python3 -c 'import json, sys; print(ascii([m["subject"] for m in json.load(sys.stdin) if "badutf8" in (m.get("subject") or "")]))')" \
	"['badutf8 \ufffd\ufffd\ufffd \ufffd cut \ufffd\ufffd']"
kill -TERM "$pid"; wait "$pid"

# HTTPS: a certificate and key of the test's own (openssl)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=localhost -keyout "$B/key.pem" -out "$B/cert.pem" 2>/dev/null
"$BIN" serve -d "$B/log.db" --listen "127.0.0.2:$PORT" --token-file "$B/token" \
	--tls-cert "$B/cert.pem" --tls-key "$B/key.pem" 2>"$B/t.err" & pid=$!
for _ in $(seq 50); do curl -sk -o /dev/null "https://127.0.0.2:$PORT/" && break; sleep 0.1; done
check "--tls-cert: HTTPS with the token, the cookie Secure" \
	"$(code --cacert "$B/cert.pem" --resolve "localhost:$PORT:127.0.0.2" -H "Authorization: Bearer $T" "https://localhost:$PORT/api/listing/sessions") $(curl -sk -D- -o /dev/null "https://127.0.0.2:$PORT/?token=$T" | grep -c '; Secure')" \
	"200 1"
check "... and no plain HTTP there" "$(code "$U2/")" 000
kill -TERM "$pid"; wait "$pid"

# Slow clients (slowloris): 64 requests from one address, each sending a
# header line every 3 s, are cut when their 10 s run out, and a normal
# request from that address is answered then (before: refused as long as
# they trickled); another address is answered all along.
rm -f "$B/t.err"; "$BIN" serve -d "$B/log.db" --listen "127.0.0.2:$PORT" --token-file "$B/token" 2>"$B/t.err" & pid=$!
for _ in $(seq 50); do [ -s "$B/t.err" ] && break; sleep 0.1; done
check "slow clients: cut at the deadline, the next request answered" \
	"$(python3 - "$PORT" "$T" <<'PY'
import socket, subprocess, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
slow = []
for _ in range(64):
    s = socket.create_connection(("127.0.0.2", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.2\r\n")
    slow.append(s)
def status(source=None):  # None: the address the slow ones came from
    return subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}"] +
                          (["--interface", source] if source else []) +
                          ["-H", "Authorization: Bearer " + token,
                           "http://127.0.0.2:%d/api/listing/sessions" % port],
                          capture_output=True, text=True).stdout
before = status()
other = status("127.0.0.3")
cut = 0
t0 = time.time()
while time.time() - t0 < 13:
    for s in slow:
        try:
            s.sendall(b"X-Slow: 1\r\n")
        except OSError:
            pass
    time.sleep(3)
for s in slow:
    s.settimeout(0.5)
    try:
        if s.recv(100) == b"":
            cut += 1
    except OSError:
        cut += 1
print(before, other, cut, status())
PY
)" "000 200 64 200"
kill -TERM "$pid"; wait "$pid"

# (issue 31) the overview, counted once and kept: the same answer while
# the log stands still, counted again once it grows (--recount 1 here)
./mailsift read -q --replace -o "$B/grow.db" tests/pcap/demo.pcap 2>/dev/null
rm -f "$B/t.err"; "$BIN" serve -d "$B/grow.db" --listen "127.0.0.2:$PORT" --token-file "$B/token" --recount 1 2>"$B/t.err" & pid=$!
for _ in $(seq 50); do [ -s "$B/t.err" ] && break; sleep 0.1; done
ov() { curl -K "$B/auth.curl" -s "$U2/api/overview" | python3 -c 'import json, sys; o = json.load(sys.stdin); print(o["as of"], sum(r["sessions"] for r in o["sessions by protocol"]))'; }
o1=$(ov); sleep 1.5; o2=$(ov)
check "overview: kept while the log stands still (counted once)" "$o2" "$o1"
./mailsift read -q -o "$B/grow.db" tests/pcap/journeys.pcap 2>/dev/null
sleep 1.1; o3=$(ov)
check "overview: counted again once the log grew, with the new sessions" \
	"$([ "${o3% *}" != "${o1% *}" ] && echo recounted)|${o3#* }" \
	"recounted|$(sqlite3 "$B/grow.db" "SELECT count(*) FROM sessions")"
check "--recount: a value that is not seconds is refused" \
	"$("$BIN" serve -d "$B/grow.db" --recount 5x 2>"$B/recount.err"; echo $?)|$(grep -c 'bad --recount' "$B/recount.err")" "2|1"
kill -TERM "$pid"; wait "$pid"

# (issue 30) slow answers kept while the log is the same (here every
# answer: MAILSIFT_ANSWER_KEEP_MS=0), said by HTTP's Age; made again
# once the log grew and --recount passed; downloads never kept
./mailsift read -q --replace -o "$B/grow.db" tests/pcap/demo.pcap 2>/dev/null
rm -f "$B/t.err"; MAILSIFT_ANSWER_KEEP_MS=0 "$BIN" serve -d "$B/grow.db" --listen "127.0.0.2:$PORT" --token-file "$B/token" --recount 1 2>"$B/t.err" & pid=$!
for _ in $(seq 50); do [ -s "$B/t.err" ] && break; sleep 0.1; done
kept() { curl -K "$B/auth.curl" -s -D "$B/kept.h" "$U2/api/listing/$1" | tr -d '\n'; printf '|%s' "$(grep -ci '^age:' "$B/kept.h")"; }
k1=$(kept 'sessions?count=1'); sleep 1.2; k2=$(kept 'sessions?count=1')
check "kept answers: the same, said by Age, while the log stands still" \
	"${k1%|*}|${k2}" "[{\"total\":$(sqlite3 "$B/grow.db" "SELECT count(*) FROM sessions")}]|[{\"total\":$(sqlite3 "$B/grow.db" "SELECT count(*) FROM sessions")}]|1"
h1=$(kept 'hosts?limit=100'); h2=$(kept 'hosts?limit=100')
check "kept answers: the hosts page the same kept as made" "${h2%|*}|${h2##*|}" "${h1%|*}|1"
check "kept answers: a download is never kept" "$(kept 'hosts?format=csv' | sed 's/.*|//')" 0
./mailsift read -q -o "$B/grow.db" tests/pcap/journeys.pcap 2>/dev/null
sleep 1.1; k3=$(kept 'sessions?count=1')
check "kept answers: made again once the log grew, with the new sessions" \
	"$k3" "[{\"total\":$(sqlite3 "$B/grow.db" "SELECT count(*) FROM sessions")}]|0"
kill -TERM "$pid"; wait "$pid"

# (issue 31) a stray time: a capture stamped at the epoch beside 400
# notifications of its own year.  The timelines span the notifications,
# the stray said beneath them with a link to its rows (the chart once
# ran from 1970, squashing the rest into one bar).
if command -v chromium >/dev/null 2>&1 && [ -x build/rel/tools/pcapgen ]; then
	build/rel/tools/pcapgen --tiny "$B/tiny.pcap" 400 7 >/dev/null 2>&1
	python3 - tests/pcap/demo.pcap "$B/epoch.pcap" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
off, first = 24, None
while off + 16 <= len(d):
    ts, us, incl, orig = struct.unpack_from("<IIII", d, off)
    first = ts if first is None else first
    struct.pack_into("<I", d, off, ts - first + 100)
    off += 16 + incl
open(sys.argv[2], "wb").write(d)
PY
	./mailsift read -q --replace -o "$B/stray.db" "$B/tiny.pcap" "$B/epoch.pcap" 2>/dev/null
	# (on 127.0.0.1: the browser resolves no other name or address)
	SPORT=$(free_port)
	rm -f "$B/t.err"; "$BIN" serve -d "$B/stray.db" --listen "127.0.0.1:$SPORT" --token-file "$B/token" 2>"$B/t.err" & pid=$!
	for _ in $(seq 50); do [ -s "$B/t.err" ] && break; sleep 0.1; done
	(IFS='
'; set -f
	timeout 90 chromium $CHROME --dump-dom "http://127.0.0.1:$SPORT/?token=$(cat "$B/token")#/overview" >"$B/stray.dom.html" 2>/dev/null)
	gone "$pid" "$B/t.err"
	kill -TERM "$pid" 2>/dev/null; wait "$pid"
	strays=$(sqlite3 "$B/stray.db" "SELECT count(*) FROM messages WHERE partial = 0 AND begin_ts < 86400")
	check "a stray time: the timelines span the rest, the strays said with a link to their rows" \
		"$(python3 -c '
import re, sys
d = open(sys.argv[1]).read()
svgs = re.findall(r"<svg[^>]*class=\"timeline\".*?</svg>", d, re.S)
print(" ".join(re.findall(r"<text[^>]*>([0-9]{4})-", s)[0] for s in svgs))' "$B/stray.dom.html")|$(grep -o '<p class="strays">[0-9]* messages far outside' "$B/stray.dom.html" | grep -o '[0-9]*' | head -1)|$(grep -c 'href="#/messages?since=1970-01-01T00%3A00%3A00Z' "$B/stray.dom.html")" \
		"2023 2023|$strays|1"
fi

echo "serve: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
