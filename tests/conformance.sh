#!/bin/sh
# Conformance run over the public captures in ../shared/corpus/public (when
# present): for every capture where tshark or mailsift sees SMTP, POP3 or
# IMAP, compare per protocol
#   - the number of sessions,
#   - the command verbs of each session (tshark: smtp.req.command,
#     pop.request.command, imap.request.command),
# and over all protocols the complete whole messages, by SHA-256 (tshark:
# --export-objects imf).
# tshark is a reference, not the truth: a mismatch fails unless
# tests/conformance.allow lists it ("FILE CHECK reason"), with the reason.
# Then tests/peers.py compares with the peers' own expected outputs
# (allow-list: tests/peers.allow).
set -u
cd "$(dirname "$0")/.."
CORPUS=${CORPUS:-../shared/corpus/public}
ALLOW=tests/conformance.allow
B=build/conformance
BIN=${MAILSIFT:-build/san/mailsift}

if [ ! -d "$CORPUS" ]; then
	echo "conformance: $CORPUS not found, skipped"
	exit 0
fi
if ! command -v tshark >/dev/null; then
	echo "conformance: tshark is missing (make test-deps installs it)" >&2
	exit 1
fi
rm -rf "$B"; mkdir -p "$B"
pass=0 fail=0 allowed=0
# Ports where the corpus runs SMTP that tshark does not decode by itself.
DECODE="-d tcp.port==2525,smtp -d tcp.port==1224,smtp -d tcp.port==2626,smtp"

# Protocol as mailsift names it, and tshark's command field.
PROTOS="smtp:smtp.req.command pop3:pop.request.command imap:imap.request.command"

allowed_reason() { grep -E "^$1 $2 " "$ALLOW" 2>/dev/null | cut -d' ' -f3-; }

compare() { # file check ours theirs
	if [ "$3" = "$4" ]; then
		pass=$((pass + 1))
		return
	fi
	reason=$(allowed_reason "$1" "$2")
	if [ -n "$reason" ]; then
		allowed=$((allowed + 1))
		echo "allowed $1 $2: $reason" | tee -a "$B/allowed.log"
	else
		fail=$((fail + 1))
		echo "FAIL $1 $2"
		echo "   mailsift: $3"
		echo "   tshark:   $4"
	fi
}

