#!/usr/bin/env bash
# Runs EdgeNet's kernel tests as real ARM64 code under qemu-aarch64: the NEON paths on an emulated Raspberry Pi 4 CPU
# (cortex-a72: AdvSimd, no dotprod) and Pi 5 CPU (cortex-a76: AdvSimd + dotprod), and once more with EDGENET_ISA=scalar.
#   arm64.sh [RUNNER ARGS...]
# Default selection: every class in EdgeNet.Tests.Kernels (the per-ISA sweeps against the reference),
# RealModels.IsaParityTests (each real model, every ISA vs scalar) and, through the arm64 `edgenet test-data`, every
# ONNX conformance folder EdgeNet passes (tests/conformance-expected.txt). RUNNER ARGS replace it (see
# tests/EdgeNet.Arm64Runner, e.g. `--class Kernels.Gemm --case 'hey_jarvis'`). Prints each run's log (PASS lines
# folded into a count), a summary per CPU, and last "N passed, N failed" over all runs; exits non-zero on a failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./scripts/install-deps.sh arm64
./scripts/fetch-models.sh > /dev/null

out="$root/.build/arm64"
logs="$root/.build/arm64-logs"
start=$SECONDS
publish_log="$(mktemp)"
if ! dotnet publish tests/EdgeNet.Arm64Runner/EdgeNet.Arm64Runner.csproj -c Release -r linux-arm64 --self-contained \
     -p:InvariantGlobalization=true -o "$out" --nologo -v q > "$publish_log" 2>&1; then
  cat "$publish_log"; rm -f "$publish_log"
  echo "arm64: publish failed"
  echo "0 passed, 1 failed"
  exit 1
fi
rm -f "$publish_log"
echo "arm64: published the linux-arm64 runner in $((SECONDS - start)) s"

selection=("$@")
conformance=()
if (( ${#selection[@]} == 0 )); then
  selection=(--class EdgeNet.Tests.Kernels. --class RealModels.IsaParityTests)
  # and the ONNX conformance folders EdgeNet passes (tests/conformance-expected.txt), through the arm64 edgenet tool
  data=/usr/share/libonnx-testdata/data
  ./scripts/install-deps.sh test
  mapfile -t conformance < <(grep -v '^#' tests/conformance-expected.txt | sed "s|^|$data/|")
fi

export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
# W^X maps JIT code twice and writes it through the writable view; qemu-user only notices writes to the page it
# translated, so it can go on running stale code (seen as random NullReferenceExceptions), and every W^X toggle costs
# a translation flush (3-4x slower). Off, the JIT writes code in place like on the device with W^X disabled.
export DOTNET_EnableWriteXorExecute=0
export EDGENET_MODELS="$root/models"
export EDGENET_REPO_ROOT="$root"

# name | qemu cpu | extra environment. The Pi 5 run uses the fully optimizing JIT only, so between the two CPUs both
# tier-0 and optimized code of every intrinsic path run.
runs=(
  "cortex-a72|cortex-a72|"
  "cortex-a76|cortex-a76|DOTNET_TieredCompilation=0"
  "cortex-a72-scalar|cortex-a72|EDGENET_ISA=scalar"
)
rm -rf "$logs"; mkdir -p "$logs"
pids=()
for run in "${runs[@]}"; do
  IFS='|' read -r name cpu extra <<< "$run"
  # The runs share the machine's cores; a timeout keeps a hung emulation from eating CI's whole budget.
  ( begin=$SECONDS rc=0
    env $extra timeout 1800 qemu-aarch64-static -cpu "$cpu" "$out/EdgeNet.Arm64Runner" "${selection[@]}" > "$logs/$name.log" 2>&1 || rc=$?
    echo "$rc" > "$logs/$name.rc"; echo $((SECONDS - begin)) > "$logs/$name.seconds"
    if (( ${#conformance[@]} )); then
      begin=$SECONDS rc=0
      env $extra timeout 900 qemu-aarch64-static -cpu "$cpu" "$out/edgenet" test-data "${conformance[@]}" --quiet > "$logs/$name.conformance.log" 2>&1 || rc=$?
      echo "$rc" > "$logs/$name.conformance.rc"; echo $((SECONDS - begin)) > "$logs/$name.conformance.seconds"
    fi ) &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

total_passed=0 total_failed=0
summaries=()
# count LOG: sets passed/failed from a log whose last line is "N passed, N failed" (both the runner's and the
# edgenet tool's); one that crashed or timed out before it counts what it finished, plus itself as a failure.
count() {
  local log="$1" rc; rc=$(cat "${log%.log}.rc")
  if [[ "$(tail -1 "$log")" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
    (( rc == 0 || failed > 0 )) || failed=1
  else
    passed=$(grep -c '^PASS ' "$log" || true)
    failed=$(( $(grep -c '^FAIL ' "$log" || true) + 1 ))
    echo "arm64: $(basename "$log" .log) ended without a summary (exit code $rc$( (( rc == 124 )) && echo ', timed out'))"
  fi
}
for run in "${runs[@]}"; do
  IFS='|' read -r name cpu extra <<< "$run"
  echo "=== arm64 $name (qemu -cpu $cpu${extra:+, $extra})"
  grep -v '^PASS ' "$logs/$name.log" || true
  count "$logs/$name.log"
  summary="arm64 $name: $passed passed, $failed failed in $(cat "$logs/$name.seconds") s"
  total_passed=$((total_passed + passed)); total_failed=$((total_failed + failed))
  if (( ${#conformance[@]} )); then
    grep -v '^PASS ' "$logs/$name.conformance.log" || true
    count "$logs/$name.conformance.log"
    summary+="; conformance: $passed of ${#conformance[@]} folders pass, $failed fail, in $(cat "$logs/$name.conformance.seconds") s"
    total_passed=$((total_passed + passed)); total_failed=$((total_failed + failed))
  fi
  summaries+=("$summary")
done
printf '%s\n' "${summaries[@]}"
echo "arm64: all runs in $((SECONDS - start)) s (logs in ${logs#"$root"/})"
echo "$total_passed passed, $total_failed failed"
(( total_failed == 0 ))
