#!/bin/sh
# The programs `make demo` runs must come from packages the Makefile
# installs for the demo (BUILD_PKGS and DEMO_PKGS), or from what those
# depend on: else a fresh Debian 12 with only make and git fails where
# this machine, which has the test packages too, does not.
set -u
cd "$(dirname "$0")/../.."
pkgs=$(make -s print-demo-pkgs)
fail=0
# every program the demo recipe calls by name (mailsift itself is built)
for prog in $(make -s print-demo-programs); do
	path=$(command -v "$prog") || { echo "FAIL demo needs $prog: not installed"; fail=1; continue; }
	owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
	found=0
	for p in $pkgs; do
		[ "$p" = "$owner" ] && found=1
		apt-cache depends --installed "$p" 2>/dev/null | grep -q "Depends: $owner\$" && found=1
	done
	if [ $found = 1 ]; then echo "ok   demo: $prog ($owner) is installed by make demo"
	else echo "FAIL demo: $prog comes from $owner, which make demo does not install"; fail=1; fi
done
exit $fail
