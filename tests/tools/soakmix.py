#!/usr/bin/env python3
"""Helpers of tests/soak.sh.

  soakmix.py times PCAP REF.db START END
      When each message of a capture crossed the wire, replayed by
      tcpreplay --mbps from START to END (wall clock): tcpreplay paces by
      bytes, so a packet went out at START + (bytes before it) / (bytes in
      all) * (END - START).  REF.db is `mailsift read` of the capture; for
      each of its complete messages, "BEGIN END SHA256 SESSION_BEGIN" on
      stdout (livemail.py stream's format, and when its session began:
      a sensor restarted in the middle of a session may not follow it).

  soakmix.py plot SAMPLES EVENTS OUT.svg
      SAMPLES: "seconds name rss_kb fds" lines, one per process and
      minute; EVENTS: "seconds label" lines.  Draws resident memory and
      open descriptors of each process over the run, the events as
      vertical lines, in a plain SVG (no plotting library needed).
"""
import sqlite3
import struct
import sys


def packet_ends(path):
    """Cumulative bytes of the file at the end of each packet (1-based)."""
    ends = [0]
    with open(path, "rb") as f:
        head = f.read(24)
        magic = struct.unpack("<I", head[:4])[0]
        order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        pos = 24
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            incl = struct.unpack(order + "IIII", rec)[2]
            f.seek(incl, 1)
            pos += 16 + incl
            ends.append(pos)
    return ends


def times(pcap, ref, start, end):
    ends = packet_ends(pcap)
    total = ends[-1]
    span = end - start
    db = sqlite3.connect(ref)
    rows = db.execute("SELECT m.first_frame, m.last_frame, m.sha256,"
                      " s.first_frame FROM messages m JOIN sessions s"
                      " ON s.id = m.session_id"
                      " WHERE m.complete AND NOT m.partial")

    def at(frame):
        return start + ends[max(0, min(frame, len(ends) - 1))] / total * span
    for first, last, sha, session in rows:
        print("%.3f %.3f %s %.3f" % (at(first - 1), at(last), sha,
                                     at(session - 1)))


def plot(samples, events, out):
    series = {}
    for line in open(samples):
        t, name, rss, fds = line.split()
        series.setdefault(name, []).append((float(t), int(rss) / 1024.0,
                                            int(fds)))
    marks = []
    for line in open(events):
        t, label = line.rstrip("\n").split(" ", 1)
        marks.append((float(t), label))
    tmax = max([p[0] for s in series.values() for p in s] + [1])
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    w, h, left, top, gap = 900, 220, 60, 30, 60
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d"'
           ' font-family="sans-serif" font-size="11">' %
           (w + 180, 2 * h + gap + 2 * top + 20)]
    for panel, (key, title) in enumerate(((1, "resident memory (MB)"),
                                          (2, "open descriptors"))):
        y0 = top + panel * (h + gap)
        vmax = max([p[key] for s in series.values() for p in s] + [1]) * 1.15
        svg.append('<text x="%d" y="%d" font-weight="bold">%s</text>' %
                   (left, y0 - 10, title))
        svg.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none"'
                   ' stroke="#888"/>' % (left, y0, w, h))
        for k in range(5):
            v = vmax * k / 4
            y = y0 + h - h * k / 4
            svg.append('<text x="%d" y="%.1f" text-anchor="end">%.0f</text>'
                       % (left - 4, y + 4, v))
        last_x, lift = -100.0, 0
        for t, label in marks:
            x = left + w * t / tmax
            svg.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d"'
                       ' stroke="#bbb" stroke-dasharray="3,3"/>' %
                       (x, x, y0, y0 + h))
            # labels of events close together one above the other
            lift = lift + 110 if x - last_x < 14 else 0
            last_x = x
            if panel == 0:
                y = y0 + h - 4 - lift
                svg.append('<text x="%.1f" y="%d" transform="rotate(-90 %.1f'
                           ' %d)" fill="#666">%s</text>' %
                           (x + 3, y, x + 3, y, label))
        for n, (name, pts) in enumerate(sorted(series.items())):
            c = colours[n % len(colours)]
            path = " ".join("%.1f,%.1f" % (left + w * p[0] / tmax,
                                           y0 + h - h * p[key] / vmax)
                            for p in pts)
            svg.append('<polyline fill="none" stroke="%s" stroke-width="1.5"'
                       ' points="%s"/>' % (c, path))
            svg.append('<text x="%d" y="%d" fill="%s">%s</text>' %
                       (left + w + 10, y0 + 14 + 14 * n, c, name))
        svg.append('<text x="%d" y="%d" text-anchor="middle">minutes</text>'
                   % (left + w / 2, y0 + h + 28))
        for k in range(0, int(tmax // 60) + 1, max(1, int(tmax // 600))):
            x = left + w * k * 60 / tmax
            svg.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>'
                       % (x, y0 + h + 14, k))
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "times":
        times(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))
    elif len(sys.argv) == 5 and sys.argv[1] == "plot":
        plot(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
