/*
 * Where the apiserver is and how to prove who we are: from a kubeconfig
 * file (--kubeconfig), from --master, or from the in-cluster service
 * account, with kube-proxy's (client-go's) precedence:
 *
 *	--kubeconfig given	its current context; --master, if given too,
 *				replaces the cluster's server
 *	only --master		that server, the system's CA store, no
 *				credentials
 *	neither			in-cluster: https://$KUBERNETES_SERVICE_HOST:
 *				$KUBERNETES_SERVICE_PORT, the service
 *				account's token file and ca.crt
 *
 * Only what can be honoured safely is accepted: exec and auth-provider
 * credential plugins, basic auth, impersonation, proxies and
 * insecure-skip-tls-verify: true are rejected with a message naming the
 * field, never silently ignored.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_KUBECONFIG_H
#define KIPVS_WATCH_KUBECONFIG_H

#include <stddef.h>

#define WATCH_SA_DIR	"/var/run/secrets/kubernetes.io/serviceaccount"

/* Largest kubeconfig, token, certificate or key file read, in bytes. */
#define WATCH_CONF_FILE_MAX	(1024 * 1024)

/*
 * A PEM blob (decoded from a *-data field).  data is NUL-terminated so it
 * can be printed in a test; len does not count the NUL.
 */
struct watch_blob {
	char		*data;
	size_t		 len;
};

/*
 * Everything watch_http needs to reach the apiserver.  Strings are owned
 * by the struct.  File paths are absolute or relative to the directory of
 * the kubeconfig that named them (resolved at load).
 */
struct watch_conn {
	/* https://host[:port][/path], without a trailing '/' */
	char		*server;
	char		*ca_file;	/* NULL: ca_pem or the system store */
	struct watch_blob ca_pem;
	char		*tls_server_name; /* name checked in the certificate */
	char		*token;		/* static bearer token */
	char		*token_file;	/* re-read when it changes */
	char		*cert_file;
	struct watch_blob cert_pem;
	char		*key_file;
	struct watch_blob key_pem;
	char		*context;	/* the context used, for messages */
};

struct watch_conn *watch_conn_new(void);
void	watch_conn_free(struct watch_conn *);

/*
 * Fills conn from the kubeconfig at path (master, if not NULL, replaces
 * the server).  On failure returns -1 with a message in err.
 */
int	watch_kubeconfig_load(struct watch_conn *conn, const char *path,
	    const char *master, char *err, size_t errlen);

/*
 * Fills conn for --master alone.  Returns -1 with a message in err if the
 * URL is not https.
 */
int	watch_master_load(struct watch_conn *conn, const char *master,
	    char *err, size_t errlen);

/*
 * Fills conn from the in-cluster environment: env_host and env_port are
 * the values of KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT (the
 * caller reads the environment, so tests can pass their own); sa_dir is
 * WATCH_SA_DIR or a test's directory holding token and ca.crt.
 */
int	watch_incluster_load(struct watch_conn *conn, const char *env_host,
	    const char *env_port, const char *sa_dir, char *err,
	    size_t errlen);

/*
 * The decoded base64 of a kubeconfig *-data field (whitespace ignored,
 * padding required as kubectl writes it).  Returns -1 on bad input.
 * The result is NUL-terminated; the caller frees blob->data.
 */
int	watch_base64_decode(const char *in, size_t inlen,
	    struct watch_blob *blob);

#endif /* KIPVS_WATCH_KUBECONFIG_H */
