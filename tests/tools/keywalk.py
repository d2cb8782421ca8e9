#!/usr/bin/env python3
"""keywalk.py URL TOKEN [LISTING...]: walks mailsift serve's listings page
by page by the rows' keys, as the web page's Next and Previous links do,
sorted by each of their columns both ways and in their own order: forward
from the first page (&after=ID of each page's last row) and back from the
last (&last=1, then &before=ID of each page's first row), in pages of a
seventh and of a third of the selection (a page's edge then falls among
ties and NULLs at other places).  Each walk must give the whole selection
as one request of it gives it (&limit=1000), row for row: no row twice,
none left out, the order the same, NULLs where the backend puts them.
Pages by offset (&offset=N, as an address may still give) are asked at
the edges and past the middle, where the server asks them the other way
round from the end and turns them back: each must be the same slice of
the whole selection; so must pages of the listing's own order turned
(&desc=1 with no sort: the key largest first).
Prints one line a walk or page that differs and a count; exits 1 when
any differs."""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

KEYED = ['sessions', 'messages', 'creds', 'tls']
# a filter of each listing's, so that a walk also pages a selection
FILTERS = {'sessions': ['', '&proto=smtp'], 'messages': ['', '&pieces=1'],
           'creds': [''], 'tls': ['']}


def asker(base, token):
    def ask(path):
        req = urllib.request.Request(
            base + path, headers={'Authorization': 'Bearer ' + token})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return {'error': '%d %s' % (e.code, e.read().decode()[:200])}
    return ask


def walk(ask, q, per, forward, most):
    """The ids a walk gives, or an error's text."""
    ids = []
    page = ask(q + '&limit=%d' % per + ('' if forward else '&last=1'))
    for _ in range(most + 1):
        if isinstance(page, dict):
            return page['error']
        got = [r['id'] for r in page]
        ids = ids + got if forward else got + ids
        if len(page) < per:
            return ids
        key = ('&after=%d' % got[-1]) if forward else \
            ('&before=%d' % got[0])
        page = ask(q + '&limit=%d' % per + key)
    return 'more pages than rows'


def offsets(ask, q, whole):
    """The pages by offset that differ from the slice of the whole."""
    n, bad = len(whole), []
    for off, per in ((1, 7), (n // 2 - 1, 100), (n // 2, 7), (n // 2 + 1, 1),
                     (n - 7, 7), (n - 1, 100), (n, 1), (n + 3, 7)):
        got = ask(q + '&limit=%d&offset=%d' % (per, max(off, 0)))
        got = got if isinstance(got, dict) else [r['id'] for r in got]
        if got != whole[max(off, 0):max(off, 0) + per]:
            bad.append('%s&limit=%d&offset=%d: %s for %s' % (
                q, per, off, str(got)[:120],
                str(whole[off:off + per])[:120]))
    return bad


def main():
    base, token = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or KEYED
    ask = asker(base, token)
    walks = pages = differ = 0
    for name in names:
        first = ask('/api/listing/%s?limit=1' % name)
        if isinstance(first, dict) or not first:
            print('%s: no rows to walk (%s)' % (name, first))
            differ += 1
            continue
        for f in FILTERS.get(name, ['']):
            for col in [None] + list(first[0].keys()):
                for desc in ('', '&desc=1'):
                    q = '/api/listing/%s?%s%s%s' % (
                        name, 'sort=' + urllib.parse.quote(col) if col
                        else '', desc, f)
                    whole = [r['id'] for r in ask(q + '&limit=1000')]
                    pages += 1
                    for b in offsets(ask, q, whole):
                        differ += 1
                        print('differs: ' + b)
                    if not col and desc:  # the key turned: paged by
                        continue          # offset only, not by key
                    for per in (len(whole) // 7 + 1, len(whole) // 3 + 1):
                        for forward in (True, False):
                            walks += 1
                            got = walk(ask, q, per, forward, len(whole))
                            if got != whole:
                                differ += 1
                                print('differs: %s, %d a page, %s: %s'
                                      ' for %s' % (
                                          q, per,
                                          'next' if forward else 'previous',
                                          str(got)[:200], str(whole)[:200]))
    print('%d walks, %d selections paged by offset, %d differ' % (
        walks, pages, differ))
    return 1 if differ else 0


if __name__ == '__main__':
    sys.exit(main())
