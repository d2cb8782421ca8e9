#!/usr/bin/env python3
"""peers.py CORPUS BUILD_DIR MAILSIFT: the public captures' peers (Zeek,
Suricata, Arkime) as a second reference beside tshark.

For every capture with expected outputs in CORPUS/expected, the log that
mailsift makes of it is compared with what the peer's own test suite
asserts:

  Zeek smtp.log   each transaction with a sender: client port, MAIL FROM,
                  the recipients (a set), Subject
  Zeek files.log  each MIME entity: file name and size (seen_bytes), and
                  MD5 where the baseline has it
  Zeek ssl.log    each TLS session: client port, version, cipher, curve,
                  server name, resumed, established, the server's chain
  Zeek x509.log   each certificate: fingerprint, version, serial, subject,
                  issuer, validity, key and signature algorithms, key
                  type, length and exponent, DNS names, CA flag, path
                  length
  Suricata        every filter on smtp or fileinfo events whose fields
                  mailsift logs (mail_from, rcpt_to[i], helo, filename,
                  sha256, size): the count of matching transactions/files
  Arkime          the set of subjects, attachment names and MD5s

A difference is fixed or listed in tests/peers.allow with its reason
("CAPTURE CHECK reason"); an allowed difference that no longer occurs
fails, so the list stays true.  Prints one line per check and
"peers: N passed, N failed".
"""
import json
import os
import sqlite3
import subprocess
import sys

try:
    import yaml
except ImportError:
    sys.exit("peers: Python's yaml module is missing (make test-deps "
             "installs python3-yaml)")

CORPUS, BUILD, MAILSIFT = sys.argv[1], sys.argv[2], sys.argv[3]
EXPECTED = os.path.join(CORPUS, "expected")
ALLOW = os.path.join(os.path.dirname(__file__), "peers.allow")

passed = failed = allowed = 0
seen_allowed = set()
allow = {}
for line in open(ALLOW):
    if line.strip() and not line.startswith("#"):
        cap, check, reason = line.rstrip("\n").split(" ", 2)
        allow[(cap, check)] = reason


def compare(cap, check, ours, theirs):
    global passed, failed, allowed
    if ours == theirs:
        passed += 1
        return
    if (cap, check) in allow:
        allowed += 1
        seen_allowed.add((cap, check))
        print("allowed %s %s: %s" % (cap, check, allow[(cap, check)]))
        return
    failed += 1
    print("FAIL %s %s\n   mailsift: %s\n   peer:     %s" % (cap, check, ours, theirs))


def log_of(cap):
    db = os.path.join(BUILD, cap + ".peers.db")
    subprocess.run([MAILSIFT, "read", "-q", "--replace", "--no-keep", "--sha1", "-o", db,
                    os.path.join(CORPUS, cap)], stderr=subprocess.DEVNULL)
    return sqlite3.connect(db)


def zeek_rows(path):
    fields, rows = None, []
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line.startswith("#") or not line:
            continue
        elif fields is None:  # a zeek-cut baseline: its first line names
            fields = line.split("\t")
        else:
            rows.append(dict(zip(fields, line.split("\t"))))
    return rows


def unset(v):
    return v in (None, "-", "(empty)")


def zeek_smtp(cap, db, path):
    theirs = []
    for r in zeek_rows(path):
        if unset(r.get("mailfrom")):
            continue
        rcpt = [] if unset(r.get("rcptto")) else sorted(r["rcptto"].split(","))
        theirs.append((int(r["id.orig_p"]), r["mailfrom"], tuple(rcpt),
                       "" if unset(r.get("subject")) else r["subject"]))
    ours = []
    q = """SELECT s.client_port, t.mail_from, t.tx,
                  (SELECT subject FROM messages m WHERE m.session_id = t.session_id
                     AND m.tx = t.tx)
           FROM transactions t JOIN sessions s ON s.id = t.session_id
           WHERE t.mail_from IS NOT NULL AND t.mail_from <> ''"""
    for port, mfrom, tx, subj in db.execute(q):
        rcpt = sorted(a for (a,) in db.execute(
            "SELECT address FROM recipients r JOIN sessions s ON s.id = r.session_id"
            " WHERE s.client_port = ? AND r.tx = ?", (port, tx)))
        ours.append((port, mfrom, tuple(rcpt), subj or ""))
    compare(cap, "zeek-smtp", sorted(ours), sorted(theirs))
    zeek_smtp_fields(cap, db, path)


