# kipvs: a privilege-separated IPVS service proxy for Kubernetes nodes.
# Plain GNU make; every library is found with pkg-config.
#
#   make            build the four binaries into $(B)/
#   make check      install what is missing (tests/deps.sh), build with
#                   -Werror, run every test through prove
#   make demo       boot the real-kernel VM and show kipvs at work
#   make sanitize   the unit, netns and render suites under ASan+UBSan
#   make memcheck   the daemons' tests with the daemons under valgrind
#   make fuzz       build the libFuzzer targets (clang); fuzz-long runs
#                   each for FUZZ_SECONDS (600)
#   make bench      run the benchmarks in the VM
#   make soak       the chaos soak in the VM for SOAK seconds (300)
#   make install    DESTDIR, PREFIX, SBINDIR, LIBEXECDIR honoured
#
# SPDX-License-Identifier: Apache-2.0

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
LIBEXECDIR	?= $(PREFIX)/libexec/kipvs
DOCDIR		?= $(PREFIX)/share/doc/kipvs
UNITDIR		?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR	?= $(PREFIX)/lib/tmpfiles.d
MODLOADDIR	?= $(PREFIX)/lib/modules-load.d
MANDIR		?= $(PREFIX)/share/man

VERSION		:= 0.1.0
B		?= build
PKG_CONFIG	?= pkg-config
PROVE		?= prove
CLANG		?= clang

# Libraries per process: each binary links only what its process needs, so
# `ldd kipvs-applierd` shows no HTTP, JSON or TLS code and the planner has
# no kernel libraries at all.
PKGS_COMMON	:= libcap-ng libseccomp
# The parent alone reads YAML (--config: common/kpconf_file.c); the daemons
# link the common archive without pulling that object in.  libkmod: the
# module index `kipvs check` reads (supervisor/check.c); it loads nothing.
PKGS_SUP	:= yaml-0.1 libkmod
PKGS_WATCH	:= libcurl jansson libevent yaml-0.1 libcrypto
PKGS_PLAN	:=
PKGS_APPLY	:= libnl-3.0 libnl-genl-3.0 libnl-route-3.0 libipset \
		   libip4tc libip6tc libkmod
PKGS_ALL	:= $(PKGS_COMMON) $(PKGS_SUP) $(PKGS_WATCH) $(PKGS_PLAN) \
		   $(PKGS_APPLY)

pkg_cflags	= $(if $(1),$(shell $(PKG_CONFIG) --cflags $(1)))
pkg_libs	= $(if $(1),$(shell $(PKG_CONFIG) --libs $(1)))

WARN		:= -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wimplicit-fallthrough -Werror
HARDEN_CFLAGS	:= -D_FORTIFY_SOURCE=3 -fstack-protector-strong \
		   -fstack-clash-protection -fPIE
HARDEN_LDFLAGS	:= -pie -Wl,-z,relro,-z,now

ifeq ($(SAN),1)
# ASan and FORTIFY_SOURCE do not mix well; the sanitizer build trades the
# hardening flags for instrumentation.
OPT		:= -O1 -g -fno-omit-frame-pointer \
		   -fsanitize=address,undefined -fno-sanitize-recover=all
SANDEFS		:= -DKIPVS_SANITIZER=1
HARDEN_CFLAGS	:= -fPIE
LDSAN		:= -fsanitize=address,undefined
else ifeq ($(VG),1)
# make memcheck: plain code for valgrind, the seccomp filter only logs
# and is loaded with prctl() (valgrind has no seccomp(2)).
OPT		:= -O1 -g -fno-omit-frame-pointer
SANDEFS		:= -DKIPVS_SANITIZER=1 -DKIPVS_MEMCHECK=1
else
OPT		?= -O2 -g
endif

CPPFLAGS	+= -I. -I$(B) -D_GNU_SOURCE $(SANDEFS)
CFLAGS		+= -std=gnu11 $(OPT) $(WARN) $(HARDEN_CFLAGS) -MMD -MP
LDFLAGS		+= $(HARDEN_LDFLAGS) $(LDSAN)

