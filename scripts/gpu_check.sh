#!/usr/bin/env bash
# Issue 4's and issue 13's GPU figures in one prepared run, for a session lent a GPU machine (the `device` tool):
#   run(command="bash scripts/gpu_check.sh", timeout_s=540)   → JSON files come back from $OUT.
# It uses the GPU image's own JAX (the engine needs jax, numpy, scipy, msgpack and rich),
# so nothing has to be installed there. Every step is bounded; a failing step does not stop the next.
set -uo pipefail
OUT=${OUT:-/tmp/wcfit-gpu}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 WCFIT_NO_CACHE=1
py=${PYTHON:-python3}
batches=${WCFIT_GPU_BATCHES:-256,1024,4096,16384}  # smaller values make a quick dry run on a CPU
big=${WCFIT_GPU_BIG:-4096}
duration=${WCFIT_GPU_DURATION:-6000}
step() { echo "== $*" >&2; timeout 150 "$@" || echo "!! step failed or timed out: $*" >&2; }

step $py -c "import jax; print('jax', jax.__version__, jax.devices())" | tee "$OUT/devices.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee -a "$OUT/devices.txt"

# 1. Throughput and memory per candidate at large batches (common noise: the app's default).
step $py -m engine.bench --batch "$batches" --duration "$duration" --no-reference --common-noise --json > "$OUT/bench_common.json"
# 2. Per-candidate noise at 4,096 (WCFIT_GPU_BIG), and the node loop unrolled over a whole block (fewer loop trips).
step $py -m engine.bench --batch "$big" --duration "$duration" --no-reference --json > "$OUT/bench_own.json"
step $py -m engine.bench --batch "$big" --duration "$duration" --no-reference --common-noise --unroll 64 --json > "$OUT/bench_unrolled.json"

# 3. Same losses on the GPU and on the CPU (common noise, 1 s, 8 candidates).
cat > /tmp/wcfit_losses.py <<'EOF'
import json, sys
import numpy as np
from engine.config import FitConfig
from engine.data import load_dataset
from engine.objective import Objective
cfg = FitConfig(batch=8, duration_ms=1000.0, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05})
res = Objective(load_dataset(), cfg)(np.linspace(0.5, 3.0, 8, dtype=np.float32).reshape(-1, 1))
print(json.dumps(res.losses.tolist()))
EOF
gpu=$(timeout 150 $py /tmp/wcfit_losses.py | tail -1)
cpu=$(JAX_PLATFORMS=cpu timeout 150 $py /tmp/wcfit_losses.py | tail -1)
$py -c "import json,sys; g,c=json.loads(sys.argv[1]),json.loads(sys.argv[2]); print('gpu',g); print('cpu',c); print('max |gpu-cpu|', max(abs(a-b) for a,b in zip(g,c)))" "$gpu" "$cpu" | tee "$OUT/gpu_vs_cpu.txt"

# 4. Issue 13: BOLD candidates of 400 s (the default preset's observation and objective) at 1,024–16,384 lanes, one
#    batch each: seconds per batch, simulated seconds per wall second, compile time, the best FC r (bounded per size).
cat > /tmp/wcfit_bold.py <<'EOF'
import json, sys, time
import numpy as np
from engine import presets
from engine.data import load_dataset
from engine.objective import Objective
lanes, duration = int(sys.argv[1]), float(sys.argv[2])
cfg = presets.get("bold").config(batch=lanes, budget=lanes, duration_ms=duration)
obj = Objective(load_dataset(), cfg)
compile_s = obj.compile()
rng = np.random.default_rng(0)
values = np.column_stack([rng.uniform(1, 80, lanes), rng.uniform(0, 0.3, lanes)]).astype(np.float32)
t1 = time.perf_counter(); res = obj(values); wall = time.perf_counter() - t1
print(json.dumps({"lanes": lanes, "duration_s": duration / 1000, "compile_s": compile_s, "wall_s": wall,
                  "sim_s_per_wall_s": lanes * duration / 1000 / wall, "layout": obj.description,
                  "best_fc_corr": float(np.nanmax(res.corr)), "flags": sum(1 for f in res.flags if f)}))
EOF
for m in ${WCFIT_GPU_BOLD_LANES:-1024 4096 16384}; do
  echo "== bold $m lanes" >&2
  timeout 240 $py /tmp/wcfit_bold.py "$m" "${WCFIT_GPU_BOLD_MS:-400000}" > "$OUT/bold_$m.json" || echo "!! bold $m failed or timed out" >&2
done

for f in "$OUT"/*.json; do echo "== $f"; cat "$f"; echo; done
