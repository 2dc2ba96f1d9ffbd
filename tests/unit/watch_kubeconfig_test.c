/*
 * Unit tests for watcherd/watch_kubeconfig.c: the current context's
 * cluster and user, relative paths, base64 data fields, --master, the
 * in-cluster configuration, and a clear error for everything refused.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "watcherd/watch_kubeconfig.h"
#include "tests/tap.h"

static char dir[] = "/tmp/kipvs-kc-XXXXXX";

static const char *
put(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

#define HEAD \
	"apiVersion: v1\nkind: Config\ncurrent-context: c1\n" \
	"contexts:\n- name: c0\n  context: {cluster: other, user: nobody}\n" \
	"- name: c1\n  context:\n    cluster: k1\n    user: u1\n" \
	"    namespace: kube-system\n"
#define CLUSTER(body) "clusters:\n- name: other\n  cluster: {server: " \
	"\"https://10.9.9.9\"}\n- name: k1\n  cluster:\n" body
#define USER(body) "users:\n- name: u1\n  user:\n" body

/* Loads text as a kubeconfig; returns the rc, the message in err. */
static int
load(struct watch_conn *c, const char *text, const char *master, char *err,
    size_t errlen)
{
	err[0] = '\0';
	return watch_kubeconfig_load(c, put("config", text), master, err,
	    errlen);
}

static void
refused(const char *what, const char *text, const char *want)
{
	struct watch_conn *c = watch_conn_new();
	char err[512];
	int rc;

	rc = load(c, text, NULL, err, sizeof(err));
	ok(rc == -1 && strstr(err, want) != NULL, "refused: %s (%s)", what,
	    err);
	ok(c->server == NULL && c->token == NULL, "%s: nothing half-filled",
	    what);
	watch_conn_free(c);
}

