/* \summary: a message's header/body boundary, found incrementally */
#include <string.h>

#include "store/analyse/hbsplit.h"

enum {
	HB_LINE_START, /* header, at the start of a line */
	HB_CR_START,   /* header, a CR at the start of a line */
	HB_LINE,       /* header, inside a line */
	HB_BODY
};

size_t
hb_split_feed(struct hb_split *h, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && h->state != HB_BODY) {
		uint8_t c = p[i++];

		switch (h->state) {
		case HB_LINE_START:
			h->state = c == '\n' ? HB_BODY :
			    c == '\r'	     ? HB_CR_START :
					       HB_LINE;
			break;
		case HB_CR_START:
			h->state = c == '\n' ? HB_BODY : HB_LINE;
			break;
		default: { /* the line's end is all that matters */
			const uint8_t *lf =
			    c == '\n' ? p + i - 1 : memchr(p + i, '\n', n - i);

			if (lf == NULL)
				return n;
			i = (size_t)(lf - p) + 1;
			h->state = HB_LINE_START;
			break;
		}
		}
	}
	return i;
}

int
hb_in_body(const struct hb_split *h)
{
	return h->state == HB_BODY;
}
