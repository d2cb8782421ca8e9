#!/bin/sh
# The analyst's console on the public captures (issue 28), each example
# of the issue as it was reported: the outcome of a message shown, one
# capture giving one answer whatever else is read with it, counts that
# agree, search and filters as analysts type them, whole output, the
# wire in transcripts, and help that matches the man page.  The public
# corpus lives beside the repository; without it, the parts that need it
# are skipped (help and man are checked anyway).
set -u
cd "$(dirname "$0")/.."
B=build/console
BIN=${BIN:-./mailsift}
P=../shared/corpus/public
pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "  expected: $3"; echo "  got:      $2"; fi; }
rm -rf "$B"; mkdir -p "$B"

# Help and man page: every long option a command's --help names is in the
# man page, and every one the man page names is in some --help.
for c in read live sessions messages creds attachments urls tls findings \
	show stats search export extract serve "case export" "case iocs"; do
	# shellcheck disable=SC2086
	"$BIN" $c --help 2>&1
done | grep -o -- '--[a-z][a-z0-9-]*' | sort -u >"$B/help.opts"
sed 's/\\-/-/g' mailsift.1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u >"$B/man.opts"
check "every option of --help in the man page, and the other way round" \
	"$(comm -3 "$B/help.opts" "$B/man.opts" | tr -d '\t' | tr '\n' ' ')" ""
check "show --help and stats --help are their own" \
	"$("$BIN" show --help | head -1 | cut -d' ' -f1-3) $("$BIN" stats --help | head -1 | cut -d' ' -f1-3)" \
	"usage: mailsift show usage: mailsift stats"
check "export --help names every file export writes" \
	"$("$BIN" export --help | tr '\n' ' ' | grep -o '[a-z0-9]*\.log' | tr '\n' ' ')" \
	"smtp.log pop3.log imap.log messages.log files.log urls.log ssl.log x509.log "

if [ ! -d "$P" ]; then
	echo "console: public captures not found ($P): the rest skipped"
	echo "console: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
