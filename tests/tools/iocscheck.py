#!/usr/bin/env python3
"""Checks mailsift case iocs output against the formats' own definitions.

  iocscheck.py stix BUNDLE.json   against OASIS's STIX 2.1 JSON schemas
                                  (tests/data/stix21), every reference
                                  resolving inside the bundle, observables'
                                  ids the UUIDv5 of their contributing
                                  properties (STIX 2.1 section 2.9)
  iocscheck.py misp EVENT.json    every attribute's type and category as
                                  MISP's describeTypes.json allows

Prints one line per problem and a summary; exit 1 on any problem.
"""
import json
import os
import sys
import uuid
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
STIX_NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
CONTRIBUTING = {  # STIX 2.1, per observable type (those mailsift writes)
    "email-addr": ["value"], "domain-name": ["value"], "url": ["value"],
    "ipv4-addr": ["value"], "ipv6-addr": ["value"],
    "file": ["hashes", "name", "extensions", "parent_directory_ref"],
    "x509-certificate": ["hashes", "serial_number"],
    "network-traffic": ["start", "end", "src_ref", "dst_ref", "src_port",
                        "dst_port", "protocols", "extensions"],
    "email-message": ["from_ref", "subject", "body"],
}


def validator(schema, store):
    """A 2020-12 validator resolving $refs in the local store: through the
    referencing library where jsonschema has it (4.18 on), else through
    RefResolver (Debian 12's 4.10)."""
    import jsonschema
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
    except ImportError:
        return jsonschema.Draft202012Validator(
            schema, resolver=jsonschema.RefResolver.from_schema(
                schema, store=store))
    reg = Registry().with_resources(
        [(k, Resource.from_contents(v, default_specification=DRAFT202012))
         for k, v in store.items()])
    return jsonschema.Draft202012Validator(schema, registry=reg)


def stix(path):
    warnings.simplefilter("ignore", DeprecationWarning)
    store = {}
    root = os.path.join(DATA, "stix21", "schemas")
    for d, _, files in os.walk(root):
        for f in files:
            s = json.load(open(os.path.join(d, f)))
            store[s["$id"]] = s
    bundle_schema = store[
        "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/"
        "stix2.1/schemas/common/bundle.json"]
    # the bundle itself; its objects one by one below, each against its
    # type's schema (the bundle schema's any-of over every type leads the
    # resolver into marking-definition's local definitions, which
    # jsonschema's RefResolver resolves against the wrong document)
    top = dict(bundle_schema)
    top["properties"] = dict(top["properties"])
    top["properties"]["objects"] = {"type": "array", "minItems": 1,
                                    "items": {"type": "object"}}
    bundle = json.load(open(path))
    problems = []
    for e in validator(top, store).iter_errors(bundle):
        problems.append("bundle: " + e.message[:300])
    by_type = {}
    for sid, s in store.items():
        by_type[s.get("title")] = s
    ids = {o["id"] for o in bundle["objects"]}
    for o in bundle["objects"]:
        schema = by_type.get(o["type"])
        if schema is None:
            problems.append("%s: no schema for type %s" % (o["id"], o["type"]))
            continue
        for e in validator(schema, store).iter_errors(o):
            problems.append("%s: %s" % (o["id"], e.message[:300]))
        for k, val in o.items():
            refs = val if k.endswith("_refs") else [val] \
                if k.endswith("_ref") else []
            for ref in refs:
                if ref not in ids:
                    problems.append("%s: %s %s is not in the bundle"
                                    % (o["id"], k, ref))
        for part in o.get("body_multipart", []):
            if part.get("body_raw_ref") not in ids:
                problems.append("%s: body_raw_ref not in the bundle"
                                % o["id"])
        if o["type"] in CONTRIBUTING:
            c = {k: o[k] for k in CONTRIBUTING[o["type"]] if k in o}
            if o["type"] == "email-message" and "message_id" in o:
                c["message_id"] = o["message_id"]  # mailsift adds it
            canon = json.dumps(c, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False)
            want = "%s--%s" % (o["type"], uuid.uuid5(STIX_NS, canon))
            if o["id"] != want:
                problems.append("%s: not the UUIDv5 of its contributing "
                                "properties (%s)" % (o["id"], want))
    return problems, len(bundle["objects"])


def misp(path):
    d = json.load(open(os.path.join(DATA, "misp", "describeTypes.json")))
    d = d["result"]
    ev = json.load(open(path))["Event"]
    problems = []
    for k in ("uuid", "info", "date", "threat_level_id", "analysis",
              "distribution", "Attribute"):
        if k not in ev:
            problems.append("Event: no %s" % k)
    for a in ev.get("Attribute", []):
        t, c = a.get("type"), a.get("category")
        if t not in d["types"]:
            problems.append("%s: type not MISP's" % t)
        elif c not in d["categories"] or t not in \
                d["category_type_mappings"].get(c, []):
            problems.append("%s: category %s not MISP's for it" % (t, c))
        if not isinstance(a.get("to_ids"), bool) or not a.get("value"):
            problems.append("%s: to_ids or value missing" % t)
        uuid.UUID(a["uuid"])
    return problems, len(ev.get("Attribute", []))


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    problems, n = (stix if kind == "stix" else misp)(path)
    for p in problems:
        print("problem:", p)
    print("%s: %d objects, %d problems" % (kind, n, len(problems)))
    sys.exit(1 if problems else 0)
