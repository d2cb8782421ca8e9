#!/usr/bin/env python3
"""Writes the records a transcript test prints (MAILSIFT_PRINT_GOLDEN=1)
into its C source as the expected strings, for cases whose expectation is
still empty ("").  Existing expectations are never touched: review the new
ones by reading them.

usage: tests/tools/golden.py tests/test_imap.c build/rel/tests/test_imap
"""
import os
import re
import subprocess
import sys


def c_literal(text):
    out = []
    for line in text.splitlines(True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"')
        esc = esc.replace('\n', '\\n')
        out.append('\t"%s"' % esc)
    return '\n'.join(out) if out else '\t""'


def main():
    src_path, binary = sys.argv[1], sys.argv[2]
    env = dict(os.environ, MAILSIFT_PRINT_GOLDEN='1')
    got = subprocess.run([binary], env=env, capture_output=True,
                         text=True, check=True).stdout
    src = open(src_path).read()
    for block in got.split('== ')[1:]:
        name, record = block.split('\n', 1)
        m = re.search(r'\{ "%s", \w+, N\(\w+\), \w+, (\w+) \}' %
                      re.escape(name), src)
        if not m:
            continue
        empty = 'static const char %s[] = "";' % m.group(1)
        if empty in src:
            src = src.replace(empty, 'static const char %s[] =\n%s;' %
                              (m.group(1), c_literal(record)))
    open(src_path, 'w').write(src)


main()
