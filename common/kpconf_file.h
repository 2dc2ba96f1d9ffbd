/*
 * kube-proxy's configuration file: a KubeProxyConfiguration
 * (kubeproxy.config.k8s.io/v1alpha1) read with libyaml into the same
 * struct kp_config the flags fill, and a struct kp_config turned back into
 * flags so the parent can hand a file's settings to every daemon on its
 * command line.  Only the parent reads the file; the daemons see flags.
 *
 * Decoding is strict, as kube-proxy's is: an unknown field, a duplicate
 * key, a value of the wrong type, a wrong apiVersion or kind, a second
 * document, or a setting kipvs does not implement is an error naming the
 * field and its line.  Fields that have no effect in IPVS mode in
 * kube-proxy either (iptables.syncPeriod, nftables.*, winkernel.*,
 * logging, ...) are accepted and reported through the warning callback
 * when they carry a value.  docs/configuration.md has the table.
 *
 * Values are checked by kpconf_parse() itself: the loader turns each
 * field into its flag, so a field and its flag cannot disagree.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_KPCONF_FILE_H
#define KIPVS_KPCONF_FILE_H

#include <stddef.h>

#include "common/kpconf.h"

#define KPCONF_FILE_API		"kubeproxy.config.k8s.io/v1alpha1"
#define KPCONF_FILE_KIND	"KubeProxyConfiguration"
/* Larger files are refused before parsing. */
#define KPCONF_FILE_MAX		(1024 * 1024)

/*
 * Receives one warning: a setting accepted but without effect.  With a
 * NULL callback warnings go to log_warnx().
 */
typedef void (*kpconf_warn_fn)(void *arg, const char *msg);

/*
 * Reads the file at path into c, which the caller has filled with
 * kpconf_defaults().  Fields absent from the file (or null, or the zero
 * value where kube-proxy defaults a zero) keep c's values.  Returns 0, or
 * -1 with "PATH:LINE: FIELD: reason" in err.
 */
int	kpconf_file_load(struct kp_config *c, const char *path,
	    kpconf_warn_fn warn, void *arg, char *err, size_t errlen);

/* The same from a buffer; name stands for the file in messages. */
int	kpconf_file_parse(struct kp_config *c, const char *name,
	    const char *buf, size_t len, kpconf_warn_fn warn, void *arg,
	    char *err, size_t errlen);

/*
 * kube-proxy's precedence when --config is given: c holds the file's
 * settings; of the kube-proxy flags in argv only --hostname-override is
 * applied over them, and so are the flags that have no field in the file
 * (--master and kipvs's own: --ip-family, --nodeport-range,
 * --service-proxy-name).  Every other kube-proxy flag is ignored with a
 * warning naming it.  argv holds kpconf flags only (not --config or the
 * parent's own flags); anything else is an error as in kpconf_parse().
 * Returns 0, or -1 with a message in err.
 */
int	kpconf_file_merge(struct kp_config *c, int argc, char *const argv[],
	    kpconf_warn_fn warn, void *arg, char *err, size_t errlen);

/*
 * The flags that reproduce c when kpconf_parse() reads them over
 * kpconf_defaults(): one "--name=value" string per setting that differs
 * from kube-proxy's default, in kpconf's order.  Returns a NULL-terminated
 * vector the caller owns (kpconf_args_free()), its length in *argc; NULL
 * with errno set on allocation failure.
 */
char	**kpconf_to_args(const struct kp_config *c, int *argc);
void	 kpconf_args_free(char **);

#endif /* KIPVS_KPCONF_FILE_H */
