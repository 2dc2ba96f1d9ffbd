/*
 * kipvs-watcherd: main.  The process body lands with its own issue; this
 * answers --version so packaging and install can be tested.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "common/log.h"

int
main(int argc, char *argv[])
{
	log_init("kipvs-watcherd", LOG_LEVEL_INFO, 0);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("kipvs-watcherd %s\n", KIPVS_VERSION);
		return 0;
	}
	fatalx("not implemented yet");
}
