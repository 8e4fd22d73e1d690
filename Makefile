# iotcored - one non-recursive Makefile (STYLE 3.10).
#
#   make            build build/iotcored and build/libiotcored.a
#   make run        build, then run the broker in the foreground (conf/iotcored.dev.conf)
#   make test       every test: unit, integration, layer check, man lint
#   make asan|ubsan the same tests built with a sanitizer (in build/asan, build/ubsan)
#   make install    PREFIX=/usr/local DESTDIR= (binaries, man pages, config)
#
# Missing Debian packages are installed by scripts/install-deps.sh when run as
# root; otherwise the command to run is printed. V=1 shows full commands.

PKG_CONFIG ?= pkg-config
PKGS = libuv openssl sqlite3 libcjson
CC ?= cc
BUILD ?= build
PREFIX ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/sysusers.d,$(PREFIX)/lib/sysusers.d)
DESTDIR ?=
WERROR ?= 1
SANITIZER ?=

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wmissing-declarations -Wpointer-arith -Wcast-qual -Wformat=2 -Wundef \
       -Wvla -fno-common
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT ?= -O2 -g
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong
ifneq ($(SANITIZER),)
OPT = -O1 -g
HARDEN =
SAN = -fsanitize=$(SANITIZER) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

# Package flags come from build/deps.mk, made (and the packages installed if
# needed) before anything else; GNU make re-reads itself once it exists.
ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
include $(BUILD)/deps.mk
endif

CPPFLAGS += -Iinclude -D_GNU_SOURCE -DIC_SRCDIR='"$(CURDIR)"' \
            -DIC_BUILDDIR='"$(abspath $(BUILD))"'
CFLAGS += -std=c11 $(OPT) $(WARN) $(HARDEN) $(SAN) $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(SAN)
LDLIBS += $(PKG_LIBS) -lpthread -lm

LIB_SRCS = \
	src/core/alloc.c src/core/error.c src/core/log.c src/core/str.c \
	src/core/buf.c src/core/notify.c src/core/map.c src/core/cron.c \
	src/core/clock.c \
	src/mqtt/codec.c src/mqtt/props.c src/mqtt/topic.c src/mqtt/trie.c \
	src/mqtt/profile.c src/mqtt/msg.c src/mqtt/session.c src/mqtt/retain.c \
	src/mqtt/router.c src/mqtt/proto.c src/mqtt/mqtt.c \
	src/config/config.c src/config/config_table.c \
	src/store/db.c src/store/migrate.c src/store/meta.c \
	src/store/sessions.c src/store/retained.c src/store/certs.c \
	src/store/thingdb.c src/iot/registry.c src/iot/things.c \
	src/net/http_parse.c src/net/ws_frame.c src/iot/sigv4.c \
	src/store/policydb.c src/iot/policies.c src/iot/policy.c src/iot/shadow_doc.c \
	src/iot/shadow.c src/store/shadows.c src/iot/lifecycle.c \
	src/iot/auth.c src/rules/sql.c src/rules/sql_time.c src/rules/aws_call.c src/rules/engine.c \
	src/rules/actions.c src/store/ruledb.c \
	src/net/listener.c src/net/conn.c src/net/tls.c src/net/pki.c \
	src/net/http.c src/net/http_client.c src/api/control.c src/api/ctl_things.c \
	src/api/ctl_certs.c src/api/ctl_policies.c src/api/ctl_seed.c \
	src/api/ctl_authz.c src/api/api_auth.c src/api/dataplane.c src/api/ctl_rules.c src/api/metrics.c \
	src/core/broker.c
LIB_SRCS += src/store/authorizerdb.c src/iot/authorizers.c src/iot/custom_auth.c \
	src/api/ctl_authorizers.c

# llhttp's C sources as Debian's node-llhttp ships them (generated code:
# compiled as is, without our warning set).
LLHTTP_DIR ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp
LLHTTP_OBJS = $(BUILD)/llhttp/api.o $(BUILD)/llhttp/http.o $(BUILD)/llhttp/llhttp.o
CPPFLAGS += -I$(LLHTTP_INC)

LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o) $(LLHTTP_OBJS)
LIB = $(BUILD)/libiotcored.a
DAEMON = $(BUILD)/iotcored
IOTCTL = $(BUILD)/iotctl

UNIT_SRCS = tests/unit/runner.c tests/unit/test_buf.c tests/unit/test_error.c \
	tests/unit/test_config.c tests/unit/test_db.c tests/unit/test_log.c \
	tests/unit/test_router.c tests/unit/test_codec.c \
	tests/unit/test_topic.c tests/unit/test_trie.c \
	tests/unit/test_registry.c tests/unit/test_things.c \
	tests/unit/test_http_parse.c tests/unit/test_sigv4.c \
	tests/unit/test_policies.c tests/unit/test_policy.c \
	tests/unit/test_shadow_doc.c tests/unit/test_sql.c \
	tests/unit/test_aws_call.c tests/unit/test_http_client.c tests/unit/test_ws_frame.c
UNIT_SRCS += tests/unit/test_custom_auth.c tests/unit/test_str.c
UNIT_OBJS = $(UNIT_SRCS:%.c=$(BUILD)/%.o)
UNIT = $(BUILD)/tests/unit_runner

BENCH = $(BUILD)/iotcored-bench

IT_SUITES = $(basename $(notdir $(wildcard tests/integration/it_*.c)))
IT_BINS = $(IT_SUITES:%=$(BUILD)/tests/%)
IT_COMMON = $(BUILD)/tests/integration/harness.o $(BUILD)/tests/integration/main.o \
  $(BUILD)/tests/integration/rawmqtt.o

.PHONY: all lib run test unit integration check check-layers check-man asan \
        ubsan valgrind install clean bench certs
