# Stampede: the two commands are `make run` and `make test`. Both set up a fresh machine first.
SWIFT       ?= swift
ORACLE      := Tests/Oracle/.build/release/hdr-oracle
RELEASE_BIN := .build/release/stampede

.PHONY: all setup build release dist test test-fast run perf oracle broker compose-check fuzz soak clean

all: build

## setup: install system packages, librdkafka >= 2.3, Python test peers and Tansu (idempotent)
setup:
	@bash scripts/setup.sh

## build: debug build of everything
build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product stampede

# A tarball for dedicated driver/orchestrator boxes (bin/, lib/ with librdkafka, systemd/, env/):
# the Swift runtime linked in statically, librdkafka found through $ORIGIN/../lib.
dist: setup
	$(SWIFT) build -c release --product stampede --static-swift-stdlib --scratch-path .build-dist \
		-Xlinker -rpath -Xlinker '$$ORIGIN/../lib'
	scripts/dist.sh

# The HdrHistogram Swift port, built as a separate package (see Tests/Oracle/Package.swift).
oracle: setup
	$(SWIFT) build --package-path Tests/Oracle -c release

## test: the whole suite: unit and in-memory parser tests, interop with Python hdrhistogram, the
## hdrhistogram-swift oracle, stampede against nginx, the Kafka bus and drivers against Tansu
## (and the release tarball of `make dist`, run from a scratch directory)
# Serial: many tests start servers and measure rates or timeouts; on two cores, suites running side
# by side would measure each other.
test: setup oracle compose-check dist
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel

## test-fast: the in-memory tier: the connection state machine (manual clock), HAR import, sessions' cookie
## jar, captures and think time, the HTTP/1.1 and
## WebSocket parsers, histogram recording and layout, the model's validator, the test book and
## test runs over the in-memory bus. No server, broker or browser; about a minute after a build.
FAST_TESTS := ConnectionStateMachineTests|MessagingTests.OffsetGapTests|HARImportTests\.(CorrelatorTests|SelectionTests)|LoadGeneratorTests\.(ScheduleTests|SteeringScheduleTests|TimingsFoldTests)|OrchestratorTests.ClockOffsetTests|SessionsTests|HTTP1Tests|WebSocketTests|StampedeModelTests|HistogramTests\.(RecordingTests|LayoutTests|ConcurrencyTests|MemoryTests|SummaryTests|SparseAddingTests|Base64Tests)|OrchestratorTests\.(TestBookTests|TestRunTests|SteeringBookTests|TimingsMergeTests)
test-fast: setup oracle
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter '$(FAST_TESTS)'

## compose-check: docker-compose.yml is valid (no Docker engine needed)
compose-check: setup
	docker-compose -f docker-compose.yml config -q

## run: the demo: a local target, an avalanche and a tsunami test against it (scripts/demo.sh)
run: release
	bash scripts/demo.sh $(RELEASE_BIN)

