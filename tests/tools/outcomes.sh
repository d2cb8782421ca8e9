# sent_outcomes LOG: the sent messages of LOG whose kept outcome is not
# what their replies' rows say (tests/tools/outcomes.sql); 0 when right.
# Sourced by e2e.sh, scale.sh, live.sh and dovecot.sh.
sent_outcomes() {
	sed -n '/^CREATE OR REPLACE VIEW v_messages AS/,/END AS outcome,/p' store/pg/pg_schema.sql |
		sed -n '/^       CASE$/,/^       END AS outcome,$/p' | sed '1d;$d' >"$1.outcome-case"
	sed -e "/^@PG_OUTCOME@$/r $1.outcome-case" -e '/^@PG_OUTCOME@$/d' tests/tools/outcomes.sql | sqlite3 "$1"
	rm -f "$1.outcome-case"
}

# sort_ix LOG: the names of LOG's sort indexes (those a writer builds as
# it closes the log), sorted, on one line.  Sourced with sent_outcomes.
sort_ix() { sqlite3 "$1" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%\_sort\_%' ESCAPE '\\' ORDER BY 1)"; }
