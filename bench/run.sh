#!/bin/sh
# mailsift's benchmark: how fast it reads a large mail capture, against
# the floor of reading (libpcap alone), the floor of this architecture
# (libpcap + libnids reassembling into empty callbacks), a plain
# reassembler (tcpflow writing every stream to files), the tools analysts
# use today (tshark with mail fields, tshark exporting the mails, dsniff's
# mailsnarf) and the physical floor of mailsift's own output.
#
# usage: bench/run.sh [MEGABYTES]   (default 500; make bench runs it)
#
# The capture is made by pcapgen --bench (same seed, same bytes): the
# three protocols, 32 sessions interleaved at a time, messages of 1 KB to
# 9 MB with base64 attachments, some retransmissions and reordering.
# Fast tools run BEST times (default 3) and the best is kept, with the
# page cache warm; /usr/bin/time gives elapsed time and peak memory.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
MB=${1:-500}
BEST=${BEST:-3}
B=build/bench
mkdir -p "$B"

# capture_of MB: the benchmark capture of that size, made if missing.
capture_of() {
	f=$B/bench-$1.pcap
	[ -f "$f" ] || build/rel/tools/pcapgen --bench "$f" "$1" 42 2>/dev/null
	echo "$f"
}
PCAP=$(capture_of "$MB")
BYTES=$(stat -c %s "$PCAP")
PKTS=$(build/bench/floor pcap "$PCAP" | cut -d' ' -f1)

# timed N CMD...: the best of N runs of CMD; prints "SECONDS PEAK_KB"
timed() {
	n=$1
	shift
	best=
	for _ in $(seq "$n"); do
		/usr/bin/time -f "%e %M" -o "$B/time.out" "$@" >/dev/null 2>"$B/cmd.err" ||
			{ tail -3 "$B/cmd.err" >&2; return 1; }
		if [ -z "$best" ] || awk -v a="$(cut -d' ' -f1 "$B/time.out")" \
		    -v b="${best% *}" 'BEGIN { exit !(a < b) }'; then
			best=$(cat "$B/time.out")
		fi
	done
	echo "$best"
}

# run NAME TIMES FILE CMD...: records NAME BYTES PACKETS SECONDS PEAK_KB
run() {
	name=$1 times=$2 file=$3
	shift 3
	cat "$file" >/dev/null # warm
	if r=$(timed "$times" "$@"); then
		echo "$name $(stat -c %s "$file") $(build/bench/floor pcap "$file" | cut -d' ' -f1) $r" >>"$results"
	else
		echo "$name failed" >&2
	fi
}

# The slow tools read a smaller cut of the same traffic: mailsnarf needs
# about 2.5 s per MB, tshark 0.1 s; on 500 MB they would take an hour.
SLOW=$(capture_of $((MB < 50 ? MB : 50)))
SLOWER=$(capture_of $((MB < 10 ? MB : 10)))
results=$B/results.txt
: >"$results"
run libpcap-read "$BEST" "$PCAP" build/bench/floor pcap "$PCAP"
run libpcap+libnids "$BEST" "$PCAP" build/bench/floor nids "$PCAP"
if command -v tcpflow >/dev/null; then
	rm -rf "$B/flow"
	mkdir -p "$B/flow"
	run tcpflow "$BEST" "$PCAP" tcpflow -r "$PCAP" -o "$B/flow"
	rm -rf "$B/flow"
fi
rm -rf "$B/bench.db.blobs"
run mailsift "$BEST" "$PCAP" ./mailsift read -q --replace -o "$B/bench.db" "$PCAP"
run mailsift--no-keep "$BEST" "$PCAP" ./mailsift read -q --replace --no-keep \
	-o "$B/nokeep.db" "$PCAP"
rm -rf "$B/x"
run mailsift--extract 1 "$PCAP" ./mailsift read -q --replace -o "$B/x.db" \
	-x "$B/x" "$PCAP"
rm -rf "$B/x" "$B/x.db"*
if command -v tshark >/dev/null; then
	run tshark-fields 1 "$SLOW" tshark -n -r "$SLOW" -Y 'smtp || pop || imap' \
		-T fields -e frame.number -e smtp.req.command \
		-e smtp.req.parameter -e pop.request.command -e imap.request
	rm -rf "$B/imf"
	run tshark-imf-export 1 "$SLOW" tshark -n -r "$SLOW" -q \
		--export-objects "imf,$B/imf"
	rm -rf "$B/imf"
fi
MAILSNARF=$(command -v mailsnarf || echo /usr/sbin/mailsnarf)
if [ -x "$MAILSNARF" ]; then
	run mailsnarf 1 "$SLOWER" "$MAILSNARF" -p "$SLOWER"
