/*
 * kubeconfig, --master and in-cluster configuration: see
 * watch_kubeconfig.h.  The YAML is loaded into a libyaml document tree and
 * walked; base64 fields are decoded with OpenSSL's EVP_DecodeBlock.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "common/log.h"
#include "watcherd/watch_kubeconfig.h"

struct kc_ctx {
	yaml_document_t	 doc;
	char		*dir;		/* relative paths start here */
	char		*err;
	size_t		 errlen;
};

struct watch_conn *
watch_conn_new(void)
{
	return calloc(1, sizeof(struct watch_conn));
}

static void
watch_conn_clear(struct watch_conn *c)
{
	free(c->server);
	free(c->ca_file);
	free(c->ca_pem.data);
	free(c->tls_server_name);
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->token_file);
	free(c->cert_file);
	free(c->cert_pem.data);
	free(c->key_file);
	if (c->key_pem.data != NULL) {
		explicit_bzero(c->key_pem.data, c->key_pem.len);
		free(c->key_pem.data);
	}
	free(c->context);
	memset(c, 0, sizeof(*c));
}

void
watch_conn_free(struct watch_conn *c)
{
	if (c == NULL)
		return;
	watch_conn_clear(c);
	free(c);
}

/* Reads a whole (small) file; the result is NUL-terminated. */
static int
kc_read_file(const char *path, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > WATCH_CONF_FILE_MAX) {
		errfmt(err, errlen, "%s: not a regular file of at most %d "
		    "bytes", path, WATCH_CONF_FILE_MAX);
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			errfmt(err, errlen, "%s: short read", path);
			goto fail;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

int
watch_base64_decode(const char *in, size_t inlen, struct watch_blob *blob)
{
	unsigned char *clean = NULL, *out = NULL;
	size_t i, n = 0, pad = 0;
	int dec;

	blob->data = NULL;
	blob->len = 0;
	if (inlen > WATCH_CONF_FILE_MAX * 2)
		goto fail;
	if ((clean = malloc(inlen + 1)) == NULL)
		goto fail;
	for (i = 0; i < inlen; i++) {
		if (in[i] == ' ' || in[i] == '\n' || in[i] == '\r' ||
		    in[i] == '\t')
			continue;
		clean[n++] = (unsigned char)in[i];
	}
	if (n == 0 || n % 4 != 0)
		goto fail;
	if (clean[n - 1] == '=')
		pad++;
	if (clean[n - 2] == '=')
		pad++;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		goto fail;
	/* EVP_DecodeBlock rejects characters outside the alphabet. */
	if ((dec = EVP_DecodeBlock(out, clean, (int)n)) < 0 ||
	    (size_t)dec < pad)
		goto fail;
	/* '=' anywhere but the last two positions is not padding. */
	if (memchr(clean, '=', n - pad) != NULL)
		goto fail;
	out[dec - pad] = '\0';
	blob->data = (char *)out;
	blob->len = (size_t)dec - pad;
	free(clean);
	return 0;
fail:
	free(clean);
	free(out);
	errno = EINVAL;
	return -1;
}

static yaml_node_t *
kc_map_get(struct kc_ctx *kc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	yaml_node_t *k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(&kc->doc, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(&kc->doc, p->value);
	}
	return NULL;
}

/* A scalar's text; NULL (and a message) if the node is not a scalar. */
static const char *
kc_scalar(struct kc_ctx *kc, yaml_node_t *n, const char *what)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE) {
		errfmt(kc->err, kc->errlen, "%s: expected a string", what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* An optional string field: 0 and *out NULL when absent or empty. */
static int
kc_opt_str(struct kc_ctx *kc, yaml_node_t *map, const char *key,
    const char *what, char **out)
{
	yaml_node_t *n;
	const char *s;

	*out = NULL;
	if ((n = kc_map_get(kc, map, key)) == NULL)
		return 0;
	/* A YAML null ("key:" or "key: null") counts as absent. */
	if (n->type == YAML_SCALAR_NODE && (n->data.scalar.length == 0 ||
	    (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (strcmp((char *)n->data.scalar.value, "null") == 0 ||
	    strcmp((char *)n->data.scalar.value, "~") == 0))))
		return 0;
	if ((s = kc_scalar(kc, n, what)) == NULL)
		return -1;
	if ((*out = strdup(s)) == NULL) {
		errfmt(kc->err, kc->errlen, "%s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A path from the kubeconfig, made absolute against its directory. */
static int
kc_opt_path(struct kc_ctx *kc, yaml_node_t *map, const char *key,
    const char *what, char **out)
{
	char *p, *abs;

	if (kc_opt_str(kc, map, key, what, &p) == -1)
		return -1;
	if (p == NULL || p[0] == '/' || kc->dir == NULL) {
		*out = p;
		return 0;
	}
	if (asprintf(&abs, "%s/%s", kc->dir, p) == -1) {
		free(p);
		errfmt(kc->err, kc->errlen, "%s", strerror(errno));
		return -1;
	}
	free(p);
	*out = abs;
	return 0;
}

static int
kc_opt_data(struct kc_ctx *kc, yaml_node_t *map, const char *key,
    const char *what, struct watch_blob *blob)
{
	char *s;
	int rc;

	if (kc_opt_str(kc, map, key, what, &s) == -1)
		return -1;
	if (s == NULL)
		return 0;
	rc = watch_base64_decode(s, strlen(s), blob);
	free(s);
	if (rc == -1)
		errfmt(kc->err, kc->errlen, "%s: %s is not valid base64",
		    what, key);
	return rc;
}

/*
 * Every key of map must be in ok[]; a key in bad[] gets the message that
 * kipvs does not support it, any other key that it is unknown.
 */
static int
kc_check_keys(struct kc_ctx *kc, yaml_node_t *map, const char *what,
    const char *const *okk, const char *const *bad)
{
	yaml_node_pair_t *p;
	yaml_node_t *k;
	const char *key;
	size_t i;

	if (map == NULL || map->type != YAML_MAPPING_NODE) {
		errfmt(kc->err, kc->errlen, "%s: expected a mapping", what);
		return -1;
	}
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(&kc->doc, p->key);
		if ((key = kc_scalar(kc, k, what)) == NULL)
			return -1;
		for (i = 0; okk[i] != NULL; i++)
			if (strcmp(okk[i], key) == 0)
				break;
		if (okk[i] != NULL)
			continue;
		for (i = 0; bad[i] != NULL; i++)
			if (strcmp(bad[i], key) == 0) {
				errfmt(kc->err, kc->errlen, "%s: \"%s\" is not "
				    "supported by kipvs (use a token, a token "
				    "file or a client certificate)", what,
				    key);
				return -1;
			}
		errfmt(kc->err, kc->errlen, "%s: unknown field \"%s\"", what,
		    key);
		return -1;
	}
	return 0;
}

/* The "<inner>" mapping of the entry of list named name. */
static yaml_node_t *
kc_named(struct kc_ctx *kc, yaml_node_t *root, const char *list,
    const char *inner, const char *name)
{
	yaml_node_t *seq, *item, *n;
	yaml_node_item_t *it;

	seq = kc_map_get(kc, root, list);
	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE) {
		errfmt(kc->err, kc->errlen, "no %s list", list);
		return NULL;
	}
	for (it = seq->data.sequence.items.start;
	    it < seq->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&kc->doc, *it);
		n = kc_map_get(kc, item, "name");
		if (n == NULL || n->type != YAML_SCALAR_NODE ||
		    strcmp((char *)n->data.scalar.value, name) != 0)
			continue;
		if ((n = kc_map_get(kc, item, inner)) == NULL ||
		    n->type != YAML_MAPPING_NODE) {
			errfmt(kc->err, kc->errlen, "%s \"%s\" has no %s",
			    list, name, inner);
			return NULL;
		}
		return n;
	}
	errfmt(kc->err, kc->errlen, "%s \"%s\" not found", inner, name);
	return NULL;
}

static int
kc_bool(struct kc_ctx *kc, yaml_node_t *map, const char *key,
    const char *what, int *out)
{
	yaml_node_t *n;
	const char *s;

	*out = 0;
	if ((n = kc_map_get(kc, map, key)) == NULL)
		return 0;
	if ((s = kc_scalar(kc, n, what)) == NULL)
		return -1;
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		*out = 1;
	else if (strcmp(s, "false") != 0 && strcmp(s, "False") != 0 &&
	    strcmp(s, "FALSE") != 0) {
		errfmt(kc->err, kc->errlen, "%s: %s: expected true or false",
		    what, key);
		return -1;
	}
	return 0;
}

static int
kc_server(const char *url, char **out, char *err, size_t errlen)
{
	size_t len;
	char *s;

	if (strncasecmp(url, "https://", 8) != 0 || url[8] == '\0' ||
	    url[8] == '/') {
		errfmt(err, errlen, "server \"%s\": only https:// URLs are "
		    "accepted", url);
		return -1;
	}
	if (strpbrk(url, "?# \t\r\n") != NULL) {
		errfmt(err, errlen, "server \"%s\": no query, fragment or "
		    "blanks allowed", url);
		return -1;
	}
	if ((s = strdup(url)) == NULL) {
		errfmt(err, errlen, "%s", strerror(errno));
		return -1;
	}
	len = strlen(s);
	while (len > 8 && s[len - 1] == '/')
		s[--len] = '\0';
	free(*out);
	*out = s;
	return 0;
}

static int
kc_cluster(struct kc_ctx *kc, yaml_node_t *cl, struct watch_conn *c,
    const char *what)
{
	static const char *const okk[] = { "server", "certificate-authority",
	    "certificate-authority-data", "insecure-skip-tls-verify",
	    "tls-server-name", "extensions", "disable-compression", NULL };
	static const char *const bad[] = { "proxy-url", NULL };
	char *server = NULL;
	int insecure;

	if (kc_check_keys(kc, cl, what, okk, bad) == -1)
		return -1;
	if (kc_bool(kc, cl, "insecure-skip-tls-verify", what, &insecure) == -1)
		return -1;
	if (insecure) {
		errfmt(kc->err, kc->errlen, "%s: insecure-skip-tls-verify: "
		    "true is not supported: kipvs always verifies the "
		    "apiserver's certificate", what);
		return -1;
	}
	if (kc_opt_str(kc, cl, "server", what, &server) == -1)
		return -1;
	if (server == NULL) {
		errfmt(kc->err, kc->errlen, "%s: no server", what);
		return -1;
	}
	if (kc_server(server, &c->server, kc->err, kc->errlen) == -1) {
		free(server);
		return -1;
	}
	free(server);
	if (kc_opt_path(kc, cl, "certificate-authority", what,
	    &c->ca_file) == -1 ||
	    kc_opt_data(kc, cl, "certificate-authority-data", what,
	    &c->ca_pem) == -1 ||
	    kc_opt_str(kc, cl, "tls-server-name", what,
	    &c->tls_server_name) == -1)
		return -1;
	if (c->ca_file != NULL && c->ca_pem.data != NULL) {
		errfmt(kc->err, kc->errlen, "%s: certificate-authority and "
		    "certificate-authority-data are both given", what);
		return -1;
	}
	return 0;
}

static int
kc_user(struct kc_ctx *kc, yaml_node_t *u, struct watch_conn *c,
    const char *what)
{
	static const char *const okk[] = { "token", "tokenFile",
	    "client-certificate", "client-certificate-data", "client-key",
	    "client-key-data", "extensions", NULL };
	static const char *const bad[] = { "exec", "auth-provider",
	    "username", "password", "as", "as-uid", "as-groups",
	    "as-user-extra", NULL };

	if (kc_check_keys(kc, u, what, okk, bad) == -1)
		return -1;
	if (kc_opt_str(kc, u, "token", what, &c->token) == -1 ||
	    kc_opt_path(kc, u, "tokenFile", what, &c->token_file) == -1 ||
	    kc_opt_path(kc, u, "client-certificate", what,
	    &c->cert_file) == -1 ||
	    kc_opt_data(kc, u, "client-certificate-data", what,
	    &c->cert_pem) == -1 ||
	    kc_opt_path(kc, u, "client-key", what, &c->key_file) == -1 ||
	    kc_opt_data(kc, u, "client-key-data", what, &c->key_pem) == -1)
		return -1;
	if (c->cert_file != NULL && c->cert_pem.data != NULL) {
		errfmt(kc->err, kc->errlen, "%s: client-certificate and "
		    "client-certificate-data are both given", what);
		return -1;
	}
	if (c->key_file != NULL && c->key_pem.data != NULL) {
		errfmt(kc->err, kc->errlen, "%s: client-key and "
		    "client-key-data are both given", what);
		return -1;
	}
	if ((c->cert_file != NULL || c->cert_pem.data != NULL) !=
	    (c->key_file != NULL || c->key_pem.data != NULL)) {
		errfmt(kc->err, kc->errlen, "%s: a client certificate needs "
		    "both the certificate and the key", what);
		return -1;
	}
	return 0;
}

int
watch_kubeconfig_load(struct watch_conn *c, const char *path,
    const char *master, char *err, size_t errlen)
{
	struct kc_ctx kc;
	yaml_parser_t parser;
	yaml_node_t *root, *ctx, *cl, *u;
	char *buf = NULL, *cur = NULL, *cluster = NULL, *user = NULL;
	char what[512], *slash;
	size_t len;
	int loaded = 0;

	memset(&kc, 0, sizeof(kc));
	kc.err = err;
	kc.errlen = errlen;
	watch_conn_clear(c);
	if (kc_read_file(path, &buf, &len, err, errlen) == -1)
		return -1;
	if ((kc.dir = strdup(path)) == NULL)
		goto fail;
	if ((slash = strrchr(kc.dir, '/')) == NULL) {
		free(kc.dir);
		kc.dir = NULL;
	} else if (slash == kc.dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	if (!yaml_parser_initialize(&parser))
		goto fail;
	yaml_parser_set_input_string(&parser, (unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &kc.doc)) {
		errfmt(err, errlen, "%s:%zu: %s", path,
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "YAML error");
		yaml_parser_delete(&parser);
		goto fail;
	}
	yaml_parser_delete(&parser);
	loaded = 1;
	if ((root = yaml_document_get_root_node(&kc.doc)) == NULL ||
	    root->type != YAML_MAPPING_NODE) {
		errfmt(err, errlen, "%s: not a kubeconfig (no mapping)", path);
		goto fail;
	}
	if (kc_opt_str(&kc, root, "current-context", "kubeconfig",
	    &cur) == -1)
		goto fail;
	if (cur == NULL) {
		errfmt(err, errlen, "%s: no current-context", path);
		goto fail;
	}
	if ((ctx = kc_named(&kc, root, "contexts", "context", cur)) == NULL)
		goto fail;
	snprintf(what, sizeof(what), "context \"%s\"", cur);
	if (kc_opt_str(&kc, ctx, "cluster", what, &cluster) == -1 ||
	    kc_opt_str(&kc, ctx, "user", what, &user) == -1)
		goto fail;
	if (cluster == NULL) {
		errfmt(err, errlen, "%s: no cluster", what);
		goto fail;
	}
	if ((cl = kc_named(&kc, root, "clusters", "cluster", cluster)) == NULL)
		goto fail;
	snprintf(what, sizeof(what), "cluster \"%s\"", cluster);
	if (kc_cluster(&kc, cl, c, what) == -1)
		goto fail;
	if (user != NULL) {
		if ((u = kc_named(&kc, root, "users", "user", user)) == NULL)
			goto fail;
		snprintf(what, sizeof(what), "user \"%s\"", user);
		if (kc_user(&kc, u, c, what) == -1)
			goto fail;
	}
	if (master != NULL && master[0] != '\0' &&
	    kc_server(master, &c->server, err, errlen) == -1)
		goto fail;
	c->context = cur;
	cur = NULL;
	free(cluster);
	free(user);
	yaml_document_delete(&kc.doc);
	free(kc.dir);
	free(buf);
	return 0;
fail:
	if (err != NULL && errlen > 0 && err[0] == '\0')
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
	free(cur);
	free(cluster);
	free(user);
	if (loaded)
		yaml_document_delete(&kc.doc);
	free(kc.dir);
	free(buf);
	watch_conn_clear(c);
	return -1;
}

int
watch_master_load(struct watch_conn *c, const char *master, char *err,
    size_t errlen)
{
	watch_conn_clear(c);
	return kc_server(master, &c->server, err, errlen);
}

int
watch_incluster_load(struct watch_conn *c, const char *env_host,
    const char *env_port, const char *sa_dir, char *err, size_t errlen)
{
	char *url = NULL;
	const char *p;
	int v6;

	watch_conn_clear(c);
	if (env_host == NULL || env_host[0] == '\0' || env_port == NULL ||
	    env_port[0] == '\0') {
		errfmt(err, errlen, "not in a cluster: KUBERNETES_SERVICE_HOST "
		    "and KUBERNETES_SERVICE_PORT are not set (give "
		    "--kubeconfig or --master)");
		return -1;
	}
	for (p = env_port; *p != '\0'; p++)
		if (*p < '0' || *p > '9' || p - env_port > 5) {
			errfmt(err, errlen, "KUBERNETES_SERVICE_PORT \"%s\" is "
			    "not a port", env_port);
			return -1;
		}
	if (strpbrk(env_host, "/?#@[] \t\r\n") != NULL) {
		errfmt(err, errlen, "KUBERNETES_SERVICE_HOST \"%s\" is not a "
		    "host", env_host);
		return -1;
	}
	v6 = strchr(env_host, ':') != NULL;
	if (asprintf(&url, v6 ? "https://[%s]:%s" : "https://%s:%s",
	    env_host, env_port) == -1)
		goto fail;
	c->server = url;
	if (asprintf(&c->token_file, "%s/token", sa_dir) == -1) {
		c->token_file = NULL;
		goto fail;
	}
	if (asprintf(&c->ca_file, "%s/ca.crt", sa_dir) == -1) {
		c->ca_file = NULL;
		goto fail;
	}
	if (access(c->token_file, R_OK) == -1 ||
	    access(c->ca_file, R_OK) == -1) {
		errfmt(err, errlen, "in-cluster: %s/{token,ca.crt}: %s",
		    sa_dir, strerror(errno));
		watch_conn_clear(c);
		return -1;
	}
	if ((c->context = strdup("in-cluster")) == NULL)
		goto fail;
	return 0;
fail:
	errfmt(err, errlen, "%s", strerror(errno));
	watch_conn_clear(c);
	return -1;
}
