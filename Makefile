# authrelay -- top-level build.  Plain GNU make.
#
#   make                 build the four programs into $(BUILD)/
#   make check           build and run every test suite (unit, protocol,
#                        milter, loginwatch, metrics, ctl, e2e, sendmail, fuzz smoke),
#                        then PGSQL_SUITES again against PostgreSQL
#   make SAN=1 check     the same under AddressSanitizer + UBSan
#   make bench           benchmarks (never part of check)
#   make fuzz            libFuzzer targets, FUZZ_SECONDS each
#   make demo [KEEP=1]   the guided tour on a real Postfix + Dovecot
#   make deps            install the Debian packages build and tests need
#   make install         PREFIX, DESTDIR honoured
#   make deb             the Debian package, build/authrelay_VERSION_amd64.deb
#   make deb-check       build, lintian, install/upgrade/remove/purge it (root)
#
# Layout rules (so that nobody needs to edit this file to add a module):
#   lib/*.c                         -> $(BUILD)/libauthrelay.a
#   <prog>/*.c except main.c        -> $(BUILD)/<prog>.a
#   <prog>/main.c + <prog>.a + lib  -> the program
#   tests/unit/<folder>/check_*.c   -> $(BUILD)/tests/<folder>/check_* linked
#                                      with <folder>.a (if any), the test
#                                      helpers and lib
#   tests/unit/common/*.c           -> $(BUILD)/tests/common.a, the helpers
#                                      every Check suite shares
#   tests/<suite>/run.sh            -> run by `make check` in SUITES order

PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share/authrelay
DOCDIR    ?= $(PREFIX)/share/doc/authrelay
EXAMPLESDIR ?= $(DOCDIR)/conf-examples
SYSCONFDIR ?= /etc
VERSION   := 0.1.0

CC        ?= cc
PKG_CONFIG ?= pkg-config
PKGS      := sqlite3 libssl libcrypto libsasl2 libmicrohttpd jansson libpq
HAVE_SYSTEMD := $(shell $(PKG_CONFIG) --exists libsystemd 2>/dev/null && echo 1)
ifeq ($(HAVE_SYSTEMD),1)
PKGS      += libsystemd
SYSTEMD_DEF := -DHAVE_SYSTEMD=1
endif

ifeq ($(SAN),1)
BUILD     ?= build/san
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD     ?= build
SANFLAGS  :=
endif

# CPPFLAGS, CFLAGS and LDFLAGS from the environment or the command line
# (dpkg-buildflags' hardening flags) come first; ours are appended, also
# to a command-line value (override), so neither side loses its flags.
WARN      := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
override CPPFLAGS += -D_GNU_SOURCE -DAUTHRELAY_VERSION='"$(VERSION)"' \
             -DAUTHRELAY_SYSCONFDIR='"$(SYSCONFDIR)"' $(SYSTEMD_DEF) \
             -Ilib -I$(BUILD)/gen $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
CFLAGS    ?= -O2 -g
override CFLAGS += -std=c11 $(WARN) $(SANFLAGS) -fPIE -MMD -MP
override LDFLAGS += $(SANFLAGS) -pie
override LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lmilter -pthread
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)

PROGS_DIRS := policyd milter popbeforesmtp ctl
PROG_policyd       := authrelay-policyd
PROG_milter        := authrelay-milter
PROG_popbeforesmtp := authrelay-loginwatch
PROG_ctl           := authrelayctl