# Sources are found by directory so a new module needs no Makefile edit.
# Each daemon's main file is <dir>/<daemon>.c; everything else in the
# directory is a library that the tests link too.
COMMON_SRC	:= $(wildcard common/*.c)
IPC_SRC		:= $(wildcard ipc/*.c)
WATCH_SRC	:= $(filter-out watcherd/watcherd.c,$(wildcard watcherd/*.c))
PLAN_SRC	:= $(filter-out planner/planner.c planner/render_main.c,\
		   $(wildcard planner/*.c))
APPLY_SRC	:= $(filter-out applierd/applierd.c,$(wildcard applierd/*.c))
SUP_SRC		:= $(wildcard supervisor/*.c)

obj		= $(patsubst %.c,$(B)/%.o,$(1))

LIB_COMMON	:= $(B)/libkipvs-common.a
LIB_IPC		:= $(B)/libkipvs-ipc.a
LIB_WATCH	:= $(B)/libkipvs-watch.a
LIB_PLAN	:= $(B)/libkipvs-plan.a
LIB_APPLY	:= $(B)/libkipvs-apply.a

BIN_SUP		:= $(B)/kipvs
BIN_WATCH	:= $(B)/kipvs-watcherd
BIN_PLAN	:= $(B)/kipvs-planner
BIN_APPLY	:= $(B)/kipvs-applierd
# `kipvs render` (offline, unprivileged) is its own program so the parent
# stays tiny and the planner daemon links no JSON parser.
BIN_RENDER	:= $(B)/kipvs-render
BINS		:= $(BIN_SUP) $(BIN_WATCH) $(BIN_PLAN) $(BIN_APPLY) \
		   $(if $(wildcard planner/render_main.c),$(BIN_RENDER))

# Unit tests: tests/unit/<module>_test.c, one TAP program each, linked with
# every library.
UNIT_SRC	:= $(wildcard tests/unit/*_test.c)
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRC))
# Helper programs used by script tests (tests/helpers/<name>.c).
HELPER_SRC	:= $(wildcard tests/helpers/*.c)
HELPER_BINS	:= $(patsubst tests/helpers/%.c,$(B)/tests/helpers/%,$(HELPER_SRC))
# Benchmark programs (tests/bench/<name>.c), built with the tests so they
# stay compiling.
BENCH_SRC	:= $(wildcard tests/bench/*.c)
BENCH_BINS	:= $(patsubst tests/bench/%.c,$(B)/tests/bench/%,$(BENCH_SRC))
# Script tests: tests/<suite>/*.t, each an executable printing TAP: build
# and install checks, netfilter tests in throwaway namespaces, process and
# sandbox tests, and last the tests that boot the real-kernel VM.
SCRIPT_TESTS	:= $(sort $(filter-out tests/vm/%,$(wildcard tests/*/*.t)))
VM_TESTS	:= $(sort $(wildcard tests/vm/*.t))
FUZZ_SRC	:= $(wildcard tests/fuzz/*_fuzz.c)

ALL_LIBS	:= $(LIB_WATCH) $(LIB_PLAN) $(LIB_APPLY) $(LIB_IPC) $(LIB_COMMON)

.PHONY: all check check-unit deps tests install uninstall clean fuzz \
	fuzz-long sanitize memcheck bench demo soak regen FORCE
.DEFAULT_GOAL := all

all: $(BINS)

# Paths compiled into the parent; regenerated only when a value changes so
# `make install PREFIX=/usr` after `make` relinks what depends on it.
$(B)/config.h: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '/* generated by make; do not edit */' \
	    '#define KIPVS_VERSION "$(VERSION)"' \
	    '#define KIPVS_LIBEXECDIR "$(LIBEXECDIR)"' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(B)/%.o: %.c | $(B)/config.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CFLAGS_$(firstword $(subst /, ,$<))) \
	    -c -o $@ $<

# Per-directory include flags: only the pkg-config headers that process uses.
CFLAGS_common	 = $(call pkg_cflags,$(PKGS_COMMON) $(PKGS_SUP))
CFLAGS_ipc	 =
CFLAGS_watcherd	 = $(call pkg_cflags,$(PKGS_COMMON) $(PKGS_WATCH))
CFLAGS_planner	 = $(call pkg_cflags,$(PKGS_COMMON) $(PKGS_PLAN))
CFLAGS_applierd	 = $(call pkg_cflags,$(PKGS_COMMON) $(PKGS_APPLY))
CFLAGS_supervisor = $(call pkg_cflags,$(PKGS_COMMON) $(PKGS_SUP))
CFLAGS_tests	 = $(call pkg_cflags,$(PKGS_ALL))

$(LIB_COMMON): $(call obj,$(COMMON_SRC))
$(LIB_IPC): $(call obj,$(IPC_SRC))
$(LIB_WATCH): $(call obj,$(WATCH_SRC))
$(LIB_PLAN): $(call obj,$(PLAN_SRC))
$(LIB_APPLY): $(call obj,$(APPLY_SRC))
$(B)/lib%.a:
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN_SUP): $(call obj,$(SUP_SRC)) $(LIB_IPC) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_SUP) $(PKGS_COMMON))
$(BIN_WATCH): $(B)/watcherd/watcherd.o $(LIB_WATCH) $(LIB_IPC) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_WATCH) $(PKGS_COMMON))
$(BIN_PLAN): $(B)/planner/planner.o $(LIB_PLAN) $(LIB_IPC) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_PLAN) $(PKGS_COMMON))
$(BIN_RENDER): $(B)/planner/render_main.o $(LIB_PLAN) $(LIB_WATCH) \
		$(LIB_IPC) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_WATCH) $(PKGS_COMMON))