# smtp.log's header fields, as mailsift's export writes them (the same
# SQL's columns): Zeek's baseline value, or unset, for each transaction.
SMTP_FIELDS = """SELECT s.client_port, t.tx, m.date_raw, m.from_addr,
       m.to_addrs, m.cc_addrs, m.reply_to, m.msg_id, m.in_reply_to,
       m.x_originating_ip,
       (SELECT h.value FROM headers h WHERE h.message_id = m.id
          AND lower(h.name) = 'received' ORDER BY h.n DESC LIMIT 1),
       (SELECT h.value FROM headers h WHERE h.message_id = m.id
          AND lower(h.name) = 'received' ORDER BY h.n DESC LIMIT 1 OFFSET 1),
       s.server_ip || ',' || s.client_ip
         || coalesce(',' || m.received_path, ''), m.mailer
FROM transactions t JOIN sessions s ON s.id = t.session_id
LEFT JOIN messages m ON m.session_id = t.session_id AND m.tx = t.tx
WHERE t.mail_from IS NOT NULL"""
ZEEK_SMTP_FIELDS = ("date", "from", "to", "cc", "reply_to", "msg_id",
                    "in_reply_to", "x_originating_ip", "first_received",
                    "second_received", "path", "user_agent")


def addr_set(v):
    """A Zeek set of addresses, as a sorted list of trimmed items."""
    return sorted(x.strip() for x in v.split(",") if x.strip())


def zeek_smtp_fields(cap, db, path):
    """Each connection's transactions in order, field by field (Zeek's
    trans_depth stays 1 when it never sees the server end a message, as
    in a capture of one side: the order is what pairs them)."""
    rows = zeek_rows(path)
    if not rows or "first_received" not in rows[0]:
        return
    ours, theirs, diffs = {}, {}, []
    for r in db.execute(SMTP_FIELDS + " ORDER BY s.client_port, t.tx"):
        ours.setdefault(r[0], []).append(dict(zip(ZEEK_SMTP_FIELDS, r[2:])))
    for z in rows:
        if not unset(z.get("mailfrom")):
            theirs.setdefault(int(z["id.orig_p"]), []).append(z)
    for port, zs in theirs.items():
        for k, z in enumerate(zs):
            o = ours.get(port, [])
            o = o[k] if k < len(o) else {}
            for f in ZEEK_SMTP_FIELDS:
                t = None if unset(z.get(f)) else z[f]
                mine = o.get(f)
                if f in ("to", "cc", "path"):
                    t = addr_set(t) if t else None
                    mine = addr_set(mine) if mine else None
                if mine != t:
                    diffs.append("(%d, %d) %s: ours %r, Zeek's %r" %
                                 (port, k + 1, f, mine, t))
    compare(cap, "zeek-smtp-fields", diffs, [])


def zeek_files(cap, db, path):
    rows = zeek_rows(path)
    if not rows:
        return
    if "seen_bytes" in rows[0]:
        theirs = sorted(("" if unset(r.get("filename")) else r["filename"],
                         int(r["seen_bytes"])) for r in rows)
        ours = sorted((f or "", n) for f, n in db.execute(
            "SELECT filename, size FROM parts"
            " WHERE content_type <> 'message/rfc822'"))
        compare(cap, "zeek-files", ours, theirs)
    if "mime_type" in rows[0]:
        # types by content: Zeek's signatures and libmagic's
        theirs = sorted(("" if unset(r.get("filename")) else r["filename"],
                         "-" if unset(r.get("mime_type")) else r["mime_type"])
                        for r in rows)
        ours = sorted((f or "", t or "-") for f, t in db.execute(
            "SELECT filename, magic_type FROM parts"
            " WHERE content_type <> 'message/rfc822'"))
        compare(cap, "zeek-files-mime", ours, theirs)
    if "sha1" in rows[0]:
        theirs = {r["sha1"] for r in rows if not unset(r.get("sha1"))}
        ours = {m for (m,) in db.execute("SELECT sha1 FROM parts")}
        if theirs:  # read with --sha1: every SHA-1 the peer logged
            compare(cap, "zeek-files-sha1", sorted(theirs & ours), sorted(theirs))
    if "md5" in rows[0]:
        theirs = {r["md5"] for r in rows if not unset(r.get("md5"))}
        ours = {m for (m,) in db.execute("SELECT md5 FROM parts")}
        if theirs:  # every MD5 the peer logged is one of ours
            compare(cap, "zeek-files-md5", sorted(theirs & ours), sorted(theirs))


