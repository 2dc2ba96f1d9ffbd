/*
 * kipvs: the parent process and the command-line entry point.
 *
 * The parent forks and execs the three daemons, wires them with
 * socketpairs and restarts them; it parses nothing from the network or
 * from a child.  The daemon wiring lands with the ipc and supervisor work;
 * until then this answers --version and --help only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "common/log.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: kipvs [--version] [--help]\n"
	    "daemons are looked up in %s\n", KIPVS_LIBEXECDIR);
}

int
main(int argc, char *argv[])
{
	log_init("kipvs", LOG_LEVEL_INFO, 0);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("kipvs %s\n", KIPVS_VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	fatalx("the daemon is not implemented yet");
}