fi
ALL=$(ls "$P"/*.pcap "$P"/*.pcapng "$P"/*.cap)
"$BIN" read -o "$B/all.db" $ALL 2>"$B/read.err"
DB=$B/all.db

# 1. Outcome: suricata's smtp-data-rejected is refused by the server.
REJ=$P/suricata-smtp-data-rejected-10.7.29.101_49898-178.63.41.150_25.pcap
sid=$(sqlite3 "$DB" "SELECT id FROM sessions WHERE capture_file = '$REJ'")
check "show: the 554 rejection follows the message" \
	"$("$BIN" show "$sid" -d "$DB" | grep -A1 ' M: \[message' | tail -1 | sed 's/^.* S: //')" \
	"554 5.7.1 Message contains virus: rejected."
check "messages --outcome rejected: that message, its session and outcome" \
	"$("$BIN" messages -d "$DB" --outcome rejected --csv | tail -n +2 | cut -d, -f2,12)" "$sid,rejected"
check "attachments: the outcome of the message they came in" \
	"$("$BIN" attachments -d "$DB" --outcome rejected --json | python3 -c 'import json, sys; print(sorted({json.loads(l)["outcome"] for l in sys.stdin}))')" \
	"['rejected']"
"$BIN" export --json -d "$DB" -o "$B/export" 2>/dev/null
check "export: messages.log and smtp.log carry the outcome" \
	"$(grep -c '"outcome":"rejected","outcome_reply":"554 5.7.1 Message contains virus: rejected."' "$B/export/messages.log") $(grep -c '"outcome":"rejected"' "$B/export/smtp.log")" "1 1"
zs=$(sqlite3 "$DB" "SELECT min(id) FROM sessions WHERE capture_file = '$P/zeek-smtp.pcap' AND id IN (SELECT session_id FROM messages)")
check "show on zeek-smtp: the final 250 after the message" \
	"$("$BIN" show "$zs" -d "$DB" | grep -A1 ' M: \[message' | tail -1 | sed 's/^.* S: \([0-9]*\).*/\1/')" "250"

# 2. One capture, one answer: the sessions of every capture the same read
# together, alone, in reverse order and with --jobs 2; start times are
# the connection's first packet, as tshark sees it.
Q="SELECT capture_file, proto, client_ip, client_port, server_ip, server_port,
	printf('%.6f', start_ts), printf('%.6f', end_ts), end_reason,
	first_frame, last_frame, last_capture_file,
	(SELECT group_concat(sha256) FROM (SELECT sha256 FROM messages m
	  WHERE m.session_id = s.id ORDER BY m.id))
	FROM sessions s"
sqlite3 "$DB" "$Q" | sort >"$B/together"
: >"$B/alone.unsorted"; i=0
for f in $ALL; do
	i=$((i + 1))
	"$BIN" read -q -o "$B/alone$i.db" "$f" 2>/dev/null
	sqlite3 "$B/alone$i.db" "$Q" >>"$B/alone.unsorted" 2>/dev/null
done
sort "$B/alone.unsorted" >"$B/alone"
check "every capture's sessions the same read with the others as alone" \
	"$(diff "$B/together" "$B/alone" | grep -c '^<')|$(wc -l <"$B/together")" "0|$(wc -l <"$B/alone")"
"$BIN" read -q -o "$B/reverse.db" $(echo "$ALL" | sort -r) 2>/dev/null
check "... and in reverse order" "$(sqlite3 "$B/reverse.db" "$Q" | sort | diff - "$B/together" | grep -c '^<')" 0
"$BIN" read -q -j 2 -o "$B/jobs.db" $ALL 2>/dev/null
check "... and with --jobs 2" "$(sqlite3 "$B/jobs.db" "$Q" | sort | diff - "$B/together" | grep -c '^<')" 0
# a damaged capture is said once, not by every job, and still exits 1
DMG=$P/suricata-smtp-to-comma-10.7.29.101_49898-178.63.41.150_25.pcap
"$BIN" read -q -j 3 -o "$B/jobs-dmg.db" "$DMG" 2>"$B/jobs-dmg.err"
check "--jobs 3 on a damaged capture: said once, exit 1" \
	"$?|$(grep -c 'damaged after packet' "$B/jobs-dmg.err")" "1|1"
# each file's digest is taken by one job and recorded in every job's run
C="SELECT path || '|' || ifnull(sha256, '-') || '|' || ifnull(size, '-')
	|| '|' || packets FROM captures"
sqlite3 "$DB" "$C" | sort >"$B/captures.one"
"$BIN" read -q -j 3 -o "$B/jobs3.db" $ALL 2>/dev/null
runs=$(sqlite3 "$B/jobs3.db" "SELECT DISTINCT run_id FROM captures")
same=0
for r in $runs; do
	sqlite3 "$B/jobs3.db" "$C WHERE run_id = $r" | sort | cmp -s - "$B/captures.one" && same=$((same + 1))
done
check "--jobs 3: each job's run records every capture, its SHA-256 as one job's" \
	"$(echo $runs | wc -w) $same $(grep -c '|-|' "$B/captures.one")" "3 3 0"
for f in $ALL; do
	tshark -r "$f" -Y tcp -T fields -e frame.time_epoch -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport \
		-e ipv6.src -e ipv6.dst 2>/dev/null |
		awk -v f="$f" -F'\t' '{ s = $2 != "" ? $2 : $6; d = $4 != "" ? $4 : $7;
			k1 = s "|" $3 "|" d "|" $5; k2 = d "|" $5 "|" s "|" $3;
			if (!(k1 in t) && !(k2 in t)) t[k1] = $1 }
			END { for (k in t) printf "%s|%s|%.6f\n", f, k, t[k] }'
