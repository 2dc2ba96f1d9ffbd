/*
 * applier_nlbatch_tool: drives applier_nl_batch() from the netns tests
 * with hand-built rtnetlink address requests (a namespace has lo, no
 * dummy links), so the fence logic is tested against a real kernel.
 *
 *	applier_nlbatch_tool [-x] ADDR[@IFINDEX]...
 *
 * Adds each IPv4 ADDR/32 to link IFINDEX (default 1, lo), every request in
 * one datagram.  -x sends on a closed descriptor (a transport failure).
 * Prints "rc R errno E", then "err I N" per request and "ack I F" (1 when
 * request I asked for an acknowledgement), then "queued N": datagrams
 * left unread on the socket afterwards.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "applierd/applier_nl.h"

#define REQ_SIZE NLMSG_ALIGN(NLMSG_LENGTH(sizeof(struct ifaddrmsg)) + \
	2 * RTA_SPACE(4))

static void
put_attr(struct nlmsghdr *nlh, unsigned short type, const void *v, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh +
	    NLMSG_ALIGN(nlh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), v, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

int
main(int argc, char *argv[])
{
	static uint8_t rbuf[65536];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct in_addr a;
	uint8_t *buf;
	size_t n, i, off = 0;
	int *err, fd, rc, e, first = 1, bad = 0, queued = 0;
	char *at;

	if (argc > 1 && strcmp(argv[1], "-x") == 0) {
		bad = 1;
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: applier_nlbatch_tool [-x] ADDR[@IFINDEX]...\n");
		return 2;
	}
	n = (size_t)argc - 1;
	if ((buf = calloc(n, REQ_SIZE)) == NULL ||
	    (err = calloc(n, sizeof(*err))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		nlh = (struct nlmsghdr *)(buf + off);
		nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
		nlh->nlmsg_type = RTM_NEWADDR;
		/* The caller's flags: applier_nl_batch() sets the ACKs. */
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
		    NLM_F_EXCL;
		nlh->nlmsg_seq = (uint32_t)(first + (int)i);
		ifa = NLMSG_DATA(nlh);
		ifa->ifa_family = AF_INET;
		ifa->ifa_prefixlen = 32;
		ifa->ifa_index = 1;
		if ((at = strchr(argv[i + 1], '@')) != NULL) {
			*at = '\0';
			ifa->ifa_index = (unsigned)atoi(at + 1);
		}
		if (inet_pton(AF_INET, argv[i + 1], &a) != 1) {
			fprintf(stderr, "bad address %s\n", argv[i + 1]);
			return 2;
		}
		put_attr(nlh, IFA_LOCAL, &a, 4);
		put_attr(nlh, IFA_ADDRESS, &a, 4);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) < 0) {
		perror("socket");
		return 1;
	}
	if (bad)
		close(fd);
	rc = applier_nl_batch(fd, buf, off, n, (uint32_t)first, err, rbuf,
	    sizeof(rbuf), 2000);
	e = rc < 0 ? errno : 0;
	printf("rc %d errno %d\n", rc, e);
	for (i = 0; i < n; i++)
		printf("err %zu %d\n", i, err[i]);
	for (i = 0, off = 0; i < n; i++) {
		nlh = (struct nlmsghdr *)(buf + off);
		printf("ack %zu %d\n", i, (nlh->nlmsg_flags & NLM_F_ACK) != 0);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	if (!bad)
		while (recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT) >= 0)
			queued++;
	printf("queued %d\n", queued);
	free(buf);
	free(err);
	return 0;
}