$(BIN_APPLY): $(B)/applierd/applierd.o $(LIB_APPLY) $(LIB_IPC) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_APPLY) $(PKGS_COMMON))

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_ALL))
$(B)/tests/helpers/%: $(B)/tests/helpers/%.o $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_ALL))
$(B)/tests/bench/%: $(B)/tests/bench/%.o $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_ALL))
.SECONDARY: $(patsubst %,%.o,$(UNIT_BINS) $(HELPER_BINS) $(BENCH_BINS))

tests: $(UNIT_BINS) $(HELPER_BINS) $(BENCH_BINS)

deps:
	tests/deps.sh

# The README's test command.  Unit tests, then netfilter tests in
# namespaces, then the VM tests; prove's summary ends the log with
# "Result: PASS" or "Result: FAIL".
check: deps
	$(MAKE) all tests
	@if [ "$$(id -u)" = 0 ]; then \
	    tests/lib/host-netfilter.sh > $(B)/host-netfilter.before; fi
	$(PROVE) --exec '' -v $(UNIT_BINS) $(SCRIPT_TESTS) $(VM_TESTS) \
	    tests/host-untouched.t

# Unit tests only (no root, no VM): quick loop while developing.
check-unit: all tests
	$(PROVE) --exec '' $(UNIT_BINS)

