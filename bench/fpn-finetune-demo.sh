#!/usr/bin/env bash
# Fine-tuning demo: a randomly initialised full-size R50-FPN (torchvision's own init, written by
# bench/fpn-init-weights.py) imported through the CLI, then fine-tuned with `train-detector --from` on
# `resdet data synth --kind shapes` at a small size for a few minutes, VOC07 mAP evaluated as it goes.
# usage: bench/fpn-finetune-demo.sh OUT_DIR [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?OUT_DIR}; MIN=${2:-30}
mkdir -p "$OUT"
[ -f "$OUT/init.safetensors" ] || /usr/bin/python3 bench/fpn-init-weights.py "$OUT/init.safetensors"
[ -f "$OUT/imported/config.json" ] || node --import tsx tools/bin.ts import torchvision --arch fasterrcnn_resnet50_fpn \
  --weights "$OUT/init.safetensors" --out "$OUT/imported"
[ -d "$OUT/shapes" ] || node --import tsx tools/bin.ts data synth --kind shapes --out "$OUT/shapes" --train 200 --test 50 --size 128
node --import tsx tools/bin.ts train-detector --from "$OUT/imported" --data "voc:$OUT/shapes:train" \
  --eval-data "voc:$OUT/shapes:test" --eval-every 8 --eval-images 12 --out "$OUT/finetuned" --force \
  --min-size 64 --max-size 64 --freeze-at 5 --bn frozen --lr 0.004 --roi-batch 32 --images-per-batch 1 --iterations 300 --max-minutes "$MIN" --fit-to-time
