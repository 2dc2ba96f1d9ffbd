/*
 * Releasing the arrays a watcher->planner record owns.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>

#include "ipc/records.h"

void
rec_service_clear(struct rec_service *s)
{
	free(s->ports);
	free(s->external_ips);
	free(s->lb_ingress);
	free(s->source_ranges);
	s->ports = NULL;
	s->external_ips = NULL;
	s->lb_ingress = NULL;
	s->source_ranges = NULL;
	s->n_ports = 0;
	s->n_external_ips = 0;
	s->n_lb_ingress = 0;
	s->n_source_ranges = 0;
}

void
rec_slice_clear(struct rec_slice *s)
{
	free(s->ports);
	free(s->endpoints);
	s->ports = NULL;
	s->endpoints = NULL;
	s->n_ports = 0;
	s->n_endpoints = 0;
}
