/* \summary: IPv6 packets rewritten as IPv4 for libnids, and mapped back */
#include <stdlib.h>
#include <string.h>

#include "capture/v6map.h"
#include "capture/wire.h"

static uint32_t
hash_addr(const uint8_t a[16])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	return h;
}

static int
v6map_grow(struct v6map *m)
{
	uint32_t ncap = m->cap ? m->cap * 2 : 1024, *slot;
	uint8_t(*addr)[16];

	if ((slot = calloc(ncap, sizeof(*slot))) == NULL)
		return -1;
	if ((addr = realloc(m->addr, (size_t)(ncap / 2) * 16)) == NULL) {
		free(slot);
		return -1;
	}
	m->addr = addr;
	for (uint32_t i = 0; i < m->n; i++) {
		uint32_t s = hash_addr(m->addr[i]) & (ncap - 1);
		while (slot[s] != 0)
			s = (s + 1) & (ncap - 1);
		slot[s] = i + 1;
	}
	free(m->slot);
	m->slot = slot;
	m->cap = ncap;
	return 0;
}

/* The stand-in index of an address, given one if it has none yet. */
static int
v6map_index(struct v6map *m, const uint8_t a[16], uint32_t *idx)
{
	uint32_t s;

	if (m->n + 1 > m->cap / 2) { /* keep the table at most half full */
		if (m->n >= V6MAP_MAX || v6map_grow(m) != 0)
			return -1;
	}
	for (s = hash_addr(a) & (m->cap - 1); m->slot[s] != 0;
	     s = (s + 1) & (m->cap - 1))
		if (memcmp(m->addr[m->slot[s] - 1], a, 16) == 0) {
			*idx = m->slot[s] - 1;
			return 0;
		}
	memcpy(m->addr[m->n], a, 16);
	m->slot[s] = ++m->n;
	*idx = m->n - 1;
	return 0;
}

static void
put_standin(uint8_t *p, uint32_t idx)
{
	uint32_t v = V6MAP_PREFIX | idx;

	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
v6map_lookup(const struct v6map *m, const uint8_t v4[4], uint8_t v6[16])
{
	uint32_t v = (uint32_t)v4[0] << 24 | (uint32_t)v4[1] << 16 |
	    (uint32_t)v4[2] << 8 | v4[3];

	if ((v & 0xf0000000u) != V6MAP_PREFIX || (v & ~0xf0000000u) >= m->n)
		return 0;
	memcpy(v6, m->addr[v & ~0xf0000000u], 16);
	return 1;
}

void
v6map_free(struct v6map *m)
{
	free(m->addr);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

/* What follows the IPv6 header: TCP, perhaps fragmented. */
struct v6_upper {
	size_t	 off;  /* where the TCP bytes (or fragment data) start */
	int	 frag; /* a fragment header was crossed */
	uint16_t foff; /* fragment offset, 8-byte units */
	int	 more; /* M flag */
	uint32_t id;   /* identification */
};

/*
 * Walks the extension headers (RFC 8200 4): hop-by-hop, routing,
 * destination options, AH, fragment.  Returns the upper protocol, or -1
 * when the headers are cut.  The walk stops at a fragment header: what
 * follows it is fragment data.
 */
static int
v6_walk(const uint8_t *p, size_t n, struct v6_upper *u)
{
	int    nh = p[6];
	size_t o = 40;

	memset(u, 0, sizeof(*u));
	for (;;) {
		if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
			if (n < o + 2)
				return -1;
			nh = p[o];
			o += nh == 51 ? ((size_t)p[o + 1] + 2) * 4 :
					((size_t)p[o + 1] + 1) * 8;
			continue;
		}
		if (nh == 44) {
			if (n < o + 8)
				return -1;
			nh = p[o];
			u->frag = 1;
			u->foff = (uint16_t)((p[o + 2] << 8 | p[o + 3]) >> 3);
			u->more = p[o + 3] & 0x01;
			u->id = (uint32_t)p[o + 4] << 24 |
			    (uint32_t)p[o + 5] << 16 | (uint32_t)p[o + 6] << 8 |
			    p[o + 7];
			/* What follows is fragment data: TCP is supported
			 * right after the fragment header only. */
			u->off = o + 8;
			return nh;
		}
		if (n < o)
			return -1;
		u->off = o;
		return nh;
	}
}

/*
 * Rewrites an IPv6 TCP packet (or fragment of one) as IPv4 with stand-in
 * addresses into out.  The IPv4 identification is the low 16 bits of the
 * IPv6 one folded with the high 16: enough to keep fragments of different
 * packets between the same hosts apart.
 */
enum v6_result
v6map_packet(struct v6map *m, const uint8_t *p, size_t n, uint8_t *out,
    size_t cap, size_t *outlen)
{
	struct v6_upper u;
	uint32_t	si, di;
	size_t		plen, end, data;
	int		proto;

	if (n < 40 || (p[0] >> 4) != 6)
		return V6_MALFORMED;
	plen = (size_t)(p[4] << 8 | p[5]);
	end = 40 + plen;
	if (plen == 0 || end > n) /* jumbograms; or cut by the snap length */
		end = n;
	if ((proto = v6_walk(p, end, &u)) < 0)
		return V6_MALFORMED;
	if (proto != 6)
		return V6_NOT_TCP;
	data = end - u.off;
	if (20 + data > 65535 || 20 + data > cap)
		return V6_MALFORMED;
	if (v6map_index(m, p + 8, &si) != 0 || v6map_index(m, p + 24, &di) != 0)
		return V6_FULL;
	memset(out, 0, 20);
	out[0] = 0x45;
	out[1] = (uint8_t)((p[0] << 4) | (p[1] >> 4)); /* traffic class */
	out[2] = (uint8_t)((20 + data) >> 8);
	out[3] = (uint8_t)(20 + data);
	if (u.frag) {
		uint16_t id = (uint16_t)(u.id ^ (u.id >> 16));
		uint16_t fl = (uint16_t)((u.more ? 0x2000 : 0) | u.foff);

		out[4] = (uint8_t)(id >> 8);
		out[5] = (uint8_t)id;
		out[6] = (uint8_t)(fl >> 8);
		out[7] = (uint8_t)fl;
	}
	out[8] = p[7]; /* hop limit */
	out[9] = 6;
	put_standin(out + 12, si);
	put_standin(out + 16, di);
	{
		uint16_t c = ipv4_checksum(out, 20);
		out[10] = (uint8_t)(c >> 8);
		out[11] = (uint8_t)c;
	}
	memcpy(out + 20, p + u.off, data);
	*outlen = 20 + data;
	return V6_OK;
}