done | sort >"$B/tshark.first"
sqlite3 "$DB" "SELECT capture_file || '|' || client_ip || '|' || client_port || '|' || server_ip || '|' || server_port || '|' || printf('%.6f', start_ts) FROM sessions WHERE midstream = 0 AND client_ip NOT LIKE '%:%'" | sort >"$B/ours.first"
check "start time: the connection's first packet, as tshark sees it" \
	"$(comm -23 "$B/ours.first" "$B/tshark.first" | head -3)" ""

# 4. Counts agree: read's summary, stats, messages and search count the
# same messages (pieces apart, and listable).
n_read=$(sed -n 's/^  messages   \([0-9]*\) .*/\1/p' "$B/read.err")
n_list=$("$BIN" messages -d "$DB" --csv | tail -n +2 | wc -l)
n_stats=$("$BIN" stats -d "$DB" --json | python3 -c 'import json, sys; print(sum(json.loads(l)["messages"] for l in sys.stdin if json.loads(l)["section"] == "messages"))')
n_pieces=$(sed -n 's/.* \([0-9]*\) pieces .*/\1/p' "$B/read.err")
check "read's summary, messages and stats count the same messages" "$n_read $n_list" "$n_stats $n_stats"
check "pieces counted apart, listed with --pieces" \
	"$("$BIN" messages -d "$DB" --pieces --csv | tail -n +2 | wc -l)" "$((n_list + n_pieces))"
check "every listing names the session" \
	"$(for l in messages creds attachments urls; do "$BIN" $l -d "$DB" --csv --limit 1 | head -1 | tr ',' '\n' | grep -c '^session$'; done | tr '\n' ' ')" "1 1 1 1 "

# (issue 31) a column's values and how many rows have each, most first,
# as the filters keep them (Arkime's SPI view): the counts are the rows
check "--values: a column's values with their counts add up to the rows" \
	"$("$BIN" sessions -d "$DB" --proto smtp --values server --csv | tail -n +2 | awk -F, '{ n += $2 } END { print n }')" \
	"$("$BIN" sessions -d "$DB" --proto smtp --csv | tail -n +2 | wc -l)"
check "--values: most first, each value once" \
	"$("$BIN" sessions -d "$DB" --values client --csv | tail -n +2 | awk -F, '{ print $2 }' | sort -rn -c && echo sorted)|$("$BIN" sessions -d "$DB" --values client --csv | tail -n +2 | cut -d, -f1 | sort | uniq -d | wc -l)" "sorted|0"
check "--values: a column the listing has not is said, exit 2" \
	"$("$BIN" messages -d "$DB" --values 'password"; --' >/dev/null 2>"$B/values.err"; echo $?)|$(grep -c 'has no column' "$B/values.err")" "2|1"
# --sort, --desc and --offset: the listing's rows in a column's order,
# ties in its own, as the SQL of that order gives them; a page after
# --limit rows is the rest's first
csv_ids() { tail -n +2 | cut -d, -f1 | tr '\n' ' '; }
check "--sort: messages by subject, the SQL's order" \
	"$("$BIN" messages -d "$DB" --sort subject --csv | csv_ids)" \
	"$(sqlite3 "$DB" "SELECT message_id FROM v_messages WHERE partial = 0 ORDER BY subject, message_id" | tr '\n' ' ')"
check "--sort --desc --offset: the largest messages past the first three" \
	"$("$BIN" messages -d "$DB" --sort size --desc --offset 3 --limit 5 --csv | csv_ids)" \
	"$(sqlite3 "$DB" "SELECT message_id FROM v_messages WHERE partial = 0 ORDER BY size DESC, message_id DESC LIMIT 5 OFFSET 3" | tr '\n' ' ')"
check "--sort of filtered rows: SMTP sessions by user" \
	"$("$BIN" sessions -d "$DB" --proto smtp --sort user --csv | csv_ids)" \
	"$(sqlite3 "$DB" "SELECT id FROM v_sessions WHERE proto = 'smtp' ORDER BY \"user\", id" | tr '\n' ' ')"
