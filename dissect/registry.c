/* \summary: the table of dissected protocols and their usual ports */
#include <stdio.h>

#include "dissect/registry.h"

/* 24: LMTP as MTAs reach dovecot and Cyrus (RFC 2033 names no port);
 * 2525: submission where 25 and 587 are blocked. */
static const uint16_t smtp_ports[] = { 25, 587, 2525, 24, 0 };
static const uint16_t smtp_tls[] = { 465, 0 };
static const uint16_t pop3_ports[] = { 110, 0 };
static const uint16_t pop3_tls[] = { 995, 0 };
static const uint16_t imap_ports[] = { 143, 0 };
static const uint16_t imap_tls[] = { 993, 0 };

const struct md_registry_entry md_registry[] = {
	{ "smtp", &md_proto_smtp, smtp_ports, smtp_tls },
	{ "pop3", &md_proto_pop3, pop3_ports, pop3_tls },
	{ "imap", &md_proto_imap, imap_ports, imap_tls },
};
const size_t md_registry_len = sizeof(md_registry) / sizeof(md_registry[0]);

static int
listed(const uint16_t *ports, uint16_t port)
{
	for (; *ports != 0; ports++)
		if (*ports == port)
			return 1;
	return 0;
}

const struct md_proto *
md_proto_of_port(uint16_t port, int *tls)
{
	for (size_t i = 0; i < md_registry_len; i++) {
		int implicit = listed(md_registry[i].tls_ports, port);

		if (implicit || listed(md_registry[i].ports, port)) {
			if (tls != NULL)
				*tls = implicit;
			return md_registry[i].ops;
		}
	}
	return NULL;
}

size_t
md_ports_bpf(char *out, size_t cap)
{
	size_t n = 0;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	for (size_t i = 0; i < md_registry_len; i++) {
		const uint16_t *lists[2] = { md_registry[i].ports,
			md_registry[i].tls_ports };

		for (int l = 0; l < 2; l++)
			for (const uint16_t *p = lists[l]; *p != 0; p++) {
				int k = snprintf(out + n, cap - n, "%sport %u",
				    n ? " or " : "", *p);

				if (k < 0 || (size_t)k >= cap - n)
					return cap - 1;
				n += (size_t)k;
			}
	}
	return n;
}
