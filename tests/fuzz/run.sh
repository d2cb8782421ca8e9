#!/bin/sh
# Runs every fuzz target for a bounded time from seeds made of the
# project's own material, and reports what each reached.
#
# usage: tests/fuzz/run.sh SECONDS TARGET...
set -u
cd "$(dirname "$0")/../.."
secs=$1
shift
F=build/fuzz
mkdir -p "$F/crashes"
sh tests/fuzz/seeds.sh "$F/seeds"
status=0
for t in "$@"; do
	mkdir -p "$F/corpus/$t"
	# libnids keeps some memory across nids_init/nids_exit: not ours
	leaks=1; [ "$t" = fuzz_pipeline ] && leaks=0
	# -malloc_limit_mb: liblzma allocates the dictionary an LZMA
	# header asks for (up to 4 GiB) and touches only what is decoded,
	# which the archive walk bounds to 16 MiB a file: a large malloc
	# there is address space, not memory; -rss_limit_mb still bounds
	# what is really used
	ASAN_OPTIONS=detect_leaks=$leaks "$F/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
	    -malloc_limit_mb=4500 \
	    -artifact_prefix="$F/crashes/$t-" -print_final_stats=1 \
	    "$F/corpus/$t" "$F/seeds/$t" $(ls -d tests/fuzz/regress/$t 2>/dev/null) \
	    >"$F/$t.log" 2>&1 || status=1
	execs=$(grep -m1 '^stat::number_of_executed_units' "$F/$t.log" | awk '{ print $2 }')
	cov=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$F/$t.log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*ft: \([0-9]*\).*/\1 edges, \2 features/p')
	printf '%-14s %12s execs  %s\n' "$t" "${execs:-?}" "${cov:-?}"
done
ncrash=0
if ls "$F"/crashes/* >/dev/null 2>&1; then
	echo "crashes found: copy each into tests/fuzz/regress/TARGET/ once fixed"
	ls "$F"/crashes/
	ncrash=$(ls "$F"/crashes/ | wc -l)
	status=1
fi
echo "fuzz: $(( $# - (ncrash > $# ? $# : ncrash) )) passed, $ncrash failed"
exit $status
