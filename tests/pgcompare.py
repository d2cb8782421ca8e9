#!/usr/bin/env python3
"""Compare a SQLite log and a PostgreSQL log of the same captures.

usage: pgcompare.py LOG.db CONNINFO [TABLE...]

Every table of the SQLite log (message_text included) is read from both
and compared as a multiset of rows, in the SQLite log's terms: ids are
mapped back (PostgreSQL's are run_id * 2^32 + n), times read as epoch
seconds to the microsecond, addresses as text, bytes as hex.  run ids
are left out (the server numbers runs itself), and so are the columns
PostgreSQL adds (sensor, the text search vector).  Exits 1 on the first
table that differs, saying how.
"""
import codecs
import sqlite3
import subprocess
import sys

# PostgreSQL text is valid UTF-8: mailsift writes each byte that is not
# (and NUL) as U+FFFD; the SQLite side is read the same way.
codecs.register_error("per_byte", lambda e: ("\ufffd", e.start + 1))


def as_pg_text(b):
    return b.decode("utf-8", "per_byte").replace("\x00", "\ufffd")

ID_COLS = {"id", "session_id", "message_id", "rowid"}
SKIP_COLS = {"run_id"}
TIME_COLS = {"ts", "not_before", "not_after"}


def is_time(col):
    return col in TIME_COLS or col.endswith("_ts")


def norm(col, v):
    if v is None:
        return None
    if col in ID_COLS:
        return int(v) % (1 << 32)
    if is_time(col):
        return round(float(v), 6)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, float):
        return round(v, 9)
    return str(v)


def sqlite_rows(db, table):
    cols = [r[1] for r in db.execute("PRAGMA table_info(%s)" % table)]
    if table == "message_text":
        cols = ["rowid", "subject", "body"]
    elif table == "extensions":
        cols = [c for c in cols]
    keep = [c for c in cols if c not in SKIP_COLS]
    if table == "runs":  # the server numbers runs; commands differ
        keep = [c for c in keep
                if c not in ("id", "command", "started", "finished")]
    if table == "capture_stats":  # wall clock times
        keep = [c for c in keep if c not in ("since", "until")]
    sel = ", ".join('"%s"' % c if c != "rowid" else "rowid" for c in keep)
    rows = db.execute("SELECT %s FROM %s" % (sel, table)).fetchall()
    return keep, [tuple(norm(c, v) for c, v in zip(keep, r)) for r in rows]


def unescape(field):
    if field == "\\N":
        return None
    out, i = [], 0
    esc = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "b": "\b",
           "f": "\f", "v": "\v"}
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            out.append(esc.get(field[i + 1], field[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def pg_expr(table, col):
    name = col
    if col == "rowid":
        name = "message_id" if table == "message_text" else "id"
    if is_time(col):
        return "to_char(extract(epoch FROM \"%s\"), 'FM9999999999990.000000')" % name
    if col in ("client_ip", "server_ip"):
        return "host(\"%s\")" % name
    if col == "der":
        return "encode(\"%s\", 'hex')" % name
    return "\"%s\"" % name


def pg_rows(conninfo, table, keep):
    sql = "COPY (SELECT %s FROM %s) TO STDOUT" % (
        ", ".join(pg_expr(table, c) for c in keep), table)
    out = subprocess.run(["psql", "-X", "-q", "-d", conninfo, "-c", sql],
                         check=True, capture_output=True).stdout
    rows = []
    for line in out.decode("utf-8").split("\n"):
        if line == "":
            continue
        vals = [unescape(f) for f in line.split("\t")]
        rows.append(tuple(norm(c, v if v is None or c in ID_COLS or
                                is_time(c) else coerce(v)) for c, v in zip(keep, vals)))
    return rows


def coerce(v):
    """Text from COPY as SQLite would hold it: numbers as numbers."""
    try:
        if v.lstrip("-").isdigit():
            return int(v)
    except ValueError:
        pass
    return v


def canon(row):
    return tuple("" if v is None else ("\x00" + str(v)) for v in row)


def main():
    db = sqlite3.connect(sys.argv[1])
    db.text_factory = as_pg_text
    conninfo = sys.argv[2]
    tables = sys.argv[3:] or [
        r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name"
            " NOT LIKE 'message_text_%' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name")]
    total = 0
    for t in tables:
        keep, a = sqlite_rows(db, t)
        a = [tuple(coerce(v) if isinstance(v, str) and c not in ID_COLS
                   else v for c, v in zip(keep, r)) for r in a]
        a = [tuple(norm(c, v) for c, v in zip(keep, r)) for r in a]
        b = pg_rows(conninfo, t, keep)
        sa, sb = sorted(map(canon, a)), sorted(map(canon, b))
        if sa != sb:
            only_a = [r for r in sa if r not in set(sb)][:3]
            only_b = [r for r in sb if r not in set(sa)][:3]
            print("table %s differs: %d rows in SQLite, %d in PostgreSQL"
                  % (t, len(a), len(b)))
            print("  columns:", keep)
            for r in only_a:
                print("  only in SQLite:    ", r)
            for r in only_b:
                print("  only in PostgreSQL:", r)
            sys.exit(1)
        total += len(a)
    print("pgcompare: %d tables, %d rows, the same" % (len(tables), total))


if __name__ == "__main__":
    main()
