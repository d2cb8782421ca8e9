#!/bin/sh
# Conformance run over the public captures in ../shared/corpus/public (when
# present): for every capture where tshark or mailsift sees SMTP, compare
#   - the number of SMTP sessions,
#   - the command verbs of each session (tshark: smtp.req.command),
#   - the complete messages, by SHA-256 (tshark: --export-objects imf).
# tshark is a reference, not the truth: a mismatch fails unless
# tests/conformance.allow lists it ("FILE CHECK reason"), with the reason.
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

allowed_reason() { grep -E "^$1 $2 " "$ALLOW" 2>/dev/null | cut -d' ' -f3-; }

compare() { # file check ours theirs
	if [ "$3" = "$4" ]; then
		pass=$((pass + 1))
		return
	fi
	reason=$(allowed_reason "$1" "$2")
	if [ -n "$reason" ]; then
		allowed=$((allowed + 1))
		echo "allowed $1 $2: $reason"
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
	"$BIN" read -q --force -o "$db" "$f" 2>"$B/$name.err"
	rc=$?
	if [ "$rc" -gt 1 ]; then
		fail=$((fail + 1)); echo "FAIL $name: mailsift exited $rc"; cat "$B/$name.err"; continue
	fi
	# shellcheck disable=SC2086
	tshark -n -r "$f" $DECODE -Y smtp.req.command -T fields -E separator=' ' \
	    -E occurrence=a -E aggregator=' ' -e tcp.stream -e smtp.req.command \
	    2>/dev/null > "$B/$name.tshark"
	ours_n=$(sqlite3 "$db" "SELECT count(*) FROM sessions WHERE proto='smtp' AND tls <> 'implicit'")
	theirs_n=$(cut -d' ' -f1 "$B/$name.tshark" | sort -u | grep -c .)
	[ "$ours_n" = 0 ] && [ "$theirs_n" = 0 ] && continue
	compare "$name" sessions "$ours_n" "$theirs_n"

	ours_v=$(sqlite3 "$db" "SELECT (SELECT group_concat(verb, ' ') FROM (SELECT verb FROM commands c WHERE c.session_id = s.id ORDER BY seq)) FROM sessions s WHERE tls <> 'implicit'" | sort | tr '\n' ';')
	theirs_v=$(awk '{ s = $1; c = substr($0, length(s) + 2); if (s in v) v[s] = v[s] " " c; else v[s] = c } END { for (k in v) print toupper(v[k]) }' "$B/$name.tshark" | sort | tr '\n' ';')
	compare "$name" verbs "$ours_v" "$theirs_v"

	mkdir -p "$B/$name.imf"
	# shellcheck disable=SC2086
	tshark -n -r "$f" $DECODE -q --export-objects "imf,$B/$name.imf" >/dev/null 2>&1
	ours_m=$(sqlite3 "$db" "SELECT sha256 FROM messages WHERE complete ORDER BY sha256" | tr '\n' ' ')
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
echo "conformance: $pass passed, $fail failed ($allowed allowed differences)"
[ "$fail" -eq 0 ]
