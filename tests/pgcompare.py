#!/usr/bin/env python3
"""Compare two logs of the same captures: SQLite and PostgreSQL, or two
SQLite logs (one read with --jobs, say).

usage: pgcompare.py [--no-ids] LOG.db LOG.db|CONNINFO [TABLE...]

Every table of the SQLite log (message_text included) is read from both
and compared as a multiset of rows, in the SQLite log's terms: ids are
mapped back (PostgreSQL's are run_id * 2^32 + n), times read as epoch
seconds to the microsecond, addresses as text, bytes as hex.  run ids
are left out (the server numbers runs itself), and so are the columns
PostgreSQL adds (sensor, the text search vector).  With --no-ids, ids
are left out too (workers number their rows each their own way), and so
are the tables of runs and captures (each worker is a run that read
every file).  Exits 1 on the first table that differs, saying how.
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
    keep = [c for c in cols if c not in SKIP_COLS]
    # the server numbers runs; commands, processes (owner) and where
    # a file log keeps its blobs (PostgreSQL keeps them inside) differ
    if table == "runs":
        keep = [c for c in keep
                if c not in ("id", "command", "started", "finished",
                             "owner", "blobs")]
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
    args = sys.argv[1:]
    no_ids = args[0] == "--no-ids"
    if no_ids:
        args = args[1:]
        ID_COLS.update(SKIP_COLS)
    db = sqlite3.connect(args[0])
    db.text_factory = as_pg_text
    conninfo = args[1]
    other = None
    if "://" not in conninfo:
        other = sqlite3.connect(conninfo)
        other.text_factory = as_pg_text
    tables = args[2:] or [
        r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name"
            " NOT LIKE 'message_text_%' AND name NOT LIKE 'sqlite_%'"
            # where kept bytes lie differs by store (inside a SQLite log,
            # its files, PostgreSQL's blobs): `extract` compares them
            " AND name <> 'blob_bytes'"
            # the trigram index of the addresses (SQLite): its pages are
            # its own business, what it holds is compared where both
            # are SQLite logs; PostgreSQL has pg_trgm's indexes instead
            " AND name NOT LIKE 'message\\_addrs%' ESCAPE '\\'"
            " ORDER BY name")]
    if other is not None and not args[2:]:
        tables.append("message_addrs_content")
    if no_ids:
        tables = [t for t in tables
                  if t not in ("runs", "captures", "capture_stats")]
    if other is None:
        # the hosts' sums SQLite keeps as it writes: PostgreSQL sums as
        # asked (v_hosts), compared through the hosts listing; likewise the
        # stats' (v_stat_), through stats
        tables = [t for t in tables if t not in ("host_stats", "host_users")
                  and not t.startswith("stat_")]
    total = 0

    def rows_of(conn, t):
        keep, rows = sqlite_rows(conn, t)
        rows = [tuple(coerce(v) if isinstance(v, str) and c not in ID_COLS
                      else v for c, v in zip(keep, r)) for r in rows]
        return keep, [tuple(norm(c, v) for c, v in zip(keep, r))
                      for r in rows]

    for t in tables:
        keep, a = rows_of(db, t)
        if other is not None:
            b = rows_of(other, t)[1]
        else:
            b = pg_rows(conninfo, t, keep)
        if no_ids:
            drop = [i for i, c in enumerate(keep) if c in ID_COLS]
            a = [tuple(v for i, v in enumerate(r) if i not in drop) for r in a]
            b = [tuple(v for i, v in enumerate(r) if i not in drop) for r in b]
        sa, sb = sorted(map(canon, a)), sorted(map(canon, b))
        if sa != sb:
            only_a = [r for r in sa if r not in set(sb)][:3]
            only_b = [r for r in sb if r not in set(sa)][:3]
            print("table %s differs: %d rows in the first, %d in the second"
                  % (t, len(a), len(b)))
            print("  columns:", keep)
            for r in only_a:
                print("  only in the first: ", r)
            for r in only_b:
                print("  only in the second:", r)
            sys.exit(1)
        total += len(a)
    print("pgcompare: %d tables, %d rows, the same" % (len(tables), total))


if __name__ == "__main__":
    main()