check "--offset without --limit: the rows after the first" \
	"$("$BIN" creds -d "$DB" --offset 1 --csv | csv_ids)" "$("$BIN" creds -d "$DB" --csv | tail -n +3 | cut -d, -f1 | tr '\n' ' ')"
check "--sort and --values take a column's name in any case" \
	"$("$BIN" messages -d "$DB" --sort SUBJECT --desc --csv | md5sum)|$("$BIN" sessions -d "$DB" --values Proto | md5sum)" \
	"$("$BIN" messages -d "$DB" --sort subject --desc --csv | md5sum)|$("$BIN" sessions -d "$DB" --values proto | md5sum)"
check "--sort: a column the listing has not is said, exit 2" \
	"$("$BIN" messages -d "$DB" --sort password >/dev/null 2>"$B/sort.err"; echo $?)|$(grep -c 'has no column "password"' "$B/sort.err")" "2|1"
check "--sort '': the empty name is said as one, exit 2" \
	"$("$BIN" messages -d "$DB" --sort '' >/dev/null 2>"$B/sort.err"; echo $?)|$(grep -c 'has no column ""' "$B/sort.err")" "2|1"
# every column of every listing: its values count every row (a column
# after a subquery once went unrecognised: files' last)
vbad=""
for l in sessions messages creds attachments urls tls findings hosts files; do
	rows=$("$BIN" $l -d "$DB" --csv --limit 0 | python3 -c 'import csv, sys; print(sum(1 for _ in csv.reader(sys.stdin)) - 1)')
	for c in $("$BIN" $l -d "$DB" --csv --limit 1 | head -1 | tr ',' ' '); do
		n=$("$BIN" $l -d "$DB" --values "$c" --csv --limit 0 2>/dev/null | python3 -c 'import csv, sys; r = list(csv.reader(sys.stdin)); print(sum(int(x[-1]) for x in r[1:]) if r else -1)')
		[ "$n" = "$rows" ] || vbad="$vbad $l.$c($n/$rows)"
	done
done
check "--values: every column of every listing, its counts add up to the rows" "$vbad" ""
check "--values with --limit: the top N" \
	"$("$BIN" messages -d "$DB" --values from --limit 2 --csv | tail -n +2 | wc -l)" 2
# the rows without a value (NULL) are a group of their own: "(none)" in
# the table, as the workbench says it, where a blank would read as an
# empty value; null in JSON, an empty field in CSV
check "--values: the rows without a value, (none) in the table, null in JSON" \
	"$("$BIN" messages -d "$DB" --values to --wide | awk '$1 == "(none)" { print $2 }')" \
	"$("$BIN" messages -d "$DB" --values to --json | python3 -c 'import json, sys; print(*[r["count"] for r in map(json.loads, sys.stdin) if r["value"] is None])')"
check "--values: some messages here have no To (the check above is not empty)" \
	"$("$BIN" messages -d "$DB" --values to --wide | grep -c '^(none) ')" 1

# 5. Search as analysts type it.
"$BIN" search 'user@example.com' -d "$DB" >/dev/null 2>&1
check "search an address: no syntax error" "$?" 0
check "search 'Re: Testing': found, no syntax error" \
	"$("$BIN" search 'Re: Testing' -d "$DB" 2>/dev/null | tail -n +2 | wc -l | sed 's/^[1-9][0-9]*$/some/')" some
check "search a sender's address finds its messages (the rejected one too)" \
	"$("$BIN" search 'dgo.billing@dhl.com' -d "$DB" 2>/dev/null | tail -n +2 | cut -f2 | grep -c "^$sid\$")" 1
check "search an IP, a file name, a hash" \
	"$("$BIN" search '10.7.29.101' -d "$DB" 2>/dev/null | tail -n +2 | wc -l) $("$BIN" search 'file:*.doc' -d "$DB" 2>/dev/null | tail -n +2 | wc -l | sed 's/^[1-9][0-9]*$/some/') $("$BIN" search "$(sqlite3 "$DB" "SELECT sha256 FROM messages WHERE session_id = $sid")" -d "$DB" 2>/dev/null | tail -n +2 | wc -l)" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM messages m JOIN sessions s ON s.id = m.session_id WHERE m.partial = 0 AND (s.client_ip = '10.7.29.101' OR s.server_ip = '10.7.29.101')") some 1"