static void
test_good(void)
{
	struct watch_conn *c = watch_conn_new();
	char err[512], path[300];
	int rc;

	rc = load(c, HEAD CLUSTER("    server: https://192.0.2.1:6443/\n"
	    "    certificate-authority: pki/ca.crt\n"
	    "    tls-server-name: kubernetes.default.svc\n"
	    "    insecure-skip-tls-verify: false\n")
	    USER("    token: abc.def\n    client-certificate: /etc/c.pem\n"
	    "    client-key: k.pem\n"), NULL, err, sizeof(err));
	ok(rc == 0, "a kubeconfig with files and a token loads (%s)", err);
	is_str(c->server, "https://192.0.2.1:6443", "the current context's "
	    "server, trailing '/' dropped");
	snprintf(path, sizeof(path), "%s/pki/ca.crt", dir);
	is_str(c->ca_file, path, "relative CA path resolved against the "
	    "kubeconfig's directory");
	is_str(c->tls_server_name, "kubernetes.default.svc", "tls-server-name");
	is_str(c->token, "abc.def", "token");
	is_str(c->cert_file, "/etc/c.pem", "absolute client-certificate kept");
	snprintf(path, sizeof(path), "%s/k.pem", dir);
	is_str(c->key_file, path, "relative client-key resolved");
	is_str(c->context, "c1", "context name");

	/* --master replaces the server. */
	rc = load(c, HEAD CLUSTER("    server: https://192.0.2.1:6443\n")
	    USER("    tokenFile: /run/tok\n"), "https://198.51.100.1:443",
	    err, sizeof(err));
	ok(rc == 0, "with --master");
	is_str(c->server, "https://198.51.100.1:443", "--master wins");
	is_str(c->token_file, "/run/tok", "tokenFile");
	ok(c->token == NULL, "no static token");

	/* Base64 data fields. */
	rc = load(c, HEAD CLUSTER("    server: https://[fd00::1]:6443\n"
	    "    certificate-authority-data: "
	    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n")
	    USER("    client-certificate-data: |\n      Y2VydA==\n"
	    "    client-key-data: a2V5\n"), NULL, err, sizeof(err));
	ok(rc == 0, "data fields load (%s)", err);
	is_str(c->ca_pem.data, "-----BEGIN CERTIFICATE-----\n",
	    "certificate-authority-data decoded");
	is(c->ca_pem.len, 28, "its length");
	is_str(c->cert_pem.data, "cert", "client-certificate-data (block "
	    "scalar) decoded");
	is_str(c->key_pem.data, "key", "client-key-data without padding "
	    "need");
	is_str(c->server, "https://[fd00::1]:6443", "IPv6 server");

	/* A context without a user: no credentials, still fine. */
	rc = load(c, "current-context: x\ncontexts:\n- name: x\n  context:\n"
	    "    cluster: k\nclusters:\n- name: k\n  cluster:\n"
	    "    server: https://h\n    extensions: []\n", NULL, err,
	    sizeof(err));
	ok(rc == 0 && c->token == NULL && c->ca_file == NULL,
	    "no user: anonymous, system CAs");
	watch_conn_free(c);
}

static void
test_refused(void)
{
	refused("exec plugin", HEAD CLUSTER("    server: https://h\n")
	    USER("    exec:\n      command: aws\n"), "\"exec\" is not "
	    "supported");
	refused("auth-provider", HEAD CLUSTER("    server: https://h\n")
	    USER("    auth-provider: {name: gcp}\n"), "\"auth-provider\"");
	refused("basic auth", HEAD CLUSTER("    server: https://h\n")
	    USER("    username: a\n    password: b\n"), "is not supported");
	refused("impersonation", HEAD CLUSTER("    server: https://h\n")
	    USER("    as: admin\n"), "\"as\" is not supported");
	refused("proxy-url", HEAD CLUSTER("    server: https://h\n"
	    "    proxy-url: http://p:3128\n") USER("    token: t\n"),
	    "\"proxy-url\" is not supported");
	refused("unknown field", HEAD CLUSTER("    server: https://h\n"
	    "    serverr: x\n") USER("    token: t\n"),
	    "unknown field \"serverr\"");
	refused("insecure-skip-tls-verify", HEAD CLUSTER(
	    "    server: https://h\n    insecure-skip-tls-verify: true\n")
	    USER("    token: t\n"), "always verifies");
	refused("http server", HEAD CLUSTER("    server: http://h:8080\n")
	    USER("    token: t\n"), "only https://");
	refused("no server", HEAD CLUSTER("    tls-server-name: x\n")
	    USER("    token: t\n"), "no server");
	refused("CA file and data", HEAD CLUSTER("    server: https://h\n"
	    "    certificate-authority: a\n"
	    "    certificate-authority-data: YQ==\n") USER("    token: t\n"),
	    "both given");
	refused("bad base64", HEAD CLUSTER("    server: https://h\n"
	    "    certificate-authority-data: '***'\n") USER("    token: t\n"),
	    "not valid base64");
	refused("certificate without key", HEAD CLUSTER(
	    "    server: https://h\n") USER("    client-certificate: c\n"),
	    "both the certificate and the key");
	refused("no current-context", "contexts: []\n", "no current-context");
	refused("context missing", "current-context: nope\ncontexts: []\n",
	    "context \"nope\" not found");
	refused("cluster missing", HEAD "clusters: []\n", "cluster \"k1\" "
	    "not found");
	refused("user missing", HEAD CLUSTER("    server: https://h\n")
	    "users: []\n", "user \"u1\" not found");
	refused("not YAML", "a: [\n", "config:");
	refused("not a mapping", "- a\n- b\n", "not a kubeconfig");
	refused("server with a query", HEAD CLUSTER(
	    "    server: https://h/?x=1\n") USER("    token: t\n"),
	    "no query");
}

static void
test_missing_file(void)
{
	struct watch_conn *c = watch_conn_new();
	char err[512];

	ok(watch_kubeconfig_load(c, "/nonexistent/kubeconfig", NULL, err,
	    sizeof(err)) == -1 && strstr(err, "No such file") != NULL,
	    "missing file: %s", err);
	ok(watch_master_load(c, "https://m:6443/", err, sizeof(err)) == 0 &&
	    strcmp(c->server, "https://m:6443") == 0, "--master alone");
	ok(watch_master_load(c, "m:6443", err, sizeof(err)) == -1,
	    "--master without https:// refused");
	watch_conn_free(c);
}

static void
test_incluster(void)
{
	struct watch_conn *c = watch_conn_new();
	char err[512], sa[300], path[320];

	snprintf(sa, sizeof(sa), "%s/sa", dir);
	ok(watch_incluster_load(c, NULL, NULL, sa, err, sizeof(err)) == -1 &&
	    strstr(err, "KUBERNETES_SERVICE_HOST") != NULL,
	    "no environment: %s", err);
	ok(watch_incluster_load(c, "10.96.0.1", "443", sa, err,
	    sizeof(err)) == -1 && strstr(err, "token,ca.crt") != NULL,
	    "no service account files: refused");
	snprintf(path, sizeof(path), "mkdir -p %s", sa);
	if (system(path) != 0)
		abort();
	put("sa/token", "tok\n");
	put("sa/ca.crt", "x");
	ok(watch_incluster_load(c, "10.96.0.1", "443", sa, err,
	    sizeof(err)) == 0, "in-cluster loads");
	is_str(c->server, "https://10.96.0.1:443", "server from the "
	    "environment");
	snprintf(path, sizeof(path), "%s/token", sa);
	is_str(c->token_file, path, "token file (re-read on rotation)");
	snprintf(path, sizeof(path), "%s/ca.crt", sa);
	is_str(c->ca_file, path, "ca.crt");
	ok(watch_incluster_load(c, "fd00::1", "443", sa, err,
	    sizeof(err)) == 0 && strcmp(c->server, "https://[fd00::1]:443") ==
	    0, "IPv6 service host bracketed");
	ok(watch_incluster_load(c, "10.96.0.1", "44x", sa, err,
	    sizeof(err)) == -1, "bad port refused");
	ok(watch_incluster_load(c, "a/b", "443", sa, err, sizeof(err)) == -1,
	    "bad host refused");
	watch_conn_free(c);
}

static void
test_base64(void)
{
	struct watch_blob b;

	ok(watch_base64_decode("aGVsbG8=", 8, &b) == 0 && b.len == 5 &&
	    strcmp(b.data, "hello") == 0, "one pad");
	free(b.data);
	ok(watch_base64_decode("aGk=\n", 5, &b) == 0 && b.len == 2,
	    "trailing newline ignored");
	free(b.data);
	ok(watch_base64_decode(" aG Vs\nbG8h ", 12, &b) == 0 && b.len == 6 &&
	    memcmp(b.data, "hello!", 6) == 0, "inner whitespace ignored");
	free(b.data);
	ok(watch_base64_decode("aGVsbG8", 7, &b) == -1, "bad length refused");
	ok(watch_base64_decode("aG=sbG8=", 8, &b) == -1, "inner '=' refused");
	ok(watch_base64_decode("aGV$bG8=", 8, &b) == -1,
	    "character outside the alphabet refused");
	ok(watch_base64_decode("", 0, &b) == -1, "empty refused");
}

int
main(void)
{
	char cmd[64];

	if (mkdtemp(dir) == NULL)
		abort();
	plan(76);
	test_good();
	test_refused();
	test_missing_file();
	test_incluster();
	test_base64();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done();
}