# The unit, netns and render suites built with ASan+UBSan (every report
# fatal) in build-san/; the seccomp filter only logs (KIPVS_SANITIZER).
# Reports go to files in $(B)/san-logs/ as well, so one in a process whose
# exit status a test ignores still fails the run (tests/san/run.sh).
SAN_B		?= build-san
SAN_SUITES	:= tests/netns tests/render
sanitize:
	$(MAKE) B=$(SAN_B) SAN=1 all tests
	B=$(SAN_B) tests/san/run.sh asan $(patsubst %.c,$(SAN_B)/%,\
	    $(UNIT_SRC)) $(sort $(wildcard $(addsuffix /*.t,$(SAN_SUITES))))

# The daemons' long-running tests with each daemon under valgrind memcheck
# (zero errors, nothing definitely or indirectly lost), on a -O1 build
# whose seccomp filter only logs (valgrind makes syscalls of its own).
MEMCHECK_B	?= build-memcheck
MEMCHECK_TESTS	?= tests/watch/20-daemon.t tests/planner/10-daemon-coldstart.t \
		   tests/planner/20-daemon-changes.t
memcheck:
	$(MAKE) B=$(MEMCHECK_B) VG=1 all tests
	B=$(MEMCHECK_B) tests/san/run.sh memcheck $(MEMCHECK_TESTS)

# Golden files of kipvs-render (tests/render/cases/): write what the
# program prints now beside each expected file as expected.*.new and show
# the differences; nothing is overwritten.  Review, then rename by hand.
regen: all
	B=$(B) tests/render/cases.t --regen

# libFuzzer targets: tests/fuzz/<name>_fuzz.c, built with clang against the
# sources of the libraries (not the hardened archives).
FUZZ_BINS	:= $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FUZZ_FLAGS	:= -std=gnu11 -g -O1 -I. -I$(B) -D_GNU_SOURCE \
		   -DKIPVS_FUZZING=1 -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=all \
		   $(call pkg_cflags,$(PKGS_ALL))
FUZZ_LIB_SRC	:= $(COMMON_SRC) $(IPC_SRC) $(WATCH_SRC) $(PLAN_SRC) \
		   $(APPLY_SRC)
# The libraries' sources are compiled once, instrumented, into one archive:
# each target links only the objects it reaches.
FUZZ_LIB	:= $(B)/fuzz/libkipvs-fuzz.a
fuzz: $(FUZZ_BINS)
# Every target for FUZZ_SECONDS each from its seed corpus (tests/fuzz/run.sh:
# crashes are reported and kept in $(B)/fuzz/crashes/).
FUZZ_SECONDS	?= 600
fuzz-long: $(FUZZ_BINS)
	B=$(B) tests/fuzz/run.sh --seconds $(FUZZ_SECONDS)
# The ipc decoders' fuzzers need only ipc/ and the logger: built from those
# sources alone, so they stay fast and do not depend on the daemons' code.
# (With two matching pattern rules make takes the one with the shorter stem.)
FUZZ_IPC_SRC	:= $(IPC_SRC) common/log.c
$(B)/fuzz/ipc_%_fuzz: tests/fuzz/ipc_%_fuzz.c $(FUZZ_IPC_SRC) | $(B)/config.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_IPC_SRC)
$(B)/fuzz/obj/%.o: %.c | $(B)/config.h
	@mkdir -p $(@D)
	$(CLANG) $(subst =fuzzer,=fuzzer-no-link,$(FUZZ_FLAGS)) -MMD -MP \
	    -c -o $@ $<
$(FUZZ_LIB): $(patsubst %.c,$(B)/fuzz/obj/%.o,$(FUZZ_LIB_SRC))
	rm -f $@
	$(AR) rcs $@ $^
$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) | $(B)/config.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB) \
	    $(call pkg_libs,$(PKGS_ALL))

bench: deps
	$(MAKE) all tests
	B=$(B) tests/bench/run.sh

demo: deps
	$(MAKE) all tests
	tests/vm/run.sh tests/vm/guest/demo.sh

# The chaos soak (tests/vm/60-chaos.t) alone for SOAK seconds, e.g.
# `make soak SOAK=3600`; `make check` runs it for the default 300 s.
SOAK		?= 300
soak: deps
	$(MAKE) all tests
	B=$(B) KIPVS_SOAK_SECONDS=$(SOAK) $(PROVE) --exec '' -v \
	    tests/vm/60-chaos.t

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BIN_SUP) $(DESTDIR)$(SBINDIR)/kipvs
	install -m 0755 $(filter-out $(BIN_SUP),$(BINS)) \
	    $(DESTDIR)$(LIBEXECDIR)/
	install -m 0644 README.md LICENSE $(DESTDIR)$(DOCDIR)/
	@set -e; for u in $(wildcard systemd/*.service systemd/*.socket); do \
	    install -d $(DESTDIR)$(UNITDIR); \
	    sed -e 's|/usr/libexec/kipvs|$(LIBEXECDIR)|g' \
	        -e 's|/usr/sbin/kipvs|$(SBINDIR)/kipvs|g' $$u \
	        > $(DESTDIR)$(UNITDIR)/$${u#systemd/}; \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$${u#systemd/}; done
	install -d $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(MODLOADDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0644 systemd/kipvs.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/kipvs.conf
	install -m 0644 systemd/kipvs.tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/kipvs.conf
	install -m 0644 systemd/kipvs.modules \
	    $(DESTDIR)$(MODLOADDIR)/kipvs.conf
	install -m 0644 $(wildcard docs/man/*.8) $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/kipvs
	rm -f $(DESTDIR)$(LIBEXECDIR)/kipvs-watcherd \
	    $(DESTDIR)$(LIBEXECDIR)/kipvs-planner \
	    $(DESTDIR)$(LIBEXECDIR)/kipvs-applierd \
	    $(DESTDIR)$(LIBEXECDIR)/kipvs-render
	-rmdir $(DESTDIR)$(LIBEXECDIR)
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/LICENSE
	-rmdir $(DESTDIR)$(DOCDIR)
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir \
	    $(wildcard systemd/*.service systemd/*.socket)))
	rm -f $(DESTDIR)$(SYSUSERSDIR)/kipvs.conf \
	    $(DESTDIR)$(TMPFILESDIR)/kipvs.conf \
	    $(DESTDIR)$(MODLOADDIR)/kipvs.conf \
	    $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir \
	    $(wildcard docs/man/*.8)))

clean:
	rm -rf build build-san build-memcheck

FORCE:

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
