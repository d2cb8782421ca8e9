# Sourced by tests that check a log's kept message bytes.

# kept_bad LOG: how many messages the log says it kept whose bytes are
# neither inside it (blob_bytes) nor in its store (LOG.blobs/AB/ABCD...)
# hashing to their name
kept_bad() {
	python3 - "$1" <<'PY'
import hashlib, os, sqlite3, sys
log = sys.argv[1]
db = sqlite3.connect("file:%s?mode=ro" % log, uri=True)
bad = 0
for (h,) in db.execute("SELECT DISTINCT sha256 FROM messages WHERE kept > 0"):
    row = db.execute("SELECT bytes FROM blob_bytes WHERE sha256 = ?", (h,)).fetchone()
    if row is None:
        path = os.path.join(log + ".blobs", h[:2], h)
        data = open(path, "rb").read() if os.path.isfile(path) else None
    else:
        data = row[0]
    bad += data is None or hashlib.sha256(data).hexdigest() != h
print(bad)
PY
}

# inside LOG: how many kept messages' bytes are inside the log
inside() { sqlite3 "$1" "SELECT count(*) FROM blob_bytes"; }