LIB_SRCS  := $(wildcard lib/*.c)
LIB_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS)) $(BUILD)/gen/sql_migrations.o \
             $(BUILD)/gen/sql_audit.o $(BUILD)/gen/sql_report.o $(BUILD)/gen/sql_pg_migrations.o \
             $(BUILD)/gen/sql_pg_audit.o
LIB_A     := $(BUILD)/libauthrelay.a

# Migrations are data (sql/NNN-name.sql); they are compiled into the binaries
# so a daemon never depends on finding them at run time.
MIGRATIONS := $(sort $(wildcard sql/[0-9][0-9][0-9]-*.sql))
PG_MIGRATIONS := $(sort $(wildcard sql/pgsql/[0-9][0-9][0-9]-*.sql))

PROGRAMS  := $(foreach d,$(PROGS_DIRS),$(if $(wildcard $(d)/main.c),$(BUILD)/$(PROG_$(d))))

UNIT_SRCS := $(wildcard tests/unit/*/check_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_COMMON_OBJS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%.o,$(wildcard tests/unit/common/*.c))
UNIT_COMMON_A := $(BUILD)/tests/common.a

# Suites run by `make check`, in this order; a suite without run.sh is skipped.
SUITES    := protocol milter loginwatch metrics ctl faults e2e sendmail fuzz
# The backend matrix: these suites run a second time against a private
# PostgreSQL 15 (AUTHRELAY_BACKEND=pgsql, tests/pg.sh); each skips, with
# the reason, the cases only SQLite has (its file's modes, a file removed
# or replaced, a full disk) and the sending limits (not on PostgreSQL
# yet), and adds PostgreSQL's own (faults: the server stopped, a table
# locked 10 s; ctl: init migrates, check names the server). e2e is not
# in the matrix: its s95-several-hosts starts its own PostgreSQL for two
# MX hosts and an IMAP host. The matrix took 4.7 minutes of a 13-minute
# make check on 2 busy cores (load 4 to 8).
PGSQL_SUITES := protocol milter loginwatch metrics ctl faults sendmail

.PHONY: all check check-unit check-suites bench fuzz demo deps install clean \
        install-user format deb deb-deps deb-check
.SUFFIXES:
.SECONDARY:

all: $(PROGRAMS)

$(BUILD)/gen/sql_migrations.c: $(MIGRATIONS) tools/embed-sql.sh
	@mkdir -p $(dir $@)
	sh tools/embed-sql.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/sql_migrations.o: $(BUILD)/gen/sql_migrations.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/sql_pg_migrations.c: $(PG_MIGRATIONS) tools/embed-sql.sh
	@mkdir -p $(dir $@)
	sh tools/embed-sql.sh --table sql_pg_migrations $(PG_MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/sql_pg_migrations.o: $(BUILD)/gen/sql_pg_migrations.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The ready audit queries (authrelayctl audit --query NAME).
$(BUILD)/gen/sql_audit.c: sql/audit.sql tools/embed-sql.sh
	@mkdir -p $(dir $@)
	sh tools/embed-sql.sh --text sql_audit_text sql/audit.sql > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/sql_audit.o: $(BUILD)/gen/sql_audit.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -include sql_audit.h -c -o $@ $<

# The same queries in PostgreSQL's SQL.
$(BUILD)/gen/sql_pg_audit.c: sql/pgsql/audit.sql tools/embed-sql.sh
	@mkdir -p $(dir $@)
	sh tools/embed-sql.sh --text sql_pg_audit_text sql/pgsql/audit.sql > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/sql_pg_audit.o: $(BUILD)/gen/sql_pg_audit.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -include sql_audit.h -c -o $@ $<

# The questions of authrelayctl status and report.
$(BUILD)/gen/sql_report.c: sql/report.sql tools/embed-sql.sh
	@mkdir -p $(dir $@)
	sh tools/embed-sql.sh --text sql_report_text sql/report.sql > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/sql_report.o: $(BUILD)/gen/sql_report.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -include sql_report.h -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# One archive per program folder (everything but main.c), so unit tests can
# link a program's modules without its main().
define prog_rules
$(d)_OBJS := $$(patsubst %.c,$$(BUILD)/%.o,$$(filter-out $(d)/main.c,$$(wildcard $(d)/*.c)))
$$(BUILD)/$(d).a: $$($(d)_OBJS)
	@rm -f $$@
	ar rcs $$@ $$^
$$(BUILD)/$(PROG_$(d)): $$(BUILD)/$(d)/main.o $$(BUILD)/$(d).a $$(LIB_A)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(PROGS_DIRS),$(eval $(prog_rules)))

$(BUILD)/tests/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -I$(firstword $(subst /, ,$*)) -Itests/unit/common $(CHECK_CFLAGS) $(CFLAGS) -c -o $@ $<

$(UNIT_COMMON_A): $(UNIT_COMMON_OBJS)
	@rm -f $@
	ar rcs $@ $^

# tests/unit/lib/check_x.c links lib only; tests/unit/policyd/check_y.c links
# policyd.a too. Both link the shared test helpers.
.SECONDEXPANSION:
$(BUILD)/tests/%: $(BUILD)/tests/%.o $$(if $$(filter lib,$$(firstword $$(subst /, ,$$*))),,$(BUILD)/$$(firstword $$(subst /, ,$$*)).a) $(UNIT_COMMON_A) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

check: deps all $(UNIT_BINS)
	@$(MAKE) --no-print-directory check-unit check-suites

check-unit: $(UNIT_BINS)
	@sh tools/run-unit.sh $(UNIT_BINS)

check-suites: all
	@set -e; for s in $(SUITES); do \
	  if [ -x tests/$$s/run.sh ] || [ -f tests/$$s/run.sh ]; then \
	    echo "== suite $$s"; \
	    AUTHRELAY_BUILD=$(abspath $(BUILD)) SAN=$(SAN) bash tests/$$s/run.sh; \
	  fi; \
	done; \
	for s in $(PGSQL_SUITES); do \
	  echo "== suite $$s (pgsql)"; \
	  AUTHRELAY_BACKEND=pgsql AUTHRELAY_BUILD=$(abspath $(BUILD)) SAN=$(SAN) bash tests/$$s/run.sh; \
	done

# Every benchmark runs, even after one misses its target; the list of
# those that missed comes last and sets the exit status.
bench: deps all
	@missed=""; for b in tests/bench/*.sh; do [ -f "$$b" ] || continue; \
	  echo "== bench $$b"; AUTHRELAY_BUILD=$(abspath $(BUILD)) bash "$$b" || missed="$$missed $$b"; \
	done; if [ -n "$$missed" ]; then echo "bench: missed a target:$$missed"; exit 1; fi; \
	echo "bench: every target met"

FUZZ_SECONDS ?= 600
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh --long

demo: deps all
	AUTHRELAY_BUILD=$(abspath $(BUILD)) KEEP=$(KEEP) bash tests/e2e/demo.sh

deps:
	@sh tools/deps.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(DATADIR)/sql $(DESTDIR)$(EXAMPLESDIR)
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(SBINDIR)/
	for m in $(wildcard */*.8); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done
	for m in $(wildcard */*.5); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done
	install -m 0644 $(wildcard sql/*.sql) $(DESTDIR)$(DATADIR)/sql/
	install -d $(DESTDIR)$(DATADIR)/sql/pgsql
	install -m 0644 $(wildcard sql/pgsql/*.sql) $(DESTDIR)$(DATADIR)/sql/pgsql/
	cp -R conf-examples/. $(DESTDIR)$(EXAMPLESDIR)/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	@# The example config becomes the config only where there is none yet:
	@# an admin's edited file is never overwritten.
	install -d $(DESTDIR)$(SYSCONFDIR)/authrelay
	[ -e $(DESTDIR)$(SYSCONFDIR)/authrelay/authrelay.conf ] || \
	  install -m 0644 conf-examples/authrelay.conf $(DESTDIR)$(SYSCONFDIR)/authrelay/authrelay.conf
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory install-user; fi

# What a distribution package's postinst does: system user and state dir.
install-user:
	getent passwd authrelay >/dev/null || useradd --system --home-dir /var/lib/authrelay \
	  --shell /usr/sbin/nologin --user-group authrelay
	install -d -o authrelay -g authrelay -m 0750 /var/lib/authrelay

# The Debian package (debian/), built with dpkg-buildpackage in a copy of
# the tree, so the worktree stays clean; the .deb, .changes, .buildinfo and
# build log land in $(BUILD)/.
deb: deb-deps
	bash tools/deb-build.sh . $(abspath $(BUILD))

deb-deps:
	@sh tools/deps.sh --deb

# Builds the package, runs lintian and blhc, then installs, upgrades,
# removes and purges it on this machine (root; see tests/deb/run.sh).
deb-check: deb-deps
	AUTHRELAY_BUILD=$(abspath $(BUILD)) bash tests/deb/run.sh

format:
	clang-format -i lib/*.[ch] $(foreach d,$(PROGS_DIRS),$(wildcard $(d)/*.[ch]))

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
