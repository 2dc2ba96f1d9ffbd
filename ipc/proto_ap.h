/*
 * applier -> planner: per-op results and kernel-state dumps.
 *
 *	AP_RESULTS	batch id, count, results; FRAME_F_MORE on every part
 *			but the last, and the last part closes the batch
 *	AP_DUMP_BEGIN	dump id, what (PA_DUMP_* bits)
 *	AP_DUMP_RECS	count, records (as many messages as needed)
 *	AP_DUMP_END	dump id, number of records sent
 *
 * Records reuse the planner->applier field forms (proto_pa.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_PROTO_AP_H
#define KIPVS_IPC_PROTO_AP_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/proto_pa.h"

struct ipc_chan;
struct frame_msg;

#define AP_RESULTS		0x0401
#define AP_DUMP_BEGIN		0x0402
#define AP_DUMP_RECS		0x0403
#define AP_DUMP_END		0x0404

#define AP_REASON_MAX		127
#define AP_MAX_DUMP_RECS	10000000u

enum ap_status {
	AP_OK = 0,
	AP_FAILED,		/* the kernel refused: err is its errno */
	AP_REJECTED,		/* the applier's policy refused */
	AP_BLOCKED,		/* a prerequisite op of the batch failed */
};

struct ap_result {
	uint32_t	seq;		/* the op's sequence number */
	uint8_t		status;		/* enum ap_status */
	int32_t		err;		/* errno, 0 when AP_OK */
	char		reason[AP_REASON_MAX + 1];
};

enum ap_rec_kind {
	AP_REC_VS = 1,
	AP_REC_RS,
	AP_REC_ADDR,
	AP_REC_SET_MEMBER,
	AP_REC_CHAIN,
};

struct ap_rs_stat {
	struct pa_rs	rs;
	uint32_t	active;		/* connection counts */
	uint32_t	inactive;
};

struct ap_addr {
	char		ifname[PA_IFNAME_MAX + 1];
	struct rec_prefix prefix;
};

struct ap_chain {
	uint8_t		family;
	uint8_t		chain;		/* enum pa_chain_id */
	uint8_t		matches;	/* 1: content equals the template */
	uint32_t	n_rules;
};

struct ap_rec {
	uint8_t		kind;		/* enum ap_rec_kind */
	union {
		struct pa_vs	vs;
		struct ap_rs_stat rs;
		struct ap_addr	addr;
		struct pa_set_entry member;
		struct ap_chain	chain;
	} u;
};

struct ap_dump_begin {
	uint64_t	dump;
	uint32_t	what;		/* PA_DUMP_* */
};

struct ap_dump_end {
	uint64_t	dump;
	uint32_t	n_recs;
};

int	ap_type_valid(uint16_t type);

/*
 * Result sender: collects results into AP_RESULTS messages and marks all
 * but the last with FRAME_F_MORE.
 */
struct ap_tx {
	struct ipc_chan	*chan;
	uint64_t	 id;
	uint16_t	 in_msg;
	uint32_t	 total;
	size_t		 len;
	uint8_t		*buf;
	uint16_t	 type;
};

int	ap_results_begin(struct ap_tx *, struct ipc_chan *, uint64_t batch);
int	ap_results_add(struct ap_tx *, const struct ap_result *);
int	ap_results_end(struct ap_tx *);
int	ap_dump_begin(struct ap_tx *, struct ipc_chan *,
	    const struct ap_dump_begin *);
int	ap_dump_add(struct ap_tx *, const struct ap_rec *);
int	ap_dump_end(struct ap_tx *);
void	ap_tx_abort(struct ap_tx *);

int	ap_decode_results(const uint8_t *, size_t, uint64_t *batch,
	    struct ap_result **, size_t *n, const char **reason);
int	ap_decode_dump_begin(const uint8_t *, size_t, struct ap_dump_begin *,
	    const char **reason);
int	ap_decode_dump_recs(const uint8_t *, size_t, struct ap_rec **,
	    size_t *n, const char **reason);
int	ap_decode_dump_end(const uint8_t *, size_t, struct ap_dump_end *,
	    const char **reason);

/* Receiver state. */
struct ap_rx {
	int		in_results;	/* a multi-part result list is open */
	uint64_t	batch;
	int		in_dump;
	uint64_t	dump;
	uint32_t	dump_recs;
};

enum ap_event_type {
	AP_EV_RESULTS = 1,	/* results; last == 1 closes the batch */
	AP_EV_DUMP_BEGIN,
	AP_EV_DUMP_RECS,
	AP_EV_DUMP_END,
};

struct ap_event {
	int		 type;
	uint64_t	 batch;
	int		 last;
	struct ap_result *results;	/* caller frees */
	struct ap_rec	*recs;		/* caller frees */
	size_t		 n;
	struct ap_dump_begin dbegin;
	struct ap_dump_end dend;
};

void	ap_rx_init(struct ap_rx *);
int	ap_rx_feed(struct ap_rx *, const struct frame_msg *,
	    struct ap_event *, const char **reason);
void	ap_event_clear(struct ap_event *);

#endif /* KIPVS_IPC_PROTO_AP_H */
