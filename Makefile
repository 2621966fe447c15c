# Watchkeeper build. All output lands under build/ (ignored by git).
#   make            release daemon: build/watchkeeper
#   make run        install deps, build, start a private Redis, the daemon and the console
#   make test       install deps, build the ASan+UBSan variant, run unit + integration tests
#   make bench      install deps, build release, drive signed /oncall with wrk (and the
#                   hot path's floors, build/floor_lws, beside it; Teams against Slack:
#                   scripts/bench_teams.sh)
#   make fuzz       libFuzzer targets (clang), each run for a bounded time
#   make teams-package  the Microsoft Teams app zip: build/teams/watchkeeper-teams.zip (CONFIG=FILE)

CC      ?= cc
PKGS    := libwebsockets libcurl jansson hiredis openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wvla
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -pthread -MMD -MP $(WARN) -I. $(PKG_CFLAGS) \
               -DWK_VERSION='"$(VERSION)"'
REL_CFLAGS  := $(BASE_CFLAGS) -O2 -g
SAN_CFLAGS  := $(BASE_CFLAGS) -DWK_TEST_HOOKS -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
LDLIBS  := $(PKG_LIBS) -pthread -lm

LIB_SRC := $(filter-out bot/main.c,$(wildcard bot/*.c adapters/*.c commands/*.c))
MAIN_SRC := bot/main.c
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

REL_OBJ := $(patsubst %.c,build/rel/%.o,$(LIB_SRC))
SAN_OBJ := $(patsubst %.c,build/san/%.o,$(LIB_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,build/san/tests/%,$(UNIT_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

.PHONY: all san run test bench fuzz clean deps
# Keep objects make would otherwise treat as intermediate and delete.
.SECONDARY:
all: build/watchkeeper

deps:
	@scripts/setup.sh

build/watchkeeper: $(REL_OBJ) build/rel/bot/main.o
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c -o $@ $<

san: build/san/watchkeeper $(UNIT_BIN)

# Slash command names Slack keeps for itself, from their list in config/, as C
# string literals for adapters/slack_manifest.c. A line that isn't a comment,
# blank or "/name" is copied as is, so the compiler rejects it.
build/gen/slack_reserved.inc: config/slack-reserved-commands.txt
	@mkdir -p $(dir $@)
	sed -e '/^#/d' -e '/^[[:space:]]*$$/d' -e 's|^/\([a-z0-9_-]*\)[[:space:]]*$$|"\1",|' $< > $@
build/rel/adapters/slack_manifest.o build/san/adapters/slack_manifest.o \
build/fuzz/obj/adapters/slack_manifest.o: build/gen/slack_reserved.inc

build/san/watchkeeper: $(SAN_OBJ) build/san/bot/main.o
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(LDLIBS)

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c -o $@ $<

build/san/tests/%: tests/unit/%.c $(SAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $< $(SAN_OBJ) $(LDLIBS) -lcmocka

run: deps all
	@scripts/run.sh

test: deps
	@$(MAKE) --no-print-directory san
	@scripts/test.sh

bench: deps
	@$(MAKE) --no-print-directory all build/floor_lws build/bench_schedule build/bench_sms build/bench_delegate build/fake_twilio \
		build/fake_connector build/bench_jwt
	@build/bench_schedule
	@scripts/bench.sh
	@scripts/bench_teams.sh
	@scripts/bench_sms.sh
	@scripts/bench_fair.py
	@scripts/bench_timers.py
	@scripts/bench_alerts.py
	@scripts/bench_socket.py
	@scripts/bench_escalation.py
	@scripts/bench_delegate.sh

build/bench_schedule: tests/bench/bench_schedule.c $(REL_OBJ)
	$(CC) $(REL_CFLAGS) -o $@ $< $(REL_OBJ) $(LDLIBS)

build/bench_delegate: tests/bench/bench_delegate.c $(REL_OBJ)
	$(CC) $(REL_CFLAGS) -o $@ $< $(REL_OBJ) $(LDLIBS)

build/bench_sms: tests/bench/bench_sms.c $(REL_OBJ)
	$(CC) $(REL_CFLAGS) -o $@ $< $(REL_OBJ) $(LDLIBS)

# RS256 verification of one Teams token on a cached key, for bench_teams.sh's CPU split.
build/bench_jwt: tests/bench/bench_jwt.c $(REL_OBJ)
	$(CC) $(REL_CFLAGS) -o $@ $< $(REL_OBJ) $(LDLIBS)

# The hot path's floor for bench.sh (issue 13): standalone, libwebsockets and hiredis only.
build/floor_lws: tests/bench/floor_lws.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $< -lwebsockets -lhiredis -pthread

# The fake Twilio for the SMS bench: standalone, libc only, on the fakes' HTTP server (fake_http.c).
build/fake_twilio: tests/bench/fake_twilio.c tests/bench/fake_http.c tests/bench/fake_http.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -o $@ $< tests/bench/fake_http.c

# The fake Bot Connector (and token endpoint) for the Teams bench: the same, on fake_http.c.
build/fake_connector: tests/bench/fake_connector.c tests/bench/fake_http.c tests/bench/fake_http.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -o $@ $< tests/bench/fake_http.c

# Fuzz targets link the library objects built by clang with libFuzzer + ASan.
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined
FUZZ_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRC))
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)
fuzz: deps
	@$(MAKE) --no-print-directory CC=clang $(FUZZ_BIN)
	@scripts/fuzz.sh $(FUZZ_BIN)

clean:
	rm -rf build

-include $(REL_OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d) build/rel/bot/main.d build/san/bot/main.d

.PHONY: teams-package
teams-package:
	/usr/bin/python3 scripts/teams_package.py $(if $(CONFIG),-c $(CONFIG))

# Install (scripts/install.sh): PREFIX/bin/watchkeeper, the unit in UNITDIR (default
# PREFIX/lib/systemd/system) with its paths rewritten to PREFIX and SYSCONFDIR, the example
# config as SYSCONFDIR/watchkeeper/watchkeeper.json and a 0600 env file (neither ever
# overwritten); DESTDIR stages it. As root without DESTDIR it creates the system user.
# BINARY= installs another build (the tests install build/san/watchkeeper).
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
BINARY     ?= build/watchkeeper
INSTALL_ARGS = --prefix "$(PREFIX)" --sysconfdir "$(SYSCONFDIR)" --unitdir "$(UNITDIR)" \
               $(if $(DESTDIR),--destdir "$(DESTDIR)")
.PHONY: install uninstall bundle bundle-test
install: $(BINARY)
	@scripts/install.sh $(INSTALL_ARGS) --binary "$(BINARY)"
uninstall:
	@scripts/uninstall.sh $(INSTALL_ARGS)

# The offline installer for Debian 12 amd64: build/watchkeeper-VERSION-debian12-amd64.tar.gz
# (the binary, the Debian packages it needs, install.sh, uninstall.sh). bundle-test installs
# it in a fresh minimal Debian 12 root with no network (needs root; not part of make test).
bundle: all
	@scripts/bundle.sh
bundle-test: bundle
	@scripts/bundle_test.sh

# The container image (config/Containerfile) built and run with podman against a private Redis
# (needs root and podman; not part of make test).
.PHONY: container-test
container-test:
	@scripts/container_test.sh
