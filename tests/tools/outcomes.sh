# sent_outcomes LOG: the sent messages of LOG whose kept outcome is not
# what their replies' rows say (tests/tools/outcomes.sql); 0 when right.
# Sourced by e2e.sh, scale.sh, live.sh and dovecot.sh.
sent_outcomes() {
	sed -n '/^CREATE OR REPLACE VIEW v_messages AS/,/END AS outcome,/p' store/pg/pg_schema.sql |
		sed -n '/^       CASE$/,/^       END AS outcome,$/p' | sed '1d;$d' >"$1.outcome-case"
	sed -e "/^@PG_OUTCOME@$/r $1.outcome-case" -e '/^@PG_OUTCOME@$/d' tests/tools/outcomes.sql | sqlite3 "$1"
	rm -f "$1.outcome-case"
}
