#!/usr/bin/env bash
# The fits behind README's "Fit quality" table, each with its fresh-noise verdict (4 new noise seeds), its nulls
# (structure alone, each map alone) and, where there is held-out data, its held-out scores from the fresh runs.
# Writes one JSON summary per fit into OUT (default ./verdict-fits) and a run directory beside it; a figure report
# of each with `wcfit-tui report OUT/runs/NAME`. On the 2-core CPU of README the whole script takes about an hour.
set -euo pipefail
OUT=${1:-verdict-fits}
mkdir -p "$OUT"
fit() {  # NAME ARGS…: one fit, its JSON summary in OUT/NAME.json
  local name=$1; shift
  wcfit-tui fit "$@" --json --out "$OUT/runs" --name "$name" > "$OUT/$name.json"
}
# the default preset on the bundled HCP-80 data (BOLD FC + FCD, 200 s, DE 16 × 64)
fit bold-hcp80 --preset bold
# the regional preset (the joint fit: FC pattern, within-hemisphere FCD, FC level, FIC penalty; 400 s, CMA 16 × 96)
# on Schaefer-100 (train706), held out on the test group of 303 other subjects
fit regional-schaefer100 --preset regional --data schaefer100 --test schaefer100-test
# the FC-only regional fit it replaces, judged the same way
fit regional-fc-schaefer100 --preset regional-fc --data schaefer100 --edges within --test schaefer100-test
# does the map matter? the regional-fc fit again with the maps' values permuted within hemispheres
fit regional-fc-control --preset regional-fc --data schaefer100 --edges within --map-control permute --permutations 4
# the joint regional preset on data it was not chosen on (its start was chosen on train706 only), held out on the
# data's other scans: four single HCP scans on the train group's structure (odd-even: day 1 fits, day 2 is held out;
# the FC gradient comes from the training scans), and the bundled HCP-80 data (AAL2, its own structure; 7 subjects' scans: 4 fit, 3 held out)
fit regional-scans --preset regional --data schaefer100-scans --split odd-even
# the scans fit again with another search seed (how far two searches of the same size land apart)
fit regional-scans-seed1 --preset regional --data schaefer100-scans --split odd-even --seed 1
fit regional-hcp80 --preset regional --split odd-even
# cuBNM's protocol as far as this node allows: k and wEE free, each with a myelin and an FC-gradient coefficient
# (the drive fixed at the preset's), the joint objective, held out on the test group
fit cubnm-protocol --preset regional --data schaefer100 --test schaefer100-test --fixed ext_E=1 \
    --param k=0.5:8 --param wEE=8:24 --param wEE@myelinmap=-1:3 --param wEE@fcgradient=-1:3 \
    --param k@myelinmap=-1:3 --param k@fcgradient=-1:3 --budget 96
# the spans the linear ceiling (scripts/linear_ceiling.py) says a quiet network needs: ×10 gain along the FC gradient,
# with regional recurrent excitation and noise on both maps
fit linear-guided --preset regional --data schaefer100 --test schaefer100-test --fixed ext_E=1 --param k=2:8 \
    --param k@fcgradient=0:12 --param k@myelinmap=-0.9:3 --param wEE@fcgradient=-0.5:1 \
    --param wEE@myelinmap=-0.5:0.5 --param sigma@fcgradient=-0.9:2 --param sigma@myelinmap=-0.9:2 --budget 128
# the regional preset with FIC at the node's Hopf point (0.07 at the preset's drive: scripts/wc_linear.py --stability)
fit hopf-edge --preset regional --data schaefer100 --test schaefer100-test --fixed fic_target=0.07 --budget 64
# …and on the data it was not chosen on
fit hopf-edge-scans --preset regional --data schaefer100-scans --split odd-even --fixed fic_target=0.07 --budget 64
fit hopf-edge-hcp80 --preset regional --split odd-even --fixed fic_target=0.07 --budget 64
# the FIC target fitted with the preset's parameters (where does the search put it?)
fit fic-fitted --preset regional --data schaefer100 --test schaefer100-test --param k=0.5:8 --param ext_E=0.3:1.3 \
    --param ext_E@fcgradient=-1:1 --param ext_E@strength=-1:1 --param fic_target=0.04:0.12 --budget 96
