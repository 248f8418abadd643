#!/usr/bin/env bash
# Issue 33's GPU check in one prepared run of under 10 minutes, for a session lent a GPU machine (the `device` tool):
#   run(command="bash scripts/gpu_check.sh", timeout_s=600)        → devices.txt, gpu_tests.txt, bench.jsonl in $OUT
# 1. the suite's gpu-marked tests (tests/test_gpu.py and the [gpu] cases of tests/test_lanes.py): NVML, chunks sized
#    by device memory, GPU vs CPU losses, lane layout and memory-forced chunks on the GPU, a GPU Ray actor;
# 2. the bold (HCP-80) and regional (schaefer100, N = 100) presets at 256–16,384 lanes with common and own noise
#    (scripts/gpu_bench.py: marginal candidate-simulated-seconds per wall second, each size bounded in time).
# It uses the GPU image's own Python and JAX (the engine needs jax, numpy, scipy, msgpack and rich; the tests pytest
# and nvidia-ml-py, all there). Wheels in .whl/ are installed first when present (carry ".whl"): textual, its
# mdit-py-plugins and platformdirs for the device panel's test (Ray's wheel is over the 64 MiB a call carries, so the
# GPU-actor test says it is skipped there). Every step is bounded; a failing step does not stop the next.
# Smaller sizes make a dry run on a CPU: WCFIT_GPU_LANES=8,16 WCFIT_GPU_SECONDS=2 bash scripts/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/wcfit-gpu}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 WCFIT_NO_CACHE=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
py=${PYTHON:-python3}
budget=${WCFIT_GPU_BUDGET:-560}  # seconds for the whole script (the device tool's limit is 600)
start=$SECONDS

if compgen -G ".whl/*.whl" >/dev/null; then
  $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=$PWD:/tmp/site
fi

{ timeout 60 $py -c "import jax; print('jax', jax.__version__, jax.default_backend(), jax.devices())"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1; } | tee "$OUT/devices.txt"

echo "== gpu-marked tests" >&2
timeout 200 $py -m pytest -p no:randomly -p no:cacheprovider -m gpu -rs tests/test_gpu.py tests/test_lanes.py 2>&1 \
  | tee "$OUT/gpu_tests.txt" || echo "!! gpu tests failed or timed out" >&2

left=$(( budget - (SECONDS - start) - 20 ))
echo "== presets ($left s left)" >&2
timeout $(( left + 15 )) $py scripts/gpu_bench.py --lanes "${WCFIT_GPU_LANES:-256,1024,4096,16384}" \
  --seconds "${WCFIT_GPU_SECONDS:-6}" --deadline "$(( left > 30 ? left - 30 : 1 ))" | tee "$OUT/bench.jsonl" \
  || echo "!! bench failed or timed out" >&2
echo "== done in $(( SECONDS - start )) s" >&2
