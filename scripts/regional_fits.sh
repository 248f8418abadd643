#!/usr/bin/env bash
# The `regional` preset's documented fits (README, "Regional heterogeneity": the preset as it ships), one after
# another, each summary as JSON in OUT (default docs/regional_scans/preset_fits); about 3 minutes each on 2 cores.
# The synthetic target is made first by scripts/regional_synth.py (the model's BOLD FC at a known point).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/regional_scans/preset_fits}
W=.venv/bin/wcfit-tui
mkdir -p "$OUT"
fit() { local name=$1; shift; echo "$name: wcfit-tui fit $*" >&2; $W fit "$@" --no-record --json > "$OUT/$name.json"; }
fit s100_test --preset regional --data schaefer100 --test schaefer100-test --edges within
fit scans_oe --preset regional --data schaefer100-scans --split odd-even --edges within
fit scans_halves --preset regional --data schaefer100-scans --split halves --edges within
fit hcp80_split --preset regional --split odd-even --edges within
SYN=$(mktemp -d)
.venv/bin/python scripts/regional_synth.py "$SYN"
fit synth_rec --preset regional --data "$SYN/synth.npz" --map "grad=$SYN/grad.txt" --param k=0.5:6 \
  --param ext_E=0.3:1.2 --param ext_E@grad=-1:1 --param ext_E@strength=-1:1 --edges within
fit synth_preset --preset regional --data "$SYN/synth.npz" --edges within
rm -rf "$SYN"