# quiet nodes near a network-wide instability: a low FIC target, started at the linear surrogate's best point
# (scripts/wc_linear.py --search with fic_target free)
fit quiet-critical --preset regional --data schaefer100 --test schaefer100-test --fixed fic_target=0.027 \
    --param k=0.5:12 --param ext_E=0.3:1.3 --param ext_E@fcgradient=-1:1 --param ext_E@strength=-1:1 \
    --start k=5.5 --start ext_E=0.46 --start ext_E@fcgradient=-0.3 --start ext_E@strength=0 --budget 64
# the FIC target along the FC gradient around the Hopf point (regions' distance from it follows the gradient)
fit hopf-gradient --preset regional --data schaefer100 --test schaefer100-test --fixed fic_target=0.07 \
    --param k=0.5:8 --param ext_E=0.3:1.3 --param ext_E@fcgradient=-1:1 --param fic_target@fcgradient=-0.6:0.6 \
    --start k=5 --start ext_E=1 --start ext_E@fcgradient=-0.8 --start fic_target@fcgradient=0 --budget 96
fit hopf-gradient-scans --preset regional --data schaefer100-scans --split odd-even --fixed fic_target=0.07 \
    --param k=0.5:8 --param ext_E=0.3:1.3 --param ext_E@fcgradient=-1:1 --param fic_target@fcgradient=-0.6:0.6 \
    --start k=5 --start ext_E=1 --start ext_E@fcgradient=-0.8 --start fic_target@fcgradient=0 --budget 96
fit hopf-gradient-hcp80 --preset regional --split odd-even --fixed fic_target=0.07 \
    --param k=0.5:8 --param ext_E=0.3:1.3 --param ext_E@fcgradient=-1:1 --param fic_target@fcgradient=-0.6:0.6 \
    --start k=5 --start ext_E=1 --start ext_E@fcgradient=-0.8 --start fic_target@fcgradient=0 --budget 96
# …with the noise amplitude fitted too
fit hopf-gradient-sigma --preset regional --data schaefer100 --test schaefer100-test --fixed fic_target=0.07 \
    --param k=0.5:8 --param ext_E=0.3:1.3 --param ext_E@fcgradient=-1:1 --param fic_target@fcgradient=-0.6:0.6 \
    --param sigma=0.02:0.3 --start k=5 --start ext_E=1 --start ext_E@fcgradient=-0.8 --start fic_target@fcgradient=0 \
    --start sigma=0.1 --budget 96
fit hopf-gradient-sigma-scans --preset regional --data schaefer100-scans --split odd-even --fixed fic_target=0.07 \
    --param k=0.5:8 --param ext_E=0.3:1.3 --param ext_E@fcgradient=-1:1 --param fic_target@fcgradient=-0.6:0.6 \
    --param sigma=0.02:0.3 --start k=5 --start ext_E=1 --start ext_E@fcgradient=-0.8 --start fic_target@fcgradient=0 \
    --start sigma=0.1 --budget 96
fit hopf-gradient-sigma-hcp80 --preset regional --split odd-even --fixed fic_target=0.07 \
    --param k=0.5:8 --param ext_E=0.3:1.3 --param ext_E@fcgradient=-1:1 --param fic_target@fcgradient=-0.6:0.6 \
    --param sigma=0.02:0.3 --start k=5 --start ext_E=1 --start ext_E@fcgradient=-0.8 --start fic_target@fcgradient=0 \
    --start sigma=0.1 --budget 96
# Yeo-7 groups instead of the FC gradient (cuBNM's best categorical map; one drive coefficient per network, network 0
# the reference that ext_E sets), the FIC target flat at 0.07 near the node's Hopf point, σ fitted
fit hopf-yeo7 --preset regional --data schaefer100 --test schaefer100-test --fixed fic_target=0.07 \
    --param k=0.5:8 --param ext_E=0.3:1.3 --param ext_E@yeo7:1=-1:1 --param ext_E@yeo7:2=-1:1 \
    --param ext_E@yeo7:3=-1:1 --param ext_E@yeo7:4=-1:1 --param ext_E@yeo7:5=-1:1 --param ext_E@yeo7:6=-1:1 \
    --param sigma=0.02:0.3 --start k=5 --start ext_E=1 --start sigma=0.1 --budget 96
