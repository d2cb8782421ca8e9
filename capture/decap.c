/* \summary: link layers and encapsulations down to the innermost IP packet */
/*
 * Every header is checked against the bytes captured before it is read;
 * a frame too short for what it announces is DECAP_SHORT, never a read
 * past the end.  Nesting is bounded (DECAP_DEPTH_MAX): a hostile frame of
 * GRE in GRE in GRE costs a few comparisons, not a stack.
 */
#include <pcap/dlt.h>
#include <string.h>

#include "capture/decap.h"
#include "capture/wire.h"

#define ETH_IPV4     0x0800
#define ETH_IPV6     0x86dd
#define ETH_VLAN     0x8100
#define ETH_QINQ     0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS     0x8847
#define ETH_MPLS_MC  0x8848
#define ETH_PPPOE    0x8864
#define ETH_TEB	     0x6558 /* GRE: transparent Ethernet bridging */
#define ETH_ERSPAN2  0x88be
#define ETH_ERSPAN3  0x22eb

#define IPP_IPIP 4
#define IPP_TCP	 6
#define IPP_UDP	 17
#define IPP_IPV6 41
#define IPP_GRE	 47

#define VXLAN_PORT 4789

static enum decap_result decap_ether(const uint8_t *, size_t, int,
    struct decap *);
static enum decap_result decap_ip(const uint8_t *, size_t, int, struct decap *);

/* An IP packet whose version nibble says which. */
static enum decap_result
decap_ip_guess(const uint8_t *p, size_t n, int depth, struct decap *out)
{
	if (n < 1)
		return DECAP_SHORT;
	if ((p[0] >> 4) == 4 || (p[0] >> 4) == 6)
		return decap_ip(p, n, depth, out);
	return DECAP_NOT_IP;
}

/* MPLS (RFC 3032): labels until the bottom-of-stack bit, then IP. */
static enum decap_result
decap_mpls(const uint8_t *p, size_t n, int depth, struct decap *out)
{
	size_t off = 0;

	for (;;) {
		if (n < off + 4)
			return DECAP_SHORT;
		off += 4;
		if (p[off - 2] & 0x01)
			break;
	}
	/* RFC 4385 pseudowire control word (first nibble 0) then Ethernet */
	if (n > off && (p[off] >> 4) == 0 && n >= off + 4 + 14)
		return decap_ether(p + off + 4, n - off - 4, depth + 1, out);
	return decap_ip_guess(p + off, n - off, depth, out);
}

/* PPP protocol numbers for IP (RFC 1332, RFC 5072). */
static enum decap_result
decap_ppp_proto(uint16_t proto, const uint8_t *p, size_t n, int depth,
    struct decap *out)
{
	if (proto == 0x0021 || proto == 0x0057)
		return decap_ip(p, n, depth, out);
	return DECAP_NOT_IP;
}

/* What follows an EtherType (Ethernet, SLL, GRE). */
static enum decap_result
decap_ethertype(uint16_t type, const uint8_t *p, size_t n, int depth,
    struct decap *out)
{
	if (depth > DECAP_DEPTH_MAX)
		return DECAP_NOT_IP;
	switch (type) {
	case ETH_IPV4:
	case ETH_IPV6:
		return decap_ip(p, n, depth, out);
	case ETH_VLAN:
	case ETH_QINQ:
	case ETH_QINQ_OLD:
		if (n < 4)
			return DECAP_SHORT;
		return decap_ethertype(be16(p + 2), p + 4, n - 4, depth + 1,
		    out);
	case ETH_MPLS:
	case ETH_MPLS_MC:
		return decap_mpls(p, n, depth + 1, out);
	case ETH_PPPOE: /* RFC 2516: 6-byte header, then PPP protocol */
		if (n < 8)
			return DECAP_SHORT;
		return decap_ppp_proto(be16(p + 6), p + 8, n - 8, depth + 1,
		    out);
	case ETH_TEB:
		return decap_ether(p, n, depth + 1, out);
	default:
		return DECAP_NOT_IP;
	}
}

