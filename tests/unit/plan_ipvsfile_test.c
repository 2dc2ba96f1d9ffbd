/*
 * Unit tests for planner/plan_ipvsfile.c: what ipvsadm -Sn prints parses
 * and renders back identically; hostile text is refused with its line.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/plan_ipvsfile.h"
#include "planner/plan_render.h"
#include "tests/tap.h"

static char *
render(const struct plan_ipvs_table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	plan_render_ipvs(f, t);
	fclose(f);
	return buf;
}

static void
test_roundtrip(void)
{
	static const char text[] =
	    "-A -u 10.0.0.1:53 -s wlc -p 3600\n"
	    "-A -t 10.0.0.1:80 -s rr\n"
	    "-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 1\n"
	    "-a -t 10.0.0.1:80 -r 10.1.0.2:8080 -g -w 0 -x 10 -y 5\n"
	    "-A -t 10.0.0.2:80 -s rr -p 60 -M 255.255.255.0\n"
	    "-A --sctp-service 10.0.0.3:3868 -s mh -b mh-fallback,mh-port\n"
	    "-A -f 7 -s rr\n"
	    "-a -f 7 -r 10.1.0.9:0 -i -w 2\n"
	    "-A -t [2001:db8::1]:443 -s sh -p 10 -M 64 -b sh-port\n"
	    "-a -t [2001:db8::1]:443 -r [fd00::1]:443 -m -w 1\n"
	    "-A -f 9 -6 -s rr -p 300 -M 96\n";
	struct plan_ipvs_table t;
	const char *text2;
	char why[128], *out;

	ok(plan_ipvsfile_parse(text, strlen(text), &t, why, sizeof(why)) == 0,
	    "parses ipvsadm -Sn (%s)", why);
	is(t.n, 7, "seven services");
	out = render(&t);
	/* The fwmark RS port 0 renders as the service's port (0). */
	is_str(out, text, "renders back identically");
	free(out);
	plan_ipvs_table_clear(&t);

	ok(plan_ipvsfile_parse("", 0, &t, why, sizeof(why)) == 0 && t.n == 0,
	    "empty text is an empty table");
	text2 = "# c\n\n  \n-A -t 1.2.3.4:1 -s rr";
	ok(plan_ipvsfile_parse(text2, strlen(text2), &t, why,
	    sizeof(why)) == 0 && t.n == 1,
	    "comments, blanks, no final newline");
	plan_ipvs_table_clear(&t);
	ok(plan_ipvsfile_parse("-A -t 1.2.3.4:1\r\n", 17, &t, why,
	    sizeof(why)) == 0 && strcmp(t.vs[0].sched, "wlc") == 0,
	    "CRLF, default scheduler wlc");
	plan_ipvs_table_clear(&t);
	text2 = "--add-service --tcp-service 1.2.3.4:1 --scheduler rr\n"
	    "--add-server --tcp-service 1.2.3.4:1 --real-server 5.6.7.8 "
	    "--masquerading --weight 3\n";
	ok(plan_ipvsfile_parse(text2, strlen(text2), &t, why,
	    sizeof(why)) == 0 && t.n == 1 && t.vs[0].n_rs == 1 &&
	    t.vs[0].rs[0].port == 1 && t.vs[0].rs[0].weight == 3,
	    "long options; RS port defaults to the VS port (%s)", why);
	plan_ipvs_table_clear(&t);
}

static void
test_hostile(void)
{
	static const struct {
		const char *text, *why;
	} t[] = {
		{ "-A -t 010.0.0.1:80 -s rr\n", "bad service address" },
		{ "-A -t 10.0.0.1:080 -s rr\n", "bad service address" },
		{ "-A -t 10.0.0.1:65536 -s rr\n", "bad service address" },
		{ "-A -t 10.0.0.1 -s rr\n", "bad service address" },
		{ "-A -t [2001:db8::1:80 -s rr\n", "bad service address" },
		{ "-A -t 2001:db8::1:80 -s rr\n", "bad service address" },
		{ "-A -t 10.0.0.1:80 -s RR\n", "scheduler" },
		{ "-A -t 10.0.0.1:80 -s averyveryverylongname\n", "scheduler" },
		{ "-A -t 10.0.0.1:80 -s rr -p 0\n", "timeout" },
		{ "-A -t 10.0.0.1:80 -s rr -b nope\n", "flags" },
		{ "-A -t 10.0.0.1:80 -s rr --bogus x\n", "unknown option" },
		{ "-A -t 10.0.0.1:80 -s\n", "without a value" },
		{ "-A -x 10.0.0.1:80\n", "expected -t" },
		{ "-a -t 10.0.0.1:80 -r 10.1.1.1:80 -m -w 1\n", "not under" },
		{ "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -m -w 1\n",
		  "without -r" },
		{ "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.1.1 "
		  "-w 70000\n", "weight" },
		{ "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.1.1 "
		  "-w -1\n", "weight" },
		{ "-A -t 10.0.0.1:80 -s rr\n"
		  "-a -t 10.0.0.1:80 -r [fd00::1]:80\n", "another family" },
		{ "-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.1:80 -s rr\n",
		  "duplicate virtual server" },
		{ "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.1.1:1\n"
		  "-a -t 10.0.0.1:80 -r 10.1.1.1:1\n",
		  "duplicate real server" },
		{ "-A -f 0 -s rr\n", "firewall mark" },
		{ "hello\n", "expected -A or -a" },
		{ "-A -t 1.2.3.4:1 -s rr -6\n", "-6 on an address" },
		/* Found by make fuzz-long: a dotted mask read as a number. */
		{ "-A -f 8 -6 -p -M 220.96.0.1\n", "bad netmask" },
		{ "-A -f 8 -p -M 255.255.255.0 -6\n", "bad netmask" },
		{ "-A -t [2001:db8::1]:80 -p -M 129\n", "bad netmask" },
	};
	struct plan_ipvs_table tab;
	char why[128], *big;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		why[0] = '\0';
		ok(plan_ipvsfile_parse(t[i].text, strlen(t[i].text), &tab, why,
		    sizeof(why)) == -1 && strstr(why, t[i].why) != NULL &&
		    tab.n == 0, "refused: %s", why);
	}
	ok(plan_ipvsfile_parse("-A -t 1.2.3.4:1 -s rr\0x\n", 24, &tab, why,
	    sizeof(why)) == -1 && strstr(why, "NUL") != NULL, "NUL byte: %s",
	    why);
	big = malloc(5000);
	memset(big, 'x', 5000);
	ok(plan_ipvsfile_parse(big, 5000, &tab, why, sizeof(why)) == -1 &&
	    strstr(why, "too long") != NULL, "long line: %s", why);
	memcpy(big, "-A -t 1.2.3.4:1", 15);
	for (i = 15; i + 3 < 900; i += 3)
		memcpy(big + i, " -p", 3);
	big[i] = '\n';
	ok(plan_ipvsfile_parse(big, i + 1, &tab, why, sizeof(why)) == -1 &&
	    strstr(why, "too many words") != NULL, "many words: %s", why);
	free(big);
	ok(plan_ipvsfile_parse("-A -t 1.2.3.4:1 -s rr\nbad\n", 26, &tab, why,
	    sizeof(why)) == -1 && strncmp(why, "line 2:", 7) == 0,
	    "error names the line: %s", why);
}

int
main(void)
{
	test_roundtrip();
	test_hostile();
	return done();
}