def zeek_bool(v):
    return None if unset(v) else v == "T"


def zeek_ssl(cap, db, path):
    theirs = sorted((int(r["id.orig_p"]), r["version"], r["cipher"],
                     None if unset(r["curve"]) else r["curve"],
                     None if unset(r["server_name"]) else r["server_name"],
                     zeek_bool(r["resumed"]), zeek_bool(r["established"]),
                     "" if unset(r["cert_chain_fps"]) else r["cert_chain_fps"])
                    for r in zeek_rows(path))
    ours = sorted((port, v, c, curve, sni, bool(res), bool(est), fps or "")
                  for port, v, c, curve, sni, res, est, fps in db.execute(
        """SELECT s.client_port, t.version, t.cipher, t.curve, t.sni,
                  t.resumed, t.established, t.cert_chain_fps
           FROM tls t JOIN sessions s ON s.id = t.session_id"""))
    compare(cap, "zeek-ssl", ours, theirs)


def zeek_x509(cap, db, path):
    def num(v):
        return None if unset(v) else int(float(v))
    theirs = sorted((r["fingerprint"], int(r["certificate.version"]),
                     r["certificate.serial"], r["certificate.subject"],
                     r["certificate.issuer"],
                     num(r["certificate.not_valid_before"]),
                     num(r["certificate.not_valid_after"]),
                     r["certificate.key_alg"], r["certificate.sig_alg"],
                     r["certificate.key_type"],
                     num(r["certificate.key_length"]),
                     None if unset(r["certificate.exponent"]) else
                     r["certificate.exponent"],
                     None if unset(r["san.dns"]) else r["san.dns"],
                     zeek_bool(r["basic_constraints.ca"]),
                     num(r["basic_constraints.path_len"]))
                    for r in zeek_rows(path))
    ours = sorted((fp, ver, serial, subj, iss, int(nb), int(na), ka, sa, kt,
                   kb, exp, dns, None if ca is None else bool(ca), pl)
                  for fp, ver, serial, subj, iss, nb, na, ka, sa, kt, kb,
                  exp, dns, ca, pl in db.execute(
        """SELECT sha256, version, serial, subject, issuer, not_before,
                  not_after, key_alg, sig_alg, key_type, key_bits, exponent,
                  san_dns, is_ca, path_len FROM certificates"""))
    compare(cap, "zeek-x509", ours, theirs)


# Suricata: the fields mailsift has, as SQL over one row per transaction
# (smtp) or per part (fileinfo).
SMTP_ROWS = """SELECT s.helo, '<' || coalesce(t.mail_from, '') || '>', t.session_id, t.tx
               FROM transactions t JOIN sessions s ON s.id = t.session_id"""