for f in "$CORPUS"/*.pcap "$CORPUS"/*.pcapng "$CORPUS"/*.cap; do
	[ -f "$f" ] || continue
	name=$(basename "$f")
	db="$B/$name.db"
	"$BIN" read -q --replace -o "$db" "$f" 2>"$B/$name.err"
	rc=$?
	if [ "$rc" -gt 1 ]; then
		fail=$((fail + 1)); echo "FAIL $name: mailsift exited $rc"; cat "$B/$name.err"; continue
	fi
	for pf in $PROTOS; do
		proto=${pf%%:*} field=${pf#*:}
		# IMAP: tshark gives "UID FETCH" as FETCH with a UID flag.
		uidf=; [ "$proto" = imap ] && uidf="-e imap.request.command.uid"
		# shellcheck disable=SC2086
		tshark -n -r "$f" $DECODE -Y "$field" -T fields -E separator='|' \
		    -E occurrence=a -E aggregator=' ' -e tcp.stream -e "$field" \
		    $uidf 2>/dev/null > "$B/$name.$proto.tshark"
		ours_n=$(sqlite3 "$db" "SELECT count(*) FROM sessions WHERE proto='$proto' AND tls <> 'implicit'")
		theirs_n=$(cut -d'|' -f1 "$B/$name.$proto.tshark" | sort -u | grep -c .)
		[ "$ours_n" = 0 ] && [ "$theirs_n" = 0 ] && continue
		tag=$name; [ "$proto" != smtp ] && tag="$name $proto"
		compare "$tag" sessions "$ours_n" "$theirs_n"
		ours_v=$(sqlite3 "$db" "SELECT (SELECT group_concat(verb, ' ') FROM (SELECT verb FROM commands c WHERE c.session_id = s.id ORDER BY seq)) FROM sessions s WHERE proto='$proto' AND tls <> 'implicit'" | sort | tr '\n' ';')
		theirs_v=$(awk -F'|' '{ n = split($2, cmd, " "); split($3, uid, " "); c = ""
			for (i = 1; i <= n; i++) c = c (i > 1 ? " " : "") (uid[i] == "1" ? "UID " : "") cmd[i]
			if ($1 in v) v[$1] = v[$1] " " c; else v[$1] = c } END { for (k in v) print toupper(v[k]) }' \
			"$B/$name.$proto.tshark" | sort | tr '\n' ';')
		compare "$tag" verbs "$ours_v" "$theirs_v"
	done

	# TLS fingerprints of every ClientHello and ServerHello of the mail
	# sessions (not HTTPS beside them), by client port: JA3 and JA3S as
	# tshark computes them.
	mail_ports=" $(sqlite3 "$db" "SELECT client_port FROM sessions" | tr '\n' ' ') "
	# shellcheck disable=SC2086
	theirs_t=$(tshark -n -r "$f" $DECODE -Y "tls.handshake.type == 1 ||
	    tls.handshake.type == 2" -T fields -E separator='|' -e tcp.srcport \
	    -e tcp.dstport -e tls.handshake.type -e tls.handshake.ja3 \
	    -e tls.handshake.ja3s 2>/dev/null | awk -F'|' '
	    $3 ~ /^1/ { c[$1] = $4 } $3 ~ /^2/ { s[$2] = $5 }
	    END { for (p in c) print p "|" c[p] "|" s[p]; for (p in s) if (!(p in c)) print p "||" s[p] }' |
	    while IFS='|' read -r p rest; do
		[ -n "$p" ] && case $mail_ports in *" $p "*) echo "$p|$rest" ;; esac
	    done | sed 's/|*$//' | sort | tr '\n' ' ')
	ours_t=$(sqlite3 "$db" "SELECT s.client_port || '|' || coalesce(t.ja3, '') || '|' || coalesce(t.ja3s, '') FROM tls t JOIN sessions s ON s.id = t.session_id WHERE t.ja3 IS NOT NULL OR t.ja3s IS NOT NULL" | sed 's/|*$//' | sort | tr '\n' ' ')
	[ -n "$ours_t$theirs_t" ] && compare "$name" ja3 "$ours_t" "$theirs_t"

	# Every session lies within its capture: it starts at its first
	# packet (the SYN) and ends at its last, never before it starts.
	first=$(tshark -n -r "$f" -T fields -e frame.time_epoch -c 1 2>/dev/null)
	last=$(tshark -n -r "$f" -T fields -e frame.time_epoch 2>/dev/null | sort -n | tail -1)
	bad=$(sqlite3 "$db" "SELECT count(*) FROM sessions WHERE end_ts < start_ts OR start_ts < $first - 0.001 OR end_ts > $last + 0.001")
	compare "$name" times "$bad" 0

	mkdir -p "$B/$name.imf"
	# shellcheck disable=SC2086
	# Only SMTP: tshark hands POP3 and IMAP bodies to its IMF export one
	# TCP segment at a time (and SASL "+" lines with them), so those
	# exports are not messages; POP3 and IMAP are checked below instead.
	tshark -n -r "$f" $DECODE --disable-protocol pop --disable-protocol imap \
	    -q --export-objects "imf,$B/$name.imf" >/dev/null 2>&1
	ours_m=$(sqlite3 "$db" "SELECT sha256 FROM messages WHERE complete AND proto = 'smtp' ORDER BY sha256" | tr '\n' ' ')
	# tshark exports the DATA content still dot-stuffed, and at times
	# without the CRLF that ends its last line (RFC 5321 4.1.1.4: that
	# CRLF belongs to the message).  Undo the stuffing, and take the
	# variant with the CRLF when that is the one mailsift logged.
	theirs_m=$(find "$B/$name.imf" -type f | while read -r m; do
		h1=$(perl -pe 's/^\.//' "$m" | sha256sum | cut -d' ' -f1)
		h2=$({ perl -pe 's/^\.//' "$m"; printf '\r\n'; } | sha256sum | cut -d' ' -f1)
		case " $ours_m " in *" $h2 "*) echo "$h2" ;; *) echo "$h1" ;; esac
	done | sort | tr '\n' ' ')
	compare "$name" messages "$ours_m" "$theirs_m"
done
# An allowed difference that no longer occurs is a stale claim: fail on it,
# so that the list keeps saying only what is true.
grep -v '^#' "$ALLOW" | while read -r file check rest; do
	case $check in smtp|pop3|imap) check="$check ${rest%% *}" ;; esac
	grep -qF "allowed $file $check: " "$B/allowed.log" 2>/dev/null ||
		echo "FAIL stale entry in $ALLOW: $file $check"
done > "$B/stale.log"
if [ -s "$B/stale.log" ]; then
	cat "$B/stale.log"
	fail=$((fail + $(wc -l < "$B/stale.log")))
fi
echo "conformance: $pass passed, $fail failed ($allowed allowed differences)"
# The peers' own baselines (Zeek, Suricata, Arkime) as a second reference.
python3 tests/peers.py "$CORPUS" "$B" "$BIN" || fail=$((fail + 1))
[ "$fail" -eq 0 ]