"$BIN" search '"open' -d "$DB" >/dev/null 2>"$B/err"
check "a malformed query: said, exit 2" "$?|$(grep -c 'quote left open' "$B/err")" "2|1"
check "search leaves pieces out, as messages does" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM messages WHERE partial = 1 AND id IN ($("$BIN" search 'the' -n 100000 -d "$DB" 2>/dev/null | tail -n +2 | cut -f1 | tr '\n' ',')0)")" 0

# (issue 31) the language's operators, as the sets they stand for
ids() { "$BIN" search -d "$DB" -n 1000000 -- "$1" 2>/dev/null | tail -n +2 | cut -f1 | sort -n; }
all=$(sqlite3 "$DB" "SELECT id FROM messages WHERE partial = 0 ORDER BY id")
check "search: OR is either (the union)" \
	"$(ids 'proto:pop3 OR proto:imap' | md5sum)" "$( (ids proto:pop3; ids proto:imap) | sort -n | md5sum)"
check "search: NOT and -term are every other message" \
	"$(ids 'NOT proto:smtp' | md5sum)|$(ids '-proto:smtp' | md5sum)" \
	"$(ids proto:smtp >"$B/smtp.ids"; echo "$all" | grep -vxF -f "$B/smtp.ids" | md5sum)|$(echo "$all" | grep -vxF -f "$B/smtp.ids" | md5sum)"
check "search: a group and a term beside it (the intersection)" \
	"$(ids '(proto:smtp OR proto:imap) file:*.doc' | md5sum)" \
	"$( (ids 'proto:smtp OR proto:imap'; ids 'file:*.doc') | sort -n | uniq -d | md5sum)"
check "search: text under OR, from the text index" \
	"$(ids 'invoice OR proto:pop3' | md5sum)" "$( (ids invoice; ids proto:pop3) | sort -n | uniq | md5sum)"
check "search: NOT binds closer than the terms beside it; AND is as a space" \
	"$(ids 'NOT proto:pop3 file:*.doc' | md5sum)|$(ids 'proto:smtp AND file:*.doc' | md5sum)" \
	"$( (ids 'NOT proto:pop3'; ids 'file:*.doc') | sort -n | uniq -d | md5sum)|$(ids 'proto:smtp file:*.doc' | md5sum)"
