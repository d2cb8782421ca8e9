#!/bin/sh
# Mail as it is really sent (make bench runs it after bench/run.sh):
# per-message costs, which the big-message capture hides.
#
# usage: bench/mail.sh [MIX_MESSAGES] [TINY_MESSAGES] [GROWN_MESSAGES]
#        (default 4000 20000 200000; GROWN 0 leaves the last part out)
#
# Two captures made by pcapgen (same seed, same bytes):
#   mix   SMTP (relay and submission), POP3 and IMAP sessions of one to
#         four messages; text of log-normal size around 4 KB, HTML beside
#         it half the time; 30% with one to three attachments (PDF, PNG,
#         JPEG, ZIP, DOCX, XLSX, CSV, text) of log-normal size around
#         60 KB, base64 at 76 columns; dot-stuffing, IMAP literals.
#   tiny  one SMTP session per notification of 2 to 4 KB, no attachment.
# For each: the libnids floor, mailsift (as run, --no-keep, and with
# libmagic given an empty database, to show what its rules cost),
# tshark's IMF export when there is tshark; MB/s, messages/s,
# microseconds per message, rows/s.  Then the writer as its log grows:
# GROWN notifications read once into one log (--no-keep), the messages
# the log holds (its highest id: a count would read the table and slow
# the run) read every two seconds while it runs, and the rate
# printed for each tenth of them: the random-keyed indexes (hashes,
# addresses) cost a page write a row once they outgrow a second's rows.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
MIX=${1:-4000}
TINY=${2:-20000}
GROWN=${3:-200000}
BEST=${BEST:-3}
B=build/bench
mkdir -p "$B"

capture() { # capture PROFILE MESSAGES: the capture, made if missing
	f=$B/$1-$2.pcap
	[ -f "$f" ] || build/rel/tools/pcapgen --"$1" "$f" "$2" 42 2>/dev/null
	echo "$f"
}

# best N CMD...: the best of N runs; prints "SECONDS PEAK_KB CPU_SECONDS"
best() {
	n=$1
	shift
	b=
	for _ in $(seq "$n"); do
		/usr/bin/time -f "%e %M %U %S" -o "$B/time.out" "$@" >/dev/null 2>"$B/cmd.err" ||
			{ tail -3 "$B/cmd.err" >&2; return 1; }
		if [ -z "$b" ] || awk -v a="$(cut -d' ' -f1 "$B/time.out")" \
		    -v c="${b% *}" 'BEGIN { exit !(a < c) }'; then
			b=$(cat "$B/time.out")
		fi
	done
	echo "$b" | awk '{ print $1, $2, $3 + $4 }'
}

# floor PCAP LOG NIDS_CPU NOKEEP_CPU NORULES_CPU NOKEEP_SECONDS MESSAGES:
# what this output costs at the least here: reassembly (the libnids
# floor's CPU), the digests the log holds at OpenSSL's speed (SHA-256 of
# each message, of its body form, of each part, of each archived file
# and of the capture; MD5 of each part), base64 at SIMD speed (4 GB/s)
# and libmagic's rules (the CPU a run spends with them over one
# without), spread over the cores
floor() {
	command -v openssl >/dev/null || return 0
	set -- "$@" $(sqlite3 -separator ' ' "$2" \
		"SELECT (SELECT coalesce(sum(size), 0) FROM messages),
		        (SELECT coalesce(sum(size), 0) FROM parts),
		        (SELECT coalesce(sum(size), 0) FROM archive_entries),
		        (SELECT coalesce(sum(encoded_size), 0) FROM parts WHERE encoding = 'base64')")
	awk -v file="$(stat -c %s "$1")" -v nids="$3" -v nk="$4" -v nr="$5" \
	    -v wall="$6" -v m="$7" -v msg="$8" -v part="$9" -v arc="${10}" \
	    -v b64="${11}" -v sha="$(digest_speed 16384 sha256)" \
	    -v md5="$(digest_speed 16384 md5)" \
	    -v cores="$(nproc)" 'BEGIN {
		hash = (2 * msg + part + arc + file) / sha + part / md5
		magic = nk - nr; if (magic < 0) magic = 0
		cpu = nids + hash + b64 / 4e9 + magic
		t = cpu / cores
		printf "  floor, rows aside: libnids %.2f + hashing %.2f + base64 %.2f + libmagic rules %.2f = %.2f CPU-s over %d cores: %.2f s, %.0f messages/s; mailsift --no-keep at %.0f%% of it\n",
		    nids, hash, b64 / 4e9, magic, cpu, cores, t, m / t, 100 * t / wall
	}'
}

# rows LOG: rows written in every table but the run's own
rows() {
	sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type = 'table'
	    AND name NOT LIKE 'sqlite%' AND name NOT LIKE '%text%'" |
		while read -r t; do sqlite3 "$1" "SELECT count(*) FROM $t"; done |
		awk '{ s += $1 } END { print s }'
}