# …and each network its own FIC target instead (the distance from the Hopf point per network), started at
# hopf-gradient-sigma's k, drive and σ
fit hopf-fic-yeo7 --preset regional --data schaefer100 --test schaefer100-test --fixed fic_target=0.07 \
    --param k=0.5:8 --param ext_E=0.3:1.3 --param fic_target@yeo7:1=-0.6:0.6 --param fic_target@yeo7:2=-0.6:0.6 \
    --param fic_target@yeo7:3=-0.6:0.6 --param fic_target@yeo7:4=-0.6:0.6 --param fic_target@yeo7:5=-0.6:0.6 \
    --param fic_target@yeo7:6=-0.6:0.6 --param sigma=0.02:0.3 --start k=5.65 --start ext_E=1.06 --start sigma=0.108 \
    --budget 96
# …and Yeo-7 on top of the FC gradient: hopf-gradient-sigma's family plus six network drive coefficients (±0.5),
# started at hopf-gradient-sigma's best point (chosen on train706) with the network coefficients at 0
fit hopf-gradient-yeo7 --preset regional --data schaefer100 --test schaefer100-test --fixed fic_target=0.07 \
    --param k=0.5:8 --param ext_E=0.3:1.3 --param ext_E@fcgradient=-1:1 --param fic_target@fcgradient=-0.6:0.6 \
    --param sigma=0.02:0.3 --param ext_E@yeo7:1=-0.5:0.5 --param ext_E@yeo7:2=-0.5:0.5 --param ext_E@yeo7:3=-0.5:0.5 \
    --param ext_E@yeo7:4=-0.5:0.5 --param ext_E@yeo7:5=-0.5:0.5 --param ext_E@yeo7:6=-0.5:0.5 \
    --start k=5.65 --start ext_E=1.06 --start ext_E@fcgradient=-0.776 --start fic_target@fcgradient=0.113 \
    --start sigma=0.108 --budget 96
# …started at a FIC-target gradient of 0.3, budget 160 (does the search leave its start?)
fit hopf-gradient-sigma-b160 --preset regional --data schaefer100 --test schaefer100-test --fixed fic_target=0.07 \
    --param k=0.5:8 --param ext_E=0.3:1.3 --param ext_E@fcgradient=-1:1 --param fic_target@fcgradient=-0.6:0.6 \
    --param sigma=0.02:0.3 --start k=5 --start ext_E=1 --start ext_E@fcgradient=-0.8 --start fic_target@fcgradient=0.3 \
    --start sigma=0.1 --budget 160
# per subject, each on its own structure (cuBNM's wheel: 100206, 100307; `schaefer100-scans` carries it): the regional
# preset as a study, day 1 (REST1) fitted and day 2 (REST2) held out; each subject's summary in its run's status.json,
# the table in OUT/subjects-regional/export/study.csv
study() {  # NAME ARGS…: one study under OUT/NAME, exported as CSV
  local name=$1; shift
  wcfit-tui study "$@" --quiet --out "$OUT/$name" && wcfit-tui export "$OUT/$name" --csv
}
study subjects-regional --preset regional --data schaefer100-scans --per subject --split odd-even
# …and hopf-gradient-sigma's family per subject
study subjects-hopf-gradient-sigma --preset regional --data schaefer100-scans --per subject --split odd-even \
    --fixed fic_target=0.07 --param k=0.5:8 --param ext_E=0.3:1.3 --param ext_E@fcgradient=-1:1 \
    --param fic_target@fcgradient=-0.6:0.6 --param sigma=0.02:0.3 --start k=5 --start ext_E=1 \
    --start ext_E@fcgradient=-0.8 --start fic_target@fcgradient=0 --start sigma=0.1 --budget 96
