/*
 * decap.h - finds the IP packet a captured frame carries, through link
 * layers and the encapsulations span ports and tunnels add.
 *
 * Followed: Ethernet with 802.1Q/802.1ad/QinQ tags, MPLS label stacks,
 * PPPoE sessions, Linux cooked capture v1 and v2, BSD loopback/NULL, raw
 * IP; inside IP: IP-in-IP (IPv4 and IPv6 either way), GRE (IP, transparent
 * Ethernet bridging, ERSPAN type II and III) and VXLAN on UDP 4789.  The
 * innermost IP packet is the one returned.  No libpcap: the link type is a
 * plain DLT number, so the unit tests can feed frames as byte strings.
 */
#ifndef MAILSIFT_DECAP_H
#define MAILSIFT_DECAP_H

#include <stddef.h>
#include <stdint.h>

#define DECAP_DEPTH_MAX 8 /* nested encapsulations followed */

struct decap {
	const uint8_t *ip;	/* the IPv4 or IPv6 header */
	size_t	       len;	/* bytes from there to the end of the frame */
	int	       version; /* 4 or 6 */
	int	       tunnels; /* encapsulations crossed inside IP */
};

enum decap_result {
	DECAP_IP = 1,	  /* out is set */
	DECAP_NOT_IP = 0, /* a frame without IP (ARP, STP, ...) */
	DECAP_SHORT = -1  /* too short for a header it announces */
};

enum decap_result decap_frame(int dlt, const uint8_t *p, size_t n,
    struct decap *out);
int		  decap_link_supported(int dlt);

#endif
