#!/usr/bin/env python3
"""cdp.py: headless Chromium driven with a real pointer, for what
--dump-dom cannot show (a drag, a click with a modifier held): the
DevTools protocol over --remote-debugging-pipe (no port, no library).

  cdp.py URL drag SELECTOR      presses the mouse a quarter into the
                                element, moves to three quarters and
                                releases; prints location.hash after
  cdp.py URL altclick SELECTOR  clicks the element with Alt held; prints
                                the search bar's value, then
                                location.hash, one a line

Extra Chromium flags may come in CDP_FLAGS (one a line).  Exit 1 with a
message when the page or the element does not come within 20 s.
"""
import json
import os
import subprocess
import sys
import time


class Chromium:
    def __init__(self, flags):
        to_r, self.to_w = os.pipe()    # ours -> its fd 3
        self.from_r, from_w = os.pipe()  # its fd 4 -> ours

        def fds():  # through fresh numbers: a pipe may already be 3 or 4
            a, b = os.dup(to_r), os.dup(from_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--remote-debugging-pipe",
             "--window-size=1280,1000"] + flags,
            preexec_fn=fds, close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=open(os.environ.get("CDP_LOG", os.devnull), "w"))
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self.from_r, 65536)
            if not chunk:
                raise EOFError("Chromium went away")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=20):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self.read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        self.proc.kill()
        self.proc.wait()


def evaluate(b, s, expr):
    r = b.call("Runtime.evaluate", {"expression": expr,
                                    "returnByValue": True}, s)
    return r.get("result", {}).get("value")


def wait_for(b, s, expr, what):
    deadline = time.time() + 20
    while time.time() < deadline:
        if evaluate(b, s, expr):
            return
        time.sleep(0.2)
    sys.exit("cdp: %s did not come" % what)


def mouse(b, s, kind, x, y, modifiers=0):
    b.call("Input.dispatchMouseEvent",
           {"type": kind, "x": x, "y": y, "button": "left",
            "buttons": 1 if kind != "mouseReleased" else 0,
            "clickCount": 1, "modifiers": modifiers}, s)


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("drag", "altclick"):
        sys.exit(__doc__)
    url, action, sel = sys.argv[1:]
    flags = [f for f in os.environ.get("CDP_FLAGS", "").split("\n") if f]
    b = Chromium(flags)
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"})
        s = b.call("Target.attachToTarget",
                   {"targetId": target["targetId"], "flatten": True}
                   )["sessionId"]
        b.call("Page.enable", session=s)
        b.call("Page.navigate", {"url": url}, s)
        q = json.dumps(sel)
        wait_for(b, s, "!!document.querySelector(%s)" % q, sel)
        rect = evaluate(b, s, "(() => { const e = document.querySelector(%s);"
                        " e.scrollIntoView({block: 'center'});"
                        " const r = e.getBoundingClientRect();"
                        " return [r.left, r.top, r.width, r.height]; })()"
                        % q)
        x, y, w, h = rect
        before = evaluate(b, s, "location.hash")
        if action == "drag":
            mouse(b, s, "mousePressed", x + w / 4, y + h / 2)
            for k in range(1, 11):
                mouse(b, s, "mouseMoved", x + w / 4 + k * w / 20, y + h / 2)
            mouse(b, s, "mouseReleased", x + 3 * w / 4, y + h / 2)
            wait_for(b, s, "location.hash !== %s" % json.dumps(before),
                     "a new location")
            print(evaluate(b, s, "location.hash"))
        else:
            mouse(b, s, "mousePressed", x + w / 2, y + h / 2, 1)
            mouse(b, s, "mouseReleased", x + w / 2, y + h / 2, 1)
            time.sleep(0.5)
            print(evaluate(b, s, "document.getElementById('bar-q').value"))
            print(evaluate(b, s, "location.hash"))
    finally:
        b.close()


if __name__ == "__main__":
    main()