day=$(sqlite3 "$DB" "SELECT date(begin_ts, 'unixepoch') FROM messages WHERE partial = 0 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
check "search: time:DAY is that day's messages, after: and before: split the log" \
	"$(ids "time:$day" | wc -l)|$(( $(ids "after:${day}T12:00" | wc -l) + $(ids "before:${day}T12:00" | wc -l) ))" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM messages WHERE partial = 0 AND date(begin_ts, 'unixepoch') = '$day'")|$(echo "$all" | wc -l)"
check "search: time:A..B, either end open" \
	"$(ids "time:${day}T12:00.." | md5sum)|$(ids "time:..${day}T12:00" | md5sum)" \
	"$(ids "after:${day}T12:00" | md5sum)|$(ids "before:${day}T12:00" | md5sum)"
yr=$(echo "$day" | cut -c1-4) mo=$(echo "$day" | cut -c1-7)
check "search: time:YEAR and time:YEAR-MONTH, and a range of years" \
	"$(ids "time:$yr" | wc -l)|$(ids "time:$mo" | wc -l)|$(ids "time:$yr..$((yr + 1))" | md5sum)" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM messages WHERE partial = 0 AND strftime('%Y', begin_ts, 'unixepoch') = '$yr'")|$(sqlite3 "$DB" "SELECT count(*) FROM messages WHERE partial = 0 AND strftime('%Y-%m', begin_ts, 'unixepoch') = '$mo'")|$(ids "time:$yr" | md5sum)"
check "search: a file name with parentheses is a word" \
	"$("$BIN" search -d "$DB" 'file:report(1).pdf' >/dev/null 2>&1; echo $?)" 0
qbad=""
for q in '(proto:smtp' 'proto:smtp OR' 'OR proto:smtp' 'NOT' '()' 'proto:smtp)' 'proto:x' 'time:x' 'time:2015-13' 'time:1969' 'after:' 'a AND AND b'; do
	"$BIN" search -d "$DB" -- "$q" >/dev/null 2>"$B/err"
	rc=$?
	[ "$rc" = 2 ] && [ -s "$B/err" ] || qbad="$qbad [$q: $rc]"
done
check "search: a query the operators refuse is said, exit 2" "$qbad" ""

# (issue 31) the listings take the language (--query): the rows of the
# messages search finds, beside their own filters
lids() { "$BIN" "$1" -d "$DB" --limit 0 --csv --query "$2" ${3:+"$3"} ${4:+"$4"} 2>/dev/null | tail -n +2 | cut -d, -f"${5:-1}" | sort -nu; }
qsame=""
for q in 'proto:pop3 OR file:*.doc' 'NOT proto:smtp' 'invoice OR proto:pop3' "time:$day" '(proto:smtp OR proto:imap) -file:*.doc' 'ip:10.7.29.0/24'; do
	[ "$(lids messages "$q" | md5sum)" = "$(ids "$q" | md5sum)" ] || qsame="$qsame [messages: $q]"
	[ "$(lids sessions "$q" | md5sum)" = "$(ids "$q" | while read -r m; do sqlite3 "$DB" "SELECT session_id FROM messages WHERE id = $m"; done | sort -nu | md5sum)" ] || qsame="$qsame [sessions: $q]"
done
check "--query: messages and sessions listings keep the rows of the messages search finds" "$qsame" ""
check "--query beside a filter: both hold (the intersection)" \
	"$(lids messages 'file:*.doc OR proto:pop3' --proto smtp | md5sum)" \
	"$( (ids 'file:*.doc OR proto:pop3'; ids proto:smtp) | sort -n | uniq -d | md5sum)"
check "--query on attachments: the attachments of the messages found" \
	"$(lids attachments 'file:*.doc' '' '' 1 | md5sum)" \
	"$(ids 'file:*.doc' | while read -r m; do sqlite3 "$DB" "SELECT DISTINCT message_id FROM parts WHERE message_id = $m AND filename IS NOT NULL"; done | sort -nu | md5sum)"
"$BIN" creds -d "$DB" --query proto:smtp >/dev/null 2>"$B/err"
check "--query where it does not apply, or malformed: said, exit 2" \
	"$?|$(grep -c 'does not apply to creds' "$B/err")|$("$BIN" messages -d "$DB" --query '(proto:smtp' >/dev/null 2>&1; echo $?)" "2|1|2"

# 6. Filters that are checked.
check "--since 2019-07-29T17:00 keeps that day's 17:01 sessions" \
	"$("$BIN" sessions -d "$DB" --since 2019-07-29T17:00 --until 2019-07-29T18:00 --csv | tail -n +2 | wc -l)" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM sessions WHERE start_ts >= strftime('%s', '2019-07-29 17:00') AND start_ts < strftime('%s', '2019-07-29 18:00')")"
check "--since with a zone" \
	"$("$BIN" sessions -d "$DB" --since 2019-07-29T19:00+02:00 --until 2019-07-29T20:00+02:00 --csv | tail -n +2 | wc -l)" \
	"$("$BIN" sessions -d "$DB" --since 2019-07-29T17:00 --until 2019-07-29T18:00 --csv | tail -n +2 | wc -l)"
"$BIN" sessions -d "$DB" --since yesterday >/dev/null; check "--since yesterday: exit 0" "$?" 0
"$BIN" sessions -d "$DB" --proto smpt >/dev/null 2>"$B/err"
check "--proto smpt: said, exit 2" "$?|$(grep -c 'not one of smtp, pop3, imap' "$B/err")" "2|1"
"$BIN" sessions -d "$DB" --since 'last tuesday' >/dev/null 2>&1; check "a time that is not one: exit 2" "$?" 2
"$BIN" sessions -d "$DB" --host 10.7.29.999 >/dev/null 2>&1; check "--host 10.7.29.999: exit 2" "$?" 2
check "--host 10.7.29.0/24: the sessions of that network" \
	"$("$BIN" sessions -d "$DB" --host 10.7.29.0/24 --csv | tail -n +2 | wc -l)" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM sessions WHERE client_ip LIKE '10.7.29.%' OR server_ip LIKE '10.7.29.%'")"
check "--client and --server: one end each" \
	"$("$BIN" sessions -d "$DB" --client 10.7.29.0/24 --csv | tail -n +2 | wc -l) $("$BIN" sessions -d "$DB" --server 10.7.29.0/24 --csv | tail -n +2 | wc -l)" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM sessions WHERE client_ip LIKE '10.7.29.%'") $(sqlite3 "$DB" "SELECT count(*) FROM sessions WHERE server_ip LIKE '10.7.29.%'")"
check "search --json: rows" \
	"$("$BIN" search -d "$DB" --json 'from:*dhl*' | python3 -c 'import json, sys; print(sorted({json.loads(l)["session"] for l in sys.stdin}) != [])')" "True"
u=$(sqlite3 "$DB" "SELECT username FROM sessions WHERE length(username) > 4 LIMIT 1")
check "--user matches a part, as --from does" \
	"$("$BIN" sessions -d "$DB" --user "$(echo "$u" | cut -c2-4)" --csv | tail -n +2 | wc -l | sed 's/^[1-9][0-9]*$/some/')" some

# 7. Output whole when not a terminal; times never cut.
"$BIN" messages -d "$DB" >"$B/messages.txt"
check "a table to a file: whole (no ellipsis), every row" \
	"$(grep -c "$(printf '\342\200\246')" "$B/messages.txt")|$(($(wc -l <"$B/messages.txt") - 1))" "0|$n_list"
check "show --json: rows as JSON" \
	"$("$BIN" show "$sid" -d "$DB" --json | python3 -c 'import json, sys; print(len([json.loads(l) for l in sys.stdin]) > 5)')" "True"

# 8. Transcripts as on the wire.
pop=$(sqlite3 "$DB" "SELECT id FROM sessions WHERE capture_file = '$P/ndpi-pop3.pcap' LIMIT 1")
check "POP3: +OK as sent" "$("$BIN" show "$pop" -d "$DB" | grep -c ' S: +OK')" \
	"$(sqlite3 "$DB" "SELECT count(*) + (SELECT count(*) FROM sessions WHERE id = $pop AND banner IS NOT NULL AND banner_code IS NULL AND banner LIKE '+OK%') FROM commands WHERE session_id = $pop AND reply_status = 'ok'")"
im=$(sqlite3 "$DB" "SELECT id FROM sessions WHERE capture_file = '$P/arkime-imap.pcap'")
check "IMAP: tagged replies and untagged responses, folded past five" \
	"$("$BIN" show "$im" -d "$DB" | grep -c ' S: a0003 OK') $("$BIN" show "$im" -d "$DB" | grep -c ' S: \* 13 EXISTS') $("$BIN" show "$im" -d "$DB" | grep -c 'more untagged responses')" \
	"1 1 $(sqlite3 "$DB" "SELECT count(*) FROM (SELECT seq FROM responses WHERE session_id = $im GROUP BY seq HAVING count(*) > 5)")"
check "the TLS line reads whole" \
	"$("$BIN" show "$(sqlite3 "$DB" "SELECT session_id FROM tls LIMIT 1")" -d "$DB" | sed -n 's/^.* T: //p' | grep -c '  \| ,\|version unseen\|not  completed')" 0

echo "console: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