fi

echo "capture: $PCAP, $((BYTES / 1048576)) MiB, $PKTS packets (tshark: $SLOW, mailsnarf: $SLOWER; best of $BEST for the fast tools)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ { print $2 }') GB"
floor_rate=$(awk '$1 == "libpcap+libnids" { print $2 / $4 }' "$results")
printf '%-20s %7s %8s %8s %8s %7s %10s\n' tool MiB seconds MiB/s kpkt/s "RSS MB" "of libnids"
while read -r name bytes pkts secs kb; do
	awk -v n="$name" -v b="$bytes" -v p="$pkts" -v s="$secs" -v kb="$kb" -v f="$floor_rate" \
	    'BEGIN { if (s <= 0) s = 0.01; printf "%-20s %7.0f %8.2f %8.0f %8.0f %7.1f %10.3f\n",
	      n, b / 1048576, s, b / 1048576 / s, p / 1000 / s, kb / 1024, (b / s) / f }'
done <"$results"
echo "(of libnids: the tool's throughput over the libnids floor's on the same bytes)"
rate() { awk -v n="$1" '$1 == n { print $2 / $4 }' "$results"; }
ms=$(rate mailsift)
for other in tcpflow tshark-imf-export mailsnarf; do
	o=$(rate "$other")
	[ -n "$o" ] && awk -v a="$ms" -v b="$o" -v n="$other" \
		'BEGIN { printf "mailsift is %.1f times as fast as %s\n", a / b, n }'
done

# The physical floor of mailsift's output on this file: reassembly (the
# libnids floor) plus the digests the log holds, at this machine's
# OpenSSL speed (SHA-256 of each message, of its body form and of the
# input file; MD5 and SHA-256 of each decoded part), plus base64 at SIMD
# speed (taken as 4 GB/s), spread over the cores.
if command -v openssl >/dev/null && [ -f "$B/nokeep.db" ]; then
	sha=$(digest_speed 262144 sha256)
	md5=$(digest_speed 262144 md5)
	set -- $(sqlite3 -separator ' ' "$B/nokeep.db" \
		"SELECT (SELECT coalesce(sum(size), 0) FROM messages),
		        (SELECT coalesce(sum(size), 0) FROM parts),
		        (SELECT coalesce(sum(encoded_size), 0) FROM parts WHERE encoding = 'base64')")
	awk -v msg="$1" -v part="$2" -v b64="$3" -v file="$BYTES" -v sha="$sha" \
	    -v md5="$md5" -v nids="$(awk '$1 == "libpcap+libnids" { print $4 }' "$results")" \
	    -v cores="$(nproc)" -v f="$floor_rate" -v ms="$(awk '$1 == "mailsift" { print $4 }' "$results")" \
	    -v nk="$(awk '$1 == "mailsift--no-keep" { print $4 }' "$results")" 'BEGIN {
		hash = (2 * msg + part + file) / sha + part / md5
		cpu = nids + hash + b64 / 4e9
		t = cpu / cores
		printf "\nphysical floor: libnids %.2f s + hashing %.2f CPU-s (SHA-256 %.0f MB/s, MD5 %.0f MB/s; %.0f MB of messages, %.0f MB of parts) + base64 %.2f s = %.2f CPU-s over %d cores: %.2f s, %.0f MiB/s, %.3f of the libnids floor\n",
		    nids, hash, sha / 1e6, md5 / 1e6, msg / 1e6, part / 1e6, b64 / 4e9, cpu, cores, t, file / 1048576 / t, (file / t) / f
		printf "mailsift at %.0f%% of the speed of the physical floor (--no-keep: %.0f%%)\n", 100 * t / ms, 100 * t / nk
	}'
fi

# How mailsift's cost grows with the capture.
echo
printf '%-12s %9s %9s %9s\n' size seconds MiB/s "RSS MB"
for part in 4 2 1; do
	p=$(capture_of $((MB / part)))
	cat "$p" >/dev/null
	rm -rf "$B/scale.db.blobs"
	read -r secs kb <<EOF
$(timed 1 ./mailsift read -q --replace -o "$B/scale.db" "$p")
EOF
	awk -v s="$secs" -v kb="$kb" -v b="$(stat -c %s "$p")" \
	    'BEGIN { if (s <= 0) s = 0.01; printf "%-12s %9.2f %9.0f %9.1f\n",
	      sprintf("%.0f MiB", b / 1048576), s, b / 1048576 / s, kb / 1024 }'
done
rm -rf "$B/scale.db"* "$B/nokeep.db"*
