#!/bin/sh
# mailsift's benchmark: how fast it reads a large mail capture, against
# the floor of reading (libpcap alone), the floor of this architecture
# (libpcap + libnids reassembling into empty callbacks), and the tools
# analysts use today (tshark with mail fields; dsniff's mailsnarf).
#
# usage: bench/run.sh [MEGABYTES]   (default 500; make bench runs it)
#
# The capture is made by pcapgen --bench (same seed, same bytes): the
# three protocols, 32 sessions interleaved at a time, messages of 1 KB to
# 9 MB with base64 attachments, some retransmissions and reordering.
# Each tool runs once with the page cache warm; /usr/bin/time gives the
# elapsed time and the peak resident memory.
set -eu
cd "$(dirname "$0")/.."
MB=${1:-500}
B=build/bench
mkdir -p "$B"
PCAP=$B/bench-$MB.pcap
[ -f "$PCAP" ] || build/rel/tools/pcapgen --bench "$PCAP" "$MB" 42 2>/dev/null
BYTES=$(stat -c %s "$PCAP")
PKTS=$(build/bench/floor pcap "$PCAP" | cut -d' ' -f1)

# capture_of MB: the benchmark capture of that size, made if missing.
capture_of() {
	f=$B/bench-$1.pcap
	[ -f "$f" ] || build/rel/tools/pcapgen --bench "$f" "$1" 42 2>/dev/null
	echo "$f"
}

# run NAME FILE CMD...: times CMD on FILE; prints NAME BYTES PACKETS SECONDS PEAK_KB
run() {
	name=$1 file=$2
	shift 2
	cat "$file" >/dev/null # warm
	/usr/bin/time -f "%e %M" -o "$B/time.out" "$@" >/dev/null 2>"$B/$name.err" ||
		{ echo "$name failed:" >&2; tail -3 "$B/$name.err" >&2; return 0; }
	echo "$name $(stat -c %s "$file") $(build/bench/floor pcap "$file" | cut -d' ' -f1) $(cat "$B/time.out")"
}

# The slow tools read a smaller cut of the same traffic: mailsnarf needs
# about 2.5 s per MB, which would make a 500 MB run last half an hour.
SLOW=$(capture_of $((MB < 50 ? MB : 50)))
SLOWER=$(capture_of $((MB < 10 ? MB : 10)))
results=$B/results.txt
: >"$results"
run "libpcap-read" "$PCAP" build/bench/floor pcap "$PCAP" >>"$results"
run "libpcap+libnids" "$PCAP" build/bench/floor nids "$PCAP" >>"$results"
rm -rf "$B/bench.db.blobs"
run "mailsift" "$PCAP" ./mailsift read -q --force -o "$B/bench.db" "$PCAP" >>"$results"
run "mailsift --no-keep" "$PCAP" ./mailsift read -q --force --no-keep \
	-o "$B/bench.db" "$PCAP" >>"$results"
rm -rf "$B/x"
run "mailsift --extract" "$PCAP" ./mailsift read -q --force -o "$B/bench.db" \
	-x "$B/x" "$PCAP" >>"$results"
rm -rf "$B/x"
if command -v tshark >/dev/null; then
	run "tshark" "$SLOW" tshark -n -r "$SLOW" -Y 'smtp || pop || imap' \
		-T fields -e frame.number -e smtp.req.command \
		-e smtp.req.parameter -e pop.request.command \
		-e imap.request >>"$results"
fi
MAILSNARF=$(command -v mailsnarf || echo /usr/sbin/mailsnarf)
if [ -x "$MAILSNARF" ]; then
	run "mailsnarf" "$SLOWER" "$MAILSNARF" -p "$SLOWER" >>"$results"
fi

echo "capture: $PCAP, $((BYTES / 1048576)) MB, $PKTS packets (tshark: $SLOW, mailsnarf: $SLOWER)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ { print $2 }') GB"
printf '%-20s %8s %9s %9s %10s %8s %11s\n' tool MB seconds MB/s kpkt/s "RSS MB" "mailsift/x"
ms_rate=$(awk '$1 == "mailsift" { print $2 / $4 }' "$results")
sed 's/^mailsift --extract/mailsift--extract/; s/^mailsift --no-keep/mailsift--no-keep/' "$results" | while read -r name bytes pkts secs kb; do
	awk -v n="$name" -v b="$bytes" -v p="$pkts" -v s="$secs" -v kb="$kb" -v r="$ms_rate" \
	    'BEGIN { if (s <= 0) s = 0.01; printf "%-20s %8.0f %9.2f %9.0f %10.0f %8.1f %11.2f\n",
	      n, b / 1048576, s, b / 1048576 / s, p / 1000 / s, kb / 1024, r / (b / s) }'
done
echo "(mailsift/x: mailsift's throughput over the tool's; below 1 the tool is faster)"

# How mailsift's cost grows with the capture.
echo
printf '%-12s %9s %9s %9s\n' size seconds MB/s "RSS MB"
for part in 4 2 1; do
	p=$(capture_of $((MB / part)))
	cat "$p" >/dev/null
	rm -rf "$B/scale.db.blobs"
	/usr/bin/time -f "%e %M" -o "$B/time.out" ./mailsift read -q --force \
		-o "$B/scale.db" "$p" >/dev/null 2>&1
	read -r secs kb <"$B/time.out"
	awk -v m="$((MB / part))" -v s="$secs" -v kb="$kb" -v b="$(stat -c %s "$p")" \
	    'BEGIN { if (s <= 0) s = 0.01; printf "%-12s %9.2f %9.0f %9.1f\n",
	      m " MB", s, b / 1048576 / s, kb / 1024 }'
done