def suricata(cap, db, path):
    doc = yaml.safe_load(open(path))
    name = os.path.basename(path)[len(cap) + 1:-len(".test.yaml")] or "test"
    for st in doc.get("checks") or []:
        if isinstance(st, dict) and (st.get("stats") or {}).get(
                "firewall.blocked"):
            return  # a firewall test: Suricata dropped traffic on purpose
    for i, chk in enumerate(doc.get("checks") or []):
        f = chk.get("filter") if isinstance(chk, dict) else None
        if not f or "match" not in f:
            continue
        m = dict(f["match"])
        ev = m.pop("event_type", None)
        if ev == "smtp":
            rows = []
            for helo, mfrom, sid, tx in db.execute(SMTP_ROWS):
                rcpt = ["<%s>" % a for (a,) in db.execute(
                    "SELECT address FROM recipients WHERE session_id = ? AND tx = ?"
                    " ORDER BY seq", (sid, tx))]
                # email.url: Suricata's links of the transaction's
                # message, each once, in order (it has no mailto:)
                urls = []
                for (u,) in db.execute(
                        "SELECT u.url FROM urls u JOIN messages m"
                        " ON m.id = u.message_id WHERE m.session_id = ?"
                        " AND m.tx = ? AND u.kind <> 'mailto' ORDER BY u.n",
                        (sid, tx)):
                    if u not in urls:
                        urls.append(u)
                rows.append({"smtp.helo": helo, "smtp.mail_from": mfrom,
                             "rcpt": rcpt, "email.url": urls})
            # a session without a transaction is an event of its own
            for (helo,) in db.execute(
                    "SELECT helo FROM sessions s WHERE proto = 'smtp' AND NOT"
                    " EXISTS (SELECT 1 FROM transactions t WHERE"
                    " t.session_id = s.id)"):
                rows.append({"smtp.helo": helo, "rcpt": [], "email.url": []})
        elif ev == "fileinfo":
            rows = [{"fileinfo.filename": fn, "fileinfo.sha256": sha,
                     "fileinfo.size": n} for fn, sha, n in db.execute(
                         "SELECT filename, sha256, size FROM parts"
                         " WHERE filename IS NOT NULL")]
        else:
            continue
        ok_keys = {"smtp.helo", "smtp.mail_from", "fileinfo.filename",
                   "fileinfo.sha256", "fileinfo.size", "not-has-key"}
        if any(not (k in ok_keys or k.startswith(("smtp.rcpt_to[", "email.url[")))
               for k in m):
            continue  # a field mailsift does not log (alerts, email.*, ...)

        def match(r):
            for k, v in m.items():
                if k == "not-has-key":
                    if v.startswith("smtp.rcpt_to["):
                        if int(v[13:-1]) < len(r["rcpt"]):
                            return False
                    continue
                if k.startswith("smtp.rcpt_to["):
                    j = int(k[13:-1])
                    if j >= len(r["rcpt"]) or r["rcpt"][j] != v:
                        return False
                elif k.startswith("email.url["):
                    j = int(k[10:-1])
                    if j >= len(r["email.url"]) or r["email.url"][j] != v:
                        return False
                elif r.get(k) != v:
                    return False
            return True
        compare(cap, "suricata-%s-%d" % (name, i),
                sum(1 for r in rows if match(r)), f.get("count", 1))


def arkime(cap, db, path):
    doc = json.load(open(path))
    sessions = doc.get("sessions3", [])
    subj, names, md5 = set(), set(), set()
    for s in sessions:
        e = (s.get("body") or s).get("email") or {}
        subj.update(e.get("subject", []))
        names.update(e.get("filename", []))
        md5.update(e.get("md5", []))
    # every value the peer found is one mailsift logged too
    for check, theirs, q in (
            ("arkime-subject", subj, "SELECT subject FROM messages"),
            ("arkime-filename", names, "SELECT filename FROM parts"),
            ("arkime-md5", md5, "SELECT md5 FROM parts")):
        if theirs:
            ours = {x for (x,) in db.execute(q) if x}
            compare(cap, check, sorted(theirs & ours), sorted(theirs))


def main():
    caps = sorted(f for f in os.listdir(CORPUS)
                  if f.endswith((".pcap", ".pcapng", ".cap")))
    for cap in caps:
        files = [f for f in os.listdir(EXPECTED) if f.startswith(cap + ".")]
        if not files:
            continue
        db = log_of(cap)
        for f in sorted(files):
            path = os.path.join(EXPECTED, f)
            if f == cap + ".smtp.log":
                zeek_smtp(cap, db, path)
            elif f in (cap + ".files.log", cap + ".files.log.cut"):
                zeek_files(cap, db, path)
            elif f == cap + ".ssl.log":
                zeek_ssl(cap, db, path)
            elif f == cap + ".x509.log":
                zeek_x509(cap, db, path)
            elif f.endswith(".test.yaml"):
                suricata(cap, db, path)
            elif f.endswith(".test.json"):
                arkime(cap, db, path)
        db.close()
    for key in allow:
        if key not in seen_allowed:
            global failed
            failed += 1
            print("FAIL stale entry in tests/peers.allow: %s %s" % key)
    print("peers: %d passed, %d failed (%d allowed differences)"
          % (passed, failed, allowed))
    sys.exit(1 if failed else 0)


main()
