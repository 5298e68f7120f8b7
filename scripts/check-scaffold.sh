#!/usr/bin/env bash
# Checks the new-connector plugin end to end on a fresh copy of this repository's HEAD: scaffolds a
# source (Zoho) and a notice sink (Kakao), builds everything with them, and expects their conformance
# tests to fail exactly as an empty connector must (every check listed, each naming the missing
# requirement); a second scaffold of an existing name must fail and change nothing.
#
# The copy lives in LETHE_SCAFFOLD_DIR (default: $TMPDIR/lethe-scaffold-check) and keeps its .build
# between runs, so only the first run builds from scratch.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${LETHE_SCAFFOLD_DIR:-${TMPDIR:-/tmp}/lethe-scaffold-check}"
started=$SECONDS

fail() { echo "check-scaffold: $*" >&2; exit 1; }
# Words, one set: sorted, on one line.
words() { tr -s ' \n' '\n\n' | sed '/^$/d' | LC_ALL=C sort | tr '\n' ' '; }

if [ -d "$work/.git" ]; then
    git -C "$work" fetch -q "$repo" HEAD
    git -C "$work" checkout -q --force --detach FETCH_HEAD
    git -C "$work" clean -qfdx -e .build -e Package.resolved
else
    rm -rf "$work"
    git clone -q "$repo" "$work"
fi
# The same dependency versions as this working copy (Package.resolved is not committed).
if [ -f "$repo/Package.resolved" ]; then cp "$repo/Package.resolved" "$work/Package.resolved"; fi
cd "$work"

scaffold() { swift package --allow-writing-to-package-directory new-connector "$@"; }

scaffold --name Zoho --kind source
scaffold --name Kakao --kind sink
git status --porcelain > "$work/.build/scaffold-status.txt"

# An existing name (here and in the shipped connectors) fails and changes nothing.
for existing in Zoho CSV Csv; do
    if scaffold --name "$existing" --kind source 2>"$work/.build/scaffold-again.txt"; then
        fail "a second scaffold of $existing succeeded"
    fi
    grep -q "a connector named $existing exists" "$work/.build/scaffold-again.txt" \
        || fail "the refusal of $existing does not say why: $(cat "$work/.build/scaffold-again.txt")"
    git status --porcelain | diff -q - "$work/.build/scaffold-status.txt" >/dev/null \
        || fail "a refused scaffold of $existing changed files"
done

swift build --build-tests 2>&1 | grep -E "error:|warning: .*(Zoho|Kakao)" && fail "the scaffolded connectors do not build cleanly"
swift build --build-tests >/dev/null 2>&1 || fail "the build failed"

# Expects the suite to fail for exactly the given checks, and a failure to name the requirement left to write.
expect_listed() {
    local filter=$1 missing=$2 expected=$3 log="$work/.build/scaffold-$1.txt" listed
    if swift test --skip-build --filter "$filter" >"$log" 2>&1; then fail "$filter passed: an empty connector must fail"; fi
    listed=$(sed -nE 's/^✘ Test conformance\(_:\) recorded an issue with 1 argument check → ([A-Za-z]+) at [^ ]+: (Caught error: )?(.*)$/\1: \3/p' "$log" | LC_ALL=C sort)
    [ "$(cut -d: -f1 <<<"$listed" | words)" = "$(words <<<"$expected")" ] \
        || fail "$filter: the failing checks are $(cut -d: -f1 <<<"$listed" | words), expected $(words <<<"$expected") (see $log)"
    grep -q "$missing" <<<"$listed" || fail "$filter: no failure names '$missing' (see $log)"
    echo "$filter lists what is missing:"
    sed 's/^/  /' <<<"$listed"
}
# An empty source fails every check (its first missing piece is apply, which seeding needs).
expect_listed ZohoConnectorTests "ZohoConnector.apply(_:) is not implemented yet" \
    "$(sed -nE 's/^    case ([A-Za-z]+)$/\1/p' Tests/ConnectorConformance/ConformanceCheck.swift | tr '\n' ' ')"
# An empty notice sink fails every notice check but two: a batch is not applicable to a sink that
# does not batch, and an error that names nothing holds no personal data.
expect_listed KakaoSinkTests "KakaoSink.deliver(_:) is not implemented yet" \
    "deliveryReturnsReceipt redeliveryReturnsSameReceipt redeliveryDeliversNothingNew koreanTextSurvives badRecipientIsPermanent transportFailureIsTransient"

echo "check-scaffold: ok in $((SECONDS - started)) s (scaffolded, built, the suites list what is missing; an existing name changes nothing)"
