/*
 * yaml_flat: YAML for shell tests, with libyaml (no python3-yaml needed).
 * For tests/build/deploy.t.
 *
 *	yaml_flat FILE			every scalar of every document, one
 *					per line: DOC<TAB>PATH<TAB>VALUE
 *	yaml_flat -g DOC PATH FILE	the raw scalar at PATH of document
 *					DOC (exit 1 if there is none)
 *	yaml_flat -k FILE		load FILE as a KubeProxyConfiguration
 *					with kpconf_file_load() and print the
 *					flags it amounts to, one per line;
 *					warnings on stderr, exit 1 on error
 *
 * PATH joins mapping keys with '.' and sequence indices as [N]:
 * spec.template.spec.containers[0].name.  In the listing, newlines and
 * tabs in values are printed as \n and \t.  A YAML syntax error exits 1
 * with the libyaml message and line.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/kpconf.h"
#include "common/kpconf_file.h"

#define MAX_DEPTH	64

static int
flat_node(yaml_document_t *d, yaml_node_t *n, int doc, char *path,
    size_t len, size_t cap, const char *want, int depth)
{
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	const unsigned char *v;
	int found = 0, w;

	if (n == NULL || depth > MAX_DEPTH)
		return 0;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (want != NULL) {
			if (strcmp(path, want) != 0)
				return 0;
			fwrite(n->data.scalar.value, 1, n->data.scalar.length,
			    stdout);
			return 1;
		}
		printf("%d\t%s\t", doc, path);
		for (v = n->data.scalar.value; *v != '\0'; v++) {
			if (*v == '\n')
				fputs("\\n", stdout);
			else if (*v == '\t')
				fputs("\\t", stdout);
			else
				putchar(*v);
		}
		putchar('\n');
		return 1;
	case YAML_MAPPING_NODE:
		for (p = n->data.mapping.pairs.start;
		    p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(d, p->key);

			if (k == NULL || k->type != YAML_SCALAR_NODE)
				continue;
			w = snprintf(path + len, cap - len, "%s%s",
			    len > 0 ? "." : "", (char *)k->data.scalar.value);
			if (w < 0 || (size_t)w >= cap - len)
				continue;
			found |= flat_node(d, yaml_document_get_node(d,
			    p->value), doc, path, len + (size_t)w, cap, want,
			    depth + 1);
			path[len] = '\0';
		}
		return found;
	case YAML_SEQUENCE_NODE:
		for (it = n->data.sequence.items.start;
		    it < n->data.sequence.items.top; it++) {
			w = snprintf(path + len, cap - len, "[%d]",
			    (int)(it - n->data.sequence.items.start));
			if (w < 0 || (size_t)w >= cap - len)
				continue;
			found |= flat_node(d, yaml_document_get_node(d, *it),
			    doc, path, len + (size_t)w, cap, want, depth + 1);
			path[len] = '\0';
		}
		return found;
	case YAML_NO_NODE:
		break;
	}
	return 0;
}

static int
flat_file(const char *file, int want_doc, const char *want)
{
	yaml_parser_t parser;
	yaml_document_t d;
	FILE *f;
	char path[1024];
	int doc = 0, found = 0, rv = 0;

	if ((f = fopen(file, "r")) == NULL) {
		perror(file);
		return 1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &d)) {
			fprintf(stderr, "%s:%zu: %s\n", file,
			    parser.problem_mark.line + 1,
			    parser.problem ? parser.problem : "YAML error");
			rv = 1;
			break;
		}
		if ((root = yaml_document_get_root_node(&d)) == NULL) {
			yaml_document_delete(&d);
			break;
		}
		path[0] = '\0';
		if (want == NULL || doc == want_doc)
			found |= flat_node(&d, root, doc, path, 0, sizeof(path),
			    want, 0);
		yaml_document_delete(&d);
		doc++;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	if (rv == 0 && want != NULL && !found)
		rv = 1;
	return rv;
}

static void
warn_stderr(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "warning: %s\n", msg);
}

static int
kpconf_file(const char *file)
{
	struct kp_config c;
	char err[512], **args;
	int n, i;

	kpconf_defaults(&c);
	if (kpconf_file_load(&c, file, warn_stderr, NULL, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if ((args = kpconf_to_args(&c, &n)) == NULL) {
		perror("kpconf_to_args");
		return 1;
	}
	for (i = 0; i < n; i++)
		printf("%s\n", args[i]);
	kpconf_args_free(args);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 2)
		return flat_file(argv[1], 0, NULL);
	if (argc == 5 && strcmp(argv[1], "-g") == 0)
		return flat_file(argv[4], atoi(argv[2]), argv[3]);
	if (argc == 3 && strcmp(argv[1], "-k") == 0)
		return kpconf_file(argv[2]);
	fprintf(stderr, "usage: yaml_flat FILE | -g DOC PATH FILE | "
	    "-k FILE\n");
	return 2;
}
