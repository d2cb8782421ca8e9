# Sourced by tests that check the hosts' sums a SQLite log keeps as its
# rows are written (store/sqlite/sqlite_hosts.c) against the sums of
# every session, "as asked": the same log without them, which mailsift
# sums as it is asked (a view of the connection, as for a log that
# predates them).

# no_sums LOG COPY: COPY is LOG without the sums (or their triggers)
no_sums() {
	cp "$1" "$2"; rm -f "$2-wal" "$2-shm"
	[ -f "$1-wal" ] && cp "$1-wal" "$2-wal"
	sqlite3 "$2" "DROP VIEW v_hosts; DROP TABLE host_stats; DROP TABLE host_users;
		$(sqlite3 "$2" "SELECT group_concat('DROP TRIGGER ' || name, ';') FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'hosts_%'")"
}

# hosts_csv LOG: the hosts listing, whole (by $BIN, or ./mailsift)
hosts_csv() { "${BIN:-./mailsift}" hosts -d "$1" --csv; }

# sums_as_asked LOG: "same" when the kept sums are the asked ones
sums_as_asked() {
	no_sums "$1" "$1.asked"
	if [ "$(hosts_csv "$1" | md5sum)" = "$(hosts_csv "$1.asked" | md5sum)" ]; then
		echo same
	else
		echo "differ: $1"
	fi
	rm -f "$1.asked" "$1.asked-wal" "$1.asked-shm"
}
