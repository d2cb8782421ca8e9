# Sourced by tests that check the sums a SQLite log keeps as its rows
# are written (the hosts', store/sqlite/sqlite_hosts.c; the stats',
# sqlite_stats.c) against the sums of every session and message, "as
# asked": the same log without them, which mailsift sums as it is asked
# (views of the connection, as for a log that predates them).

# no_sums LOG COPY: COPY is LOG without the sums (or their triggers)
no_sums() {
	cp "$1" "$2"; rm -f "$2-wal" "$2-shm"
	[ -f "$1-wal" ] && cp "$1-wal" "$2-wal"
	sqlite3 "$2" "DROP VIEW v_hosts; DROP TABLE host_stats; DROP TABLE host_users;
		$(sqlite3 "$2" "SELECT group_concat('DROP ' || type || ' ' || name, ';') FROM sqlite_master WHERE (type = 'trigger' AND (name LIKE 'hosts\_%' ESCAPE '\' OR name LIKE 'stats\_%' ESCAPE '\')) OR (type = 'view' AND name LIKE 'v\_stat\_%' ESCAPE '\') OR (type = 'table' AND name LIKE 'stat\_%' ESCAPE '\')")"
}

# hosts_csv LOG: the hosts listing, whole (by $BIN, or ./mailsift)
hosts_csv() { "${BIN:-./mailsift}" hosts -d "$1" --csv; }

# stats_csv LOG: the stats, whole, and the values of every column the
# log keeps them for (cli/listings.c), the findings' among them
stats_csv() {
	"${BIN:-./mailsift}" stats -d "$1" --csv
	for lv in messages:from messages:to messages:proto messages:method \
		sessions:proto sessions:client sessions:server \
		findings:finding findings:proto; do
		"${BIN:-./mailsift}" "${lv%%:*}" -d "$1" --values "${lv#*:}" --csv --limit 0
	done
}

# sums_as_asked LOG: "same" when the kept sums are the asked ones
sums_as_asked() {
	no_sums "$1" "$1.asked"
	if [ "$(hosts_csv "$1" | md5sum)" = "$(hosts_csv "$1.asked" | md5sum)" ] &&
		[ "$(stats_csv "$1" | md5sum)" = "$(stats_csv "$1.asked" | md5sum)" ]; then
		echo same
	else
		echo "differ: $1"
	fi
	rm -f "$1.asked" "$1.asked-wal" "$1.asked-shm"
}