.DEFAULT_GOAL := all
.SECONDARY:

all: $(DAEMON) $(IOTCTL)
lib: $(LIB)

$(BUILD)/deps.mk: scripts/install-deps.sh
	$(Q)mkdir -p $(@D)
	$(Q)sh scripts/install-deps.sh
	$(Q){ echo "PKG_CFLAGS = $$($(PKG_CONFIG) --cflags $(PKGS))"; \
	  echo "PKG_LIBS = $$($(PKG_CONFIG) --libs $(PKGS))"; \
	  echo "CHECK_CFLAGS = $$($(PKG_CONFIG) --cflags check)"; \
	  echo "CHECK_LIBS = $$($(PKG_CONFIG) --libs check)"; } > $@.tmp
	$(Q)mv $@.tmp $@

$(BUILD)/%.o: %.c $(BUILD)/deps.mk
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(if $(filter tests/%,$<),$(CHECK_CFLAGS)) -c -o $@ $<

$(BUILD)/llhttp/%.o: $(LLHTTP_DIR)/%.c $(BUILD)/deps.mk
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) -I$(LLHTTP_INC) $(OPT) $(SAN) -w -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(DAEMON): $(BUILD)/src/main.o $(BUILD)/src/cli/admin.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(IOTCTL): $(BUILD)/src/cli/iotctl.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH): $(BUILD)/tests/bench/bench.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT): $(UNIT_OBJS) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/it_%: $(BUILD)/tests/integration/it_%.o $(IT_COMMON) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

run: $(DAEMON) $(IOTCTL)
	sh scripts/run-dev.sh

unit: $(UNIT)
	$(Q)CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-30} $(UNIT)

# MQTT.js for the integration tests, from the npm registry (lockfile pinned).
JS_DEPS = tests/integration/js/node_modules/.package-lock.json
$(JS_DEPS): tests/integration/js/package.json tests/integration/js/package-lock.json
	$(Q)cd tests/integration/js && npm ci --no-audit --no-fund --silent

# The AWS IoT Device SDK v2 for JavaScript (tests/sdk, lockfile pinned).
SDK_DEPS = tests/sdk/node_modules/.package-lock.json
$(SDK_DEPS): tests/sdk/package.json tests/sdk/package-lock.json
	$(Q)cd tests/sdk && npm ci --no-audit --no-fund --silent

integration: $(DAEMON) $(IOTCTL) $(BENCH) $(IT_BINS) $(JS_DEPS) $(SDK_DEPS)
	$(Q)fail=0; for t in $(IT_BINS); do \
	  CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-60} IOTCORED_BIN=$(abspath $(DAEMON)) $$t || fail=1; \
	done; exit $$fail

check-layers:
	$(Q)sh scripts/check-layers.sh

check-man:
	$(Q)mandoc -Tlint -Wwarning man/iotcored.8 man/iotcored.conf.5 man/iotctl.1

# `make test` is the README's one test command, so it runs every test
# (STYLE's `check` split is kept as an alias).
test: check-layers check-man unit integration
check: test

# The test PKI of certs/README.md (keys are never committed).
certs:
	$(Q)sh scripts/gen-certs.sh certs

# Memcheck: the unit runner in-process and the daemon of every integration
# test under valgrind (uninitialised reads, definite leaks). Slow; not in test.
valgrind: $(UNIT) $(DAEMON) $(IOTCTL) $(BENCH) $(IT_BINS) $(JS_DEPS) $(SDK_DEPS)
	$(Q)CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite $(UNIT)
	$(Q)fail=0; for t in $(IT_BINS); do \
	  CK_DEFAULT_TIMEOUT=300 IOTCORED_TEST_VALGRIND=1 IOTCORED_BIN=$(abspath $(DAEMON)) $$t || fail=1; \
	done; exit $$fail

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SANITIZER=address test
ubsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/ubsan SANITIZER=undefined test

# Side-by-side benchmark against Mosquitto; not part of `make test` (the
# figures are not pass/fail on a shared machine; a smoke run is).
bench: $(DAEMON) $(BENCH)
	$(Q)sh scripts/bench.sh

install: $(DAEMON) $(IOTCTL)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(SYSCONFDIR)/iotcored
	install -m 0755 $(DAEMON) $(DESTDIR)$(PREFIX)/bin/iotcored
	install -m 0755 $(IOTCTL) $(DESTDIR)$(PREFIX)/bin/iotctl
	install -m 0644 man/iotctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/iotctl.1
	install -m 0644 man/iotcored.8 $(DESTDIR)$(PREFIX)/share/man/man8/iotcored.8
	install -m 0644 man/iotcored.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/iotcored.conf.5
	test -e $(DESTDIR)$(SYSCONFDIR)/iotcored/iotcored.conf || \
	  install -m 0644 conf/iotcored.conf $(DESTDIR)$(SYSCONFDIR)/iotcored/iotcored.conf
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	  conf/iotcored.service > $(DESTDIR)$(SYSTEMDUNITDIR)/iotcored.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/iotcored.service
	install -m 0644 conf/iotcored.sysusers $(DESTDIR)$(SYSUSERSDIR)/iotcored.conf

# The container image and docker/compose.yml's CI example end to end (podman
# and podman-compose, else docker): builds the images, runs the test
# container's mutual-TLS round trip, removes containers and volumes. Takes
# minutes; not part of `make test`.
.PHONY: docker-test
docker-test:
	$(Q)sh scripts/docker-test.sh

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/src/main.d \
  $(BUILD)/src/cli/admin.d $(BUILD)/src/cli/iotctl.d \
  $(BUILD)/tests/bench/bench.d \
  $(IT_COMMON:.o=.d) $(IT_SUITES:%=$(BUILD)/tests/integration/%.d)
