#!/bin/bash
# What the band-power baseline reaches per window when the grid's data sets are
# five times larger: for every band x place cell of `eeglens validate`'s grid
# (size SIZE, default 3), 200 synthetic subjects of the same generator
# (2 minutes each), prepared with `prepare`'s default split, then
# `eeglens baseline`. Prints one row per cell: test and validation accuracy
# per window and per subject.
#
#   EEGLENS=target/release/eeglens OUT=ceiling SIZE=3 tools/validation/baseline_ceiling.sh
set -euo pipefail
B=${EEGLENS:-target/release/eeglens}
OUT=${OUT:-ceiling}
SIZE=${SIZE:-3}
SUBJECTS=${SUBJECTS:-200}
mkdir -p "$OUT"
declare -A PLACE=( [frontal]=Fp1,Fp2,F3,Fz,F4 [central]=FC3,FCz,FC4,C3,C4
                   [temporal]=F7,T3,T5,T4,F8 [parieto-occipital]=P3,Pz,P4,O1,T6 )
declare -A BAND=( [delta]=1-4 [theta]=4-8 [alpha]=8-13 [low-beta]=13-20 [high-beta]=20-30 )
printf '%-32s %7s %7s %7s %7s\n' cell "test/w" "test/s" "val/w" "val/s"
for b in delta theta alpha low-beta high-beta; do
  for p in frontal central temporal parieto-occipital; do
    n=$b-$p-s$SIZE
    if [ ! -f "$OUT/$n.json" ]; then
      "$B" synth --out "$OUT/d-$n" --subjects "$SUBJECTS" --seed 101 --effect-band "${BAND[$b]}" \
        --effect-channels "${PLACE[$p]}" --effect-size "$SIZE" --quiet --force >/dev/null
      "$B" prepare "$OUT/d-$n" --label sex --out "$OUT/$n.safetensors" --quiet --force >/dev/null
      "$B" baseline --data "$OUT/$n.safetensors" --json > "$OUT/$n.json"
      rm -rf "$OUT/d-$n"
    fi
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); t,v=d['test'],d['val']; print('%-32s %7.3f %7.3f %7.3f %7.3f' % (sys.argv[2], t['accuracy'], t['subject_accuracy'], v['accuracy'], v['subject_accuracy']))" "$OUT/$n.json" "$n"
  done
done
