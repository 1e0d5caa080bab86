#!/usr/bin/env bash
# The test command (README): unit, parity, fuzz and bad-input tests, then the ONNX conformance suite and the generated
# models, then the kernel tests as ARM64 code under qemu (scripts/arm64.sh).
# Installs missing Debian packages, fetches the real models, makes the test speech and exports the generated
# models first (all idempotent).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./scripts/install-deps.sh test
./scripts/fetch-models.sh
./scripts/make-speech.sh
./scripts/make-test-models.sh
./scripts/make-qdq-models.sh
data=/usr/share/libonnx-testdata/data

log="$(mktemp)"
set +e
dotnet test EdgeNet.sln -c Release --nologo 2>&1 | tee "$log"
unit_status=${PIPESTATUS[0]}
set -e
unit_passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
unit_failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
if (( unit_status != 0 && unit_failed == 0 )); then unit_failed=1; fi

# Every conformance folder of every op EdgeNet supports must pass (tests/conformance-expected.txt) ...
mapfile -t expected < <(grep -v '^#' tests/conformance-expected.txt | sed "s|^|$data/|")
set +e
./edgenet test-data "${expected[@]}" --quiet | tee "$log"
conf_passed=$(tail -1 "$log" | awk '{print $1}')
conf_failed=$(tail -1 "$log" | awk '{print $3}')
# ... and so must every generated model against torch's own output (scripts/make-test-models.sh).
generated=(models/generated/*/)
./edgenet test-data "${generated[@]}" --quiet | tee "$log"
gen_passed=$(tail -1 "$log" | awk '{print $1+0}')
gen_failed=$((${#generated[@]} - gen_passed)) # unsupported or missing counts as failed here
# ... and nothing in the whole suite may give a wrong answer (unsupported ops are listed, not failed).
./edgenet test-data "$data/node" "$data/pytorch-converted" "$data/pytorch-operator" "$data/simple" --skip-unsupported --quiet > "$log"
all_failed=$(tail -1 "$log" | awk '{print $3}')
set -e
grep '^FAIL' "$log" || true
echo "conformance: $conf_passed of ${#expected[@]} expected folders pass, $gen_passed of ${#generated[@]} generated models; whole suite: $(tail -1 "$log"), $(tail -2 "$log" | head -1)"

# The kernel tests again as ARM64 code under qemu (Pi 4 and Pi 5 CPUs, and the scalar path): scripts/arm64.sh.
set +e
./scripts/arm64.sh 2>&1 | tee "$log"
arm_status=${PIPESTATUS[0]}
set -e
arm_passed=0 arm_failed=1
if [[ "$(tail -1 "$log")" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  arm_passed=${BASH_REMATCH[1]} arm_failed=${BASH_REMATCH[2]}
fi
if (( arm_status != 0 && arm_failed == 0 )); then arm_failed=1; fi
rm -f "$log"

passed=$((unit_passed + conf_passed + gen_passed + arm_passed))
failed=$((unit_failed + conf_failed + gen_failed + all_failed + arm_failed))
echo "$passed passed, $failed failed"
(( failed == 0 ))