static enum decap_result
decap_ether(const uint8_t *p, size_t n, int depth, struct decap *out)
{
	if (n < 14)
		return DECAP_SHORT;
	return decap_ethertype(be16(p + 12), p + 14, n - 14, depth, out);
}

/*
 * GRE (RFC 2784, 2890) and the ERSPAN sessions it carries: type II
 * (8-byte header, sequenced GRE) and type III (12 bytes, and 8 more when
 * the platform-specific subheader flag is set).
 */
static enum decap_result
decap_gre(const uint8_t *p, size_t n, int depth, struct decap *out)
{
	size_t	 off = 4;
	uint16_t flags, proto;

	if (n < 4)
		return DECAP_SHORT;
	flags = be16(p);
	proto = be16(p + 2);
	if ((flags & 0x0007) != 0) /* version 0 only (1 is PPTP) */
		return DECAP_NOT_IP;
	off += (flags & 0x8000) ? 4 : 0; /* checksum + reserved */
	off += (flags & 0x2000) ? 4 : 0; /* key */
	off += (flags & 0x1000) ? 4 : 0; /* sequence number */
	if (n < off)
		return DECAP_SHORT;
	p += off;
	n -= off;
	if (proto == ETH_ERSPAN2) {
		if (n < 8)
			return DECAP_SHORT;
		return decap_ether(p + 8, n - 8, depth + 1, out);
	}
	if (proto == ETH_ERSPAN3) {
		size_t h = 12;
		if (n < h)
			return DECAP_SHORT;
		if (p[11] & 0x01) /* O: optional platform subheader */
			h += 8;
		if (n < h)
			return DECAP_SHORT;
		return decap_ether(p + h, n - h, depth + 1, out);
	}
	return decap_ethertype(proto, p, n, depth + 1, out);
}

/* A tunnel carried by IP protocol proto, its payload at p. */
static enum decap_result
decap_tunnel(int proto, const uint8_t *p, size_t n, int depth,
    struct decap *out)
{
	switch (proto) {
	case IPP_IPIP:
	case IPP_IPV6:
		out->tunnels++;
		return decap_ip_guess(p, n, depth + 1, out);
	case IPP_GRE:
		out->tunnels++;
		return decap_gre(p, n, depth + 1, out);
	case IPP_UDP: /* VXLAN (RFC 7348): 8-byte header, then Ethernet */
		if (n < 8 || be16(p + 2) != VXLAN_PORT)
			return DECAP_NOT_IP;
		if (n < 16)
			return DECAP_SHORT;
		out->tunnels++;
		return decap_ether(p + 16, n - 16, depth + 1, out);
	default:
		return DECAP_NOT_IP;
	}
}

static int
is_tunnel_proto(int proto)
{
	return proto == IPP_IPIP || proto == IPP_IPV6 || proto == IPP_GRE ||
	    proto == IPP_UDP;
}

/* The upper-layer protocol of an IPv6 packet past its extension headers
 * (RFC 8200 4), and where it starts; -1 when it is a fragment or cut. */
static int
ipv6_upper(const uint8_t *p, size_t n, size_t *off)
{
	int    nh = p[6];
	size_t o = 40;

	for (;;) {
		switch (nh) {
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (n < o + 2)
				return -1;
			nh = p[o];
			o += ((size_t)p[o + 1] + 1) * 8;
			break;
		case 51: /* AH (RFC 4302): length in 4-byte units, less 2 */
			if (n < o + 2)
				return -1;
			nh = p[o];
			o += ((size_t)p[o + 1] + 2) * 4;
			break;
		case 44: /* fragment: tunnels are not followed into them */
			return -1;
		default:
			if (n < o)
				return -1;
			*off = o;
			return nh;
		}
	}
}