## perf: benchmarks in Perf/ (release builds), each against a peer measured in the same run:
## the histogram against hdrhistogram-swift, stampede bench against wrk on the same nginx (plain,
## TLS, 15,000 connections), mixes against one URL, the orchestrator with 20 and 100 drivers (and its
## merge CPU in process, merge-bench), the
## peers table (wrk, ab, h2load, hey, Locust), instruction and system-call counts against wrk, a
## profile, the latency overhead against wrk and h2load; the table of every row is written to
## Perf/results/latest.md (see Perf/README.md)
PERF_ROWS := Perf/results/rows.jsonl
perf: setup oracle release dist
	mkdir -p Perf/results && rm -f $(PERF_ROWS)
	$(SWIFT) build -c release --product histogram-bench
	.build/release/histogram-bench --peer $(ORACLE) --summary $(PERF_ROWS)
	$(SWIFT) build -c release --product kafka-bench
	.build/release/kafka-bench .deps/bin/tansu
	$(SWIFT) build -c release --product merge-bench
	.build/release/merge-bench 100 20 3 10 100 20 1 10 10 20 3 10 | tee Perf/results/merge.md
	python3 Perf/http_vs_wrk.py $(RELEASE_BIN) --summary $(PERF_ROWS)
	python3 Perf/workload_mix.py $(RELEASE_BIN) --summary $(PERF_ROWS)
	python3 Perf/session_journey.py $(RELEASE_BIN) --summary $(PERF_ROWS)
	python3 Perf/connections.py $(RELEASE_BIN) --summary $(PERF_ROWS)
	.venv/bin/python Perf/orchestrator_scale.py $(RELEASE_BIN) --summary $(PERF_ROWS)
	.venv/bin/python Perf/orchestrator_scale.py $(RELEASE_BIN) --drivers 100 --clients 20 --summary $(PERF_ROWS)
	.venv/bin/python Perf/orchestrator_scale.py $(RELEASE_BIN) --drivers 100 --clients 20 --names 20 --scenarios 3 --summary $(PERF_ROWS)
	.venv/bin/python Perf/many_names.py $(RELEASE_BIN) --restart | tee Perf/results/many-names.md
	bash scripts/perf-peers.sh
	.venv/bin/python Perf/peers_table.py $(RELEASE_BIN) --static .build-dist/release/stampede --markdown Perf/results/peers.md --summary $(PERF_ROWS)
	python3 Perf/costs.py $(RELEASE_BIN) --markdown Perf/results/costs.md --profile Perf/results/profile.md --summary $(PERF_ROWS)
	python3 Perf/scenarios_cost.py $(RELEASE_BIN) --markdown Perf/results/scenarios.md --summary $(PERF_ROWS)
	python3 Perf/timings_cost.py $(RELEASE_BIN) --markdown Perf/results/timings.md --summary $(PERF_ROWS)
	python3 Perf/latency_overhead.py $(RELEASE_BIN) --markdown Perf/results/overhead.md --summary $(PERF_ROWS)
	python3 Perf/wakeups.py $(RELEASE_BIN) > Perf/results/wakeups.md
	python3 Perf/summary.py $(PERF_ROWS) Perf/results/peers.md Perf/results/costs.md Perf/results/profile.md Perf/results/overhead.md Perf/results/timings.md > Perf/results/latest.md
	cat Perf/results/latest.md

## broker: a Tansu Kafka broker on 127.0.0.1:9092 for development (in-memory; Ctrl-C stops it)
broker: setup
	.deps/bin/tansu broker --listener-url tcp://127.0.0.1:9092 --advertised-listener-url tcp://127.0.0.1:9092

clean:
	rm -rf .build Tests/Oracle/.build

## fuzz: libFuzzer on the HTTP response and request parsers, the WebSocket frame parser, the
## histogram decoder, the bus message decoder (with its range checks) and the capture regex engine, FUZZ_SECONDS each (default 60; the hardening runs used 300). Crashes are
## written to .build-fuzz/artifacts/; replay one with .build/debug/stampede-fuzz FILE.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := http-response http-request websocket histogram bus-message capture-regex
# Coverage instrumentation and libFuzzer's driver without its main(): SwiftPM links executables with
# main aliased to the module's entry point, which the harness uses to start libFuzzer.
LIBFUZZER := $(firstword $(wildcard $(dir $(shell which swift))../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a))
fuzz: setup
	$(SWIFT) build -c release --product stampede-fuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
	  -Xswiftc -DFUZZING -Xswiftc -parse-as-library -Xlinker $(LIBFUZZER) -Xlinker -lstdc++
	mkdir -p .build-fuzz/artifacts
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p .build-fuzz/corpus/$$t && cp -n Fuzz/corpus/$$t/* .build-fuzz/corpus/$$t/ 2>/dev/null; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  STAMPEDE_FUZZ=$$t .build-fuzz/release/stampede-fuzz .build-fuzz/corpus/$$t \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
	    -artifact_prefix=.build-fuzz/artifacts/$$t- 2>&1 | grep -E '^(#|stat::|==|SUMMARY|Done)' | tail -6 || exit 1; \
	done

## soak: a 30-minute tsunami through the full distributed system; fails if any process's RSS grows
## by more than 20 % or its file descriptors by more than 16 (SOAK_SECONDS, SOAK_RATE to change it)
soak: setup release
	.venv/bin/python Perf/soak.py $(RELEASE_BIN)
