# A private PostgreSQL server for the tests and benchmarks: Debian's
# server, run as an unprivileged user in a temporary folder, on a Unix
# socket only.  Source it, then:
#   pg_init        makes the cluster in $D (a new temporary folder)
#   pg_start       starts it; pg_stop stops it; pg_cleanup removes it
#   uri DB         the libpq URI of database DB
#   newdb DB       creates database DB
#   sql DB SQL     runs SQL, prints rows unaligned
#   pg_cpu         CPU seconds the server's processes used so far
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
RUN=${RUN:-}
pg_init() {
	[ -n "$PGBIN" ] || { echo "no PostgreSQL server installed (make test-deps installs it)" >&2; return 1; }
	D=$(mktemp -d /tmp/mailsift-pg.XXXXXX)
	if [ "$(id -u)" = 0 ]; then # initdb and postgres refuse to run as root
		chown nobody "$D"
		RUN="runuser -u nobody --"
	fi
	$RUN "$PGBIN/initdb" -D "$D/data" --auth=trust -U mailsift -E UTF8 \
		--locale=C.UTF-8 >/dev/null
}
pg_start() {
	$RUN "$PGBIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w \
		-o "-k $D -c listen_addresses='' -c fsync=off" start >/dev/null
}
pg_stop() { $RUN "$PGBIN/pg_ctl" -D "$D/data" -m fast -w stop >/dev/null 2>&1; }
pg_cleanup() { pg_stop; rm -rf "$D"; }
uri() { echo "postgresql:///$1?host=$D&user=mailsift"; }
newdb() { psql -X -q -d "$(uri postgres)" -c "CREATE DATABASE $1" >/dev/null; }
sql() { psql -X -q -A -t -d "$(uri "$1")" -c "$2"; }
pg_cpu() { # the postmaster's own, its ended backends' and its live ones'
	pm=$(head -1 "$D/data/postmaster.pid")
	{
		awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
		for p in $(pgrep -P "$pm"); do
			awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null
		done
	} | awk -v hz="$(getconf CLK_TCK)" '{ s += $1 } END { printf "%.2f\n", s / hz }'
}