/*
 * An IP packet: returned as is unless it carries a tunnel, which is then
 * followed.  Outer fragments are not followed (the tunnel payload would be
 * cut); inner ones are returned for the capture layer to reassemble.
 */
static enum decap_result
decap_ip(const uint8_t *p, size_t n, int depth, struct decap *out)
{
	size_t hlen;
	int    proto;

	if (depth > DECAP_DEPTH_MAX)
		return DECAP_NOT_IP;
	if (n < 1)
		return DECAP_SHORT;
	if ((p[0] >> 4) == 4) {
		if (n < 20)
			return DECAP_SHORT;
		hlen = (size_t)(p[0] & 0x0f) * 4;
		if (hlen < 20 || n < hlen)
			return DECAP_SHORT;
		proto = p[9];
		if (is_tunnel_proto(proto) && !ipv4_fragment(p)) {
			enum decap_result r =
			    decap_tunnel(proto, p + hlen, n - hlen, depth, out);
			if (r != DECAP_NOT_IP || proto != IPP_UDP)
				return r;
		}
		out->version = 4;
	} else if ((p[0] >> 4) == 6) {
		if (n < 40)
			return DECAP_SHORT;
		proto = ipv6_upper(p, n, &hlen);
		if (proto >= 0 && is_tunnel_proto(proto)) {
			enum decap_result r =
			    decap_tunnel(proto, p + hlen, n - hlen, depth, out);
			if (r != DECAP_NOT_IP || proto != IPP_UDP)
				return r;
		}
		out->version = 6;
	} else
		return DECAP_NOT_IP;
	out->ip = p;
	out->len = n;
	return DECAP_IP;
}

/* BSD loopback: the address family in host order of the capturing host. */
static int
null_family_is(const uint8_t *p, const int *fams, size_t nfams)
{
	uint32_t le = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	uint32_t be = (uint32_t)p[3] | (uint32_t)p[2] << 8 |
	    (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;

	for (size_t i = 0; i < nfams; i++)
		if (le == (uint32_t)fams[i] || be == (uint32_t)fams[i])
			return 1;
	return 0;
}

static enum decap_result
decap_null(const uint8_t *p, size_t n, struct decap *out)
{
	/* AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD,
	 * OpenBSD), 28 (FreeBSD), 30 (Darwin). */
	static const int inet[] = { 2 }, inet6[] = { 10, 24, 28, 30 };

	if (n < 4)
		return DECAP_SHORT;
	if (null_family_is(p, inet, 1) || null_family_is(p, inet6, 4))
		return decap_ip_guess(p + 4, n - 4, 0, out);
	return DECAP_NOT_IP;
}

enum decap_result
decap_frame(int dlt, const uint8_t *p, size_t n, struct decap *out)
{
	memset(out, 0, sizeof(*out));
	switch (dlt) {
	case DLT_EN10MB:
		return decap_ether(p, n, 0, out);
	case DLT_NULL:
	case DLT_LOOP:
		return decap_null(p, n, out);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return decap_ip_guess(p, n, 0, out);
	case DLT_LINUX_SLL: /* 16 bytes, protocol last */
		if (n < 16)
			return DECAP_SHORT;
		return decap_ethertype(be16(p + 14), p + 16, n - 16, 0, out);
	case DLT_LINUX_SLL2: /* 20 bytes, protocol first */
		if (n < 20)
			return DECAP_SHORT;
		return decap_ethertype(be16(p), p + 20, n - 20, 0, out);
	case DLT_PPP: /* RFC 1662: address and control bytes may be absent */
		if (n >= 2 && p[0] == 0xff && p[1] == 0x03) {
			p += 2;
			n -= 2;
		}
		if (n < 2)
			return DECAP_SHORT;
		return decap_ppp_proto(be16(p), p + 2, n - 2, 0, out);
	default:
		return DECAP_NOT_IP;
	}
}

int
decap_link_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_NULL || dlt == DLT_LOOP ||
	    dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6 ||
	    dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 || dlt == DLT_PPP;
}