line() { # line NAME FILE MESSAGES ROWS SECONDS KB
	awk -v n="$1" -v b="$(stat -c %s "$2")" -v m="$3" -v r="$4" -v s="$5" -v kb="$6" \
	    'BEGIN { if (s <= 0) s = 0.01; printf "  %-22s %7.2f %8.1f %9.0f %9.0f %10.0f %7.1f\n",
	      n, s, b / 1048576 / s, m / s, 1e6 * s / m, r / s, kb / 1024 }'
}

for profile in mix tiny; do
	eval "count=\$$(echo "$profile" | tr a-z A-Z)"
	pcap=$(capture "$profile" "$count")
	cat "$pcap" >/dev/null
	rm -rf "$B/mail.db"* "$B/nokeep.db"*
	./mailsift read -q --replace -o "$B/mail.db" "$pcap"
	msgs=$(sqlite3 "$B/mail.db" "SELECT count(*) FROM messages")
	parts=$(sqlite3 "$B/mail.db" "SELECT count(*) FROM parts")
	atts=$(sqlite3 "$B/mail.db" "SELECT count(*) FROM parts WHERE filename IS NOT NULL")
	nrows=$(rows "$B/mail.db")
	echo
	echo "$profile: $pcap, $(($(stat -c %s "$pcap") / 1048576)) MiB, $msgs messages, $parts parts ($atts attachments), $nrows rows"
	printf '  %-22s %7s %8s %9s %9s %10s %7s\n' tool seconds MiB/s msgs/s "us/msg" rows/s "RSS MB"
	set -- $(best "$BEST" build/bench/floor nids "$pcap")
	line libpcap+libnids "$pcap" "$msgs" 0 "$1" "$2"
	nids_cpu=$3
	rm -rf "$B/mail.db"*
	set -- $(best "$BEST" ./mailsift read -q --replace -o "$B/mail.db" "$pcap")
	line mailsift "$pcap" "$msgs" "$nrows" "$1" "$2"
	set -- $(best "$BEST" ./mailsift read -q --replace --no-keep -o "$B/nokeep.db" "$pcap")
	line "mailsift --no-keep" "$pcap" "$msgs" "$nrows" "$1" "$2"
	nokeep_s=$1 nokeep_cpu=$3
	# what typing by content costs: libmagic with an empty database
	# (its built-in text test only)
	set -- $(MAGIC=/dev/null best "$BEST" ./mailsift read -q --replace --no-keep \
		-o "$B/nokeep.db" "$pcap")
	line "--no-keep, no magic rules" "$pcap" "$msgs" "$nrows" "$1" "$2"
	floor "$pcap" "$B/mail.db" "$nids_cpu" "$nokeep_cpu" "$3" "$nokeep_s" "$msgs"
	if command -v tshark >/dev/null; then
		rm -rf "$B/imf"
		set -- $(best 1 tshark -n -r "$pcap" -q --export-objects "imf,$B/imf")
		line tshark-imf-export "$pcap" "$msgs" 0 "$1" "$2"
		rm -rf "$B/imf"
	fi
done
rm -rf "$B/mail.db"* "$B/nokeep.db"*
echo "(us/msg: wall time per message on $(nproc) cores; rows/s: rows of every table written per second)"

[ "$GROWN" -gt 0 ] || exit 0
pcap=$(capture tiny "$GROWN")
rm -rf "$B/grown.db"*
./mailsift read -q --no-keep -o "$B/grown.db" "$pcap" &
pid=$!
start=$(date +%s.%N)
while kill -0 "$pid" 2>/dev/null; do
	sleep 2
	n=$(sqlite3 -readonly "$B/grown.db" "SELECT max(id) FROM messages" 2>/dev/null) || n=
	[ -n "$n" ] && echo "$(date +%s.%N) $n"
done >"$B/grown.samples"
wait "$pid"
echo "$(date +%s.%N) $(sqlite3 "$B/grown.db" "SELECT count(*) FROM messages")" >>"$B/grown.samples"
echo
echo "the writer as the log grows: $pcap, $GROWN notifications, --no-keep, one run"
awk -v start="$start" -v total="$GROWN" '
	{ t[NR] = $1 - start; n[NR] = $2 }
	END {
		printf "  %-22s %9s\n", "messages in the log", "msgs/s"
		lt = 0; ln = 0; tenth = 1
		for (i = 1; i <= NR; i++) {
			if (n[i] < tenth * total / 10 && i < NR) continue
			if (t[i] > lt && n[i] > ln) printf "  %9d - %-10d %9.0f\n", ln, n[i], (n[i] - ln) / (t[i] - lt)
			lt = t[i]; ln = n[i]
			while (tenth * total / 10 <= n[i]) tenth++
		}
		printf "  whole run %.1f s, %.0f messages/s\n", t[NR], n[NR] / t[NR]
	}' "$B/grown.samples"
rm -rf "$B/grown.db"* "$B/grown.samples"
