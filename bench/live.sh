#!/bin/sh
# mailsift live under replayed traffic: the benchmark capture sent with
# tcpreplay at set rates over a veth pair, inside a network namespace made
# for the run (nothing leaves it), into mailsift live with 1 and 2
# workers (--no-keep).  For each rate: what tcpreplay reached, the
# packets the kernel dropped, and the messages logged whole out of those
# a read of the file logs.  The replayer shares the machine's cores.
#
# usage: bench/live.sh [MEGABYTES|mix [RATES]]   (default 100, "500 1000 1500 2000 top")
#   mix: mail as it is really sent (pcapgen --mix, 2,000 messages: small
#   texts, a third with office files), instead of the big-message bench.
#   The kernel buffer is BUF_MB (default 16): smaller than the capture,
#   so that what is measured is the rate mailsift keeps up with.
#   RATES in Mbit/s; "top" is as fast as tcpreplay goes.  Needs root.
set -eu
cd "$(dirname "$0")/.."
MB=${1:-100}
RATES=${2:-500 1000 1500 2000 top}
B=$(pwd)/build/bench
mkdir -p "$B"
if [ "$MB" = mix ]; then
	PCAP=$B/mix-2000.pcap
	[ -f "$PCAP" ] || build/rel/tools/pcapgen --mix "$PCAP" 2000 42 2>/dev/null
else
	PCAP=$B/bench-$MB.pcap
	[ -f "$PCAP" ] || build/rel/tools/pcapgen --bench "$PCAP" "$MB" 42 2>/dev/null
fi
if [ "${1:-}" != "--inside" ] && [ "${INSIDE:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "bench/live.sh: needs root (a network namespace)"; exit 1; }
	./mailsift read -q --replace --no-keep -o "$B/live-ref.db" "$PCAP"
	exec unshare -n env INSIDE=1 PATH="$PATH:/usr/sbin:/sbin" sh "$0" "$MB" "$RATES"
fi
want=$(sqlite3 "$B/live-ref.db" "SELECT count(*) FROM messages WHERE complete")
ip link add v0 type veth peer name v1
ip link set v0 up; ip link set v1 up
ip link set v0 mtu 9000; ip link set v1 mtu 9000
echo "capture: $PCAP ($(stat -c %s "$PCAP") bytes, $want whole messages); $(nproc) cores"
echo "workers  asked    sent(Mbit/s)  kernel-dropped  messages  logged"
for w in 1 2; do
	for r in $RATES; do
		rm -rf "$B/live"; mkdir -p "$B/live"; chown nobody "$B/live"
		./mailsift live -i v1 -o "$B/live/l.db" --no-keep --status 0 \
			--workers "$w" -B "${BUF_MB:-16}" 2>"$B/live.err" &
		pid=$!
		for _ in $(seq 100); do
			[ "$(grep -c "capturing on" "$B/live.err")" -ge "$w" ] && break
			sleep 0.1
		done
		if [ "$r" = top ]; then speed=--topspeed; else speed=--mbps=$r; fi
		sent=$(tcpreplay -i v0 $speed "$PCAP" 2>&1 | sed -n 's/.*Rated: .*, \([0-9.]*\) Mbps.*/\1/p' | head -1)
		sleep 3
		kill -TERM $pid; wait $pid || true
		drops=$(sed -n 's/.*stopped; .*, \([0-9]*\) dropped by the kernel.*/\1/p' "$B/live.err" |
			awk '{ s += $1 } END { print s + 0 }')
		got=$(sqlite3 "$B/live/l.db" "SELECT count(*) FROM messages WHERE complete" 2>/dev/null || echo 0)
		printf "%-8s %-8s %-13s %-15s %-9s %s\n" "$w" "$r" "${sent:-?}" "$drops" "$got/$want" \
			"$([ "$got" = "$want" ] && [ "$drops" = 0 ] && echo all || echo LOST)"
	done
done
