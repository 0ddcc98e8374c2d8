#!/usr/bin/env bash
# Full-size parity of the torchvision R50-FPN import (not a timed test): imports the shared random-weight
# v1 and v2 models through the CLI, runs `detect --json --score-threshold 0` on the fixture's two images
# and compares with torchvision's detections using the fixture's own compare script and tolerances
# (counts, labels, boxes within 1e-2 px (--box-rel 0), scores within 1e-4).
# usage: bench/fpn-parity.sh [FIXTURE_DIR]   (default ../shared/fixtures/torchvision/detectors)
set -euo pipefail
cd "$(dirname "$0")/.."
FIX=${1:-../shared/fixtures/torchvision/detectors}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
status=0
for arch in fasterrcnn_resnet50_fpn fasterrcnn_resnet50_fpn_v2; do
  node --import tsx tools/bin.ts import torchvision --arch "$arch" --weights "$FIX/${arch}_f16.safetensors" --out "$WORK/$arch" 2>/dev/null
  for img in img0_480x640 img1_500x375; do
    start=$(date +%s)
    node --import tsx tools/bin.ts detect --model "$WORK/$arch" "$FIX/$img.png" --json --score-threshold 0 2>/dev/null > "$WORK/$arch-$img.json"
    echo "$arch $img: detect took $(( $(date +%s) - start )) s"
    python3 "$FIX/compare_detections.py" "$FIX/${arch}_expected.json" "$WORK/$arch-$img.json" --image "${img%%_*}" --box-rel 0 || status=1
  done
done
exit $status
