#!/usr/bin/env python3
"""mailsift's smtp.log and files.log against Zeek's own field lists: every
field Zeek has is either left out (Zeek's unset) or there with the JSON
type Zeek writes for its type; the fields Zeek always sets are there.
Fields of mailsift's own come after Zeek's and are not Zeek's names.

Zeek's lists are those of its test baselines (#fields and #types of
smtp.log and files.log); when the public corpus is beside the repository
its baselines are read and must still be these lists.

usage: zeekfields.py EXPORT_DIR [CORPUS_EXPECTED_DIR]"""
import ipaddress
import json
import os
import sys

# Zeek's smtp.log (base/protocols/smtp/main.zeek; is_webmail from its
# smtp software policy) and files.log (base/frameworks/files, hashes).
ZEEK = {
    "smtp.log": [
        ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"),
        ("id.orig_p", "port"), ("id.resp_h", "addr"), ("id.resp_p", "port"),
        ("trans_depth", "count"), ("helo", "string"), ("mailfrom", "string"),
        ("rcptto", "set[string]"), ("date", "string"), ("from", "string"),
        ("to", "set[string]"), ("cc", "set[string]"), ("reply_to", "string"),
        ("msg_id", "string"), ("in_reply_to", "string"),
        ("subject", "string"), ("x_originating_ip", "addr"),
        ("first_received", "string"), ("second_received", "string"),
        ("last_reply", "string"), ("path", "vector[addr]"),
        ("user_agent", "string"), ("tls", "bool"),
        ("fuids", "vector[string]"), ("is_webmail", "bool")],
    "files.log": [
        ("ts", "time"), ("fuid", "string"), ("uid", "string"),
        ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
        ("id.resp_p", "port"), ("source", "string"), ("depth", "count"),
        ("analyzers", "set[string]"), ("mime_type", "string"),
        ("filename", "string"), ("duration", "interval"),
        ("local_orig", "bool"), ("is_orig", "bool"), ("seen_bytes", "count"),
        ("total_bytes", "count"), ("missing_bytes", "count"),
        ("overflow_bytes", "count"), ("timedout", "bool"),
        ("parent_fuid", "string"), ("md5", "string"), ("sha1", "string"),
        ("sha256", "string"), ("extracted", "string")],
}
ALWAYS = {"smtp.log": ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h",
                       "id.resp_p", "trans_depth", "path", "tls"],
          "files.log": ["ts", "fuid", "source", "seen_bytes", "timedout"]}


def is_ip(v):
    try:
        ipaddress.ip_address(v)
        return True
    except ValueError:
        return False


def type_ok(t, v):
    if t in ("time", "interval"):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t in ("count", "port"):
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0
    if t == "bool":
        return isinstance(v, bool)
    if t == "addr":
        return isinstance(v, str) and is_ip(v)
    if t == "string":
        return isinstance(v, str)
    if t in ("set[string]", "vector[string]"):
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if t == "vector[addr]":
        return isinstance(v, list) and all(isinstance(x, str) and is_ip(x)
                                           for x in v)
    raise ValueError(t)


def baseline(path):
    fields = types = None
    for line in open(path):
        if line.startswith("#fields"):
            fields = line.rstrip("\n").split("\t")[1:]
        elif line.startswith("#types"):
            types = line.rstrip("\n").split("\t")[1:]
    return list(zip(fields, types)) if fields and types else None


def main():
    out, bad, n = sys.argv[1], 0, 0
    if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]):
        for log, base in (("smtp.log", "zeek-smtp.pcap.smtp.log"),
                          ("files.log", "zeek-smtp.pcap.files.log")):
            theirs = baseline(os.path.join(sys.argv[2], base))
            ours = dict(ZEEK[log])
            for f, t in theirs or []:
                if ours.get(f) != t:
                    print("zeekfields: %s: Zeek's baseline has %s %s, this"
                          " list %s" % (log, f, t, ours.get(f)))
                    bad += 1
    for log, fields in ZEEK.items():
        types = dict(fields)
        order = [f for f, _ in fields]
        for i, line in enumerate(open(os.path.join(out, log))):
            rec = json.loads(line)
            n += 1
            for f in ALWAYS[log]:
                if f not in rec:
                    print("zeekfields: %s line %d: no %s" % (log, i + 1, f))
                    bad += 1
            keys = list(rec)
            zeek_keys = [k for k in keys if k in types]
            if zeek_keys != [k for k in order if k in rec]:
                print("zeekfields: %s line %d: Zeek's fields out of its"
                      " order: %s" % (log, i + 1, zeek_keys))
                bad += 1
            if keys[:len(zeek_keys)] != zeek_keys:
                print("zeekfields: %s line %d: a field of mailsift's among"
                      " Zeek's" % (log, i + 1))
                bad += 1
            for k, v in rec.items():
                if k in types and not type_ok(types[k], v):
                    print("zeekfields: %s line %d: %s=%r is not a Zeek %s" %
                          (log, i + 1, k, v, types[k]))
                    bad += 1
    print("zeekfields: %d records, %d problems" % (n, bad))
    return 1 if bad or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
