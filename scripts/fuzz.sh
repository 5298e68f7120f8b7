#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of Fuzz/ (a package of its own, with the fuzzer and address
# sanitizers) and runs each for FUZZ_SECONDS (default 60) from its seed corpus in Fuzz/corpus/<target>/.
#
#   FUZZ_SECONDS=600 make fuzz                    # longer runs
#   FUZZ_TARGETS="FuzzCSVReader FuzzWebhook" make fuzz
#   bash scripts/fuzz.sh build                    # build only
#   FUZZ_BUILD_DIR=~/.cache/lethe-fuzz make fuzz  # a build folder kept between clones (CI)
#
# The build compiles the package's dependencies again with the sanitizers (about 11 minutes on two cores
# the first time, seconds afterwards), in Fuzz/.build unless FUZZ_BUILD_DIR says otherwise.
# New inputs the fuzzer finds go to .lethe/fuzz/corpus/<target>/ (not the repository's seeds), crashes to
# .lethe/fuzz/crashes/<target>/; the first crash stops that target and fails the run. Reproduce one with
# `Fuzz/.build/debug/<target> <crash file>`, then keep it as a regression test in the module's Tests/ target.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
ALL_TARGETS="FuzzCSVReader FuzzDateParser FuzzConfigLoader FuzzManifest FuzzWebhook"
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"
WORK="${FUZZ_WORK:-$ROOT/.lethe/fuzz}"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/Fuzz/.build}"
# Debug: Swift's bounds and overflow checks stay on, and @testable reaches the CSV reader's internals.
FLAGS=(-c debug --scratch-path "$BUILD" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)

build() {
    local started=$SECONDS
    mkdir -p "$WORK"
    if ! (cd Fuzz && swift build "${FLAGS[@]}") >"$WORK/build.log" 2>&1; then
        grep -v "Cannot export local symbol" "$WORK/build.log" | tail -n 40 >&2
        echo "fuzz: the build failed (whole log: $WORK/build.log)" >&2
        exit 1
    fi
    echo "fuzz: built in $((SECONDS - started)) s"
}

run() {
    local target=$1 failed=0 dictionary=()
    mkdir -p "$WORK/corpus/$target" "$WORK/crashes/$target" "$WORK/scratch"
    case $target in FuzzConfigLoader | FuzzManifest) dictionary=(-dict=Fuzz/dictionaries/yaml.dict) ;; esac
    echo "fuzz: $target for ${SECONDS_EACH} s"
    # The found corpus first (new inputs are written there), then the seeds (read only). Leak reports are
    # off, per input and at exit: Foundation leaks a buffer each time it reads an empty file.
    # Swift's own crash backtracer is off: it would hold a crash for minutes symbolising the large binary.
    ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" SWIFT_BACKTRACE=enable=no \
        LETHE_FUZZ_SCRATCH="$WORK/scratch" "$BUILD/debug/$target" \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="$WORK/crashes/$target/" ${dictionary[@]+"${dictionary[@]}"} \
        "$WORK/corpus/$target" "Fuzz/corpus/$target" >"$WORK/$target.log" 2>&1 || failed=1
    grep -E "^#[0-9]+[[:space:]]+DONE" "$WORK/$target.log" || true
    if [ "$failed" = 1 ]; then
        echo "fuzz: $target FAILED; the last lines of $WORK/$target.log:" >&2
        tail -n 40 "$WORK/$target.log" >&2
        return 1
    fi
}

build
[ "${1:-}" = build ] && exit 0
status=0
for target in $TARGETS; do run "$target" || status=1; done
exit $status
