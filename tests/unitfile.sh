#!/bin/sh
# The systemd unit shipped for mailsift live parses and passes systemd's
# own checks (systemd-analyze verify), with the binary path pointed at the
# one just built.  Skipped, and said so, where systemd-analyze is absent.
set -u
cd "$(dirname "$0")/.."
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "unitfile: skipped: no systemd-analyze"
	exit 0
fi
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
sed "s|/usr/local/bin/mailsift|$(pwd)/mailsift|" dist/mailsift-live@.service \
	> "$d/mailsift-live@lo.service"
if out=$(systemd-analyze verify --man=no "$d/mailsift-live@lo.service" 2>&1) && [ -z "$out" ]; then
	echo "ok   dist/mailsift-live@.service: systemd-analyze verify"
	echo "unitfile: 1 passed, 0 failed"
else
	echo "FAIL dist/mailsift-live@.service: systemd-analyze verify"
	echo "$out"
	echo "unitfile: 0 passed, 1 failed"
	exit 1
fi
