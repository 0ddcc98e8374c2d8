#!/usr/bin/env bash
# Fine-tuning demo: a randomly initialised full-size R50-FPN written by torchvision, imported through
# the CLI, then fine-tuned with `train-detector --from` on `resdet data synth --kind shapes` at a small
# size for a few minutes (ResNet body frozen), VOC07 mAP evaluated as it goes.
# WEIGHTS: a torchvision fasterrcnn_resnet50_fpn state dict; default: torchvision's own init, written by
# bench/fpn-init-weights.py. Its frozen body (BN at running mean 0 / var 1, so nothing normalises)
# gives activations that grow through the 16 blocks and loss spikes of 1e35; the shared fixture's
# random v1 (../shared/fixtures/torchvision/detectors/fasterrcnn_resnet50_fpn_f16.safetensors), whose
# BN statistics keep every stage O(1), is the one the README's run used.
# usage: [LR=0.001] bench/fpn-finetune-demo.sh OUT_DIR [MINUTES] [WEIGHTS]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?OUT_DIR}; MIN=${2:-20}
mkdir -p "$OUT"
WEIGHTS=${3:-$OUT/init.safetensors}
[ -f "$WEIGHTS" ] || /usr/bin/python3 bench/fpn-init-weights.py "$WEIGHTS"
node --import tsx tools/bin.ts import torchvision --arch fasterrcnn_resnet50_fpn --weights "$WEIGHTS" --out "$OUT/imported" --force
[ -d "$OUT/shapes" ] || node --import tsx tools/bin.ts data synth --kind shapes --out "$OUT/shapes" --train 200 --test 50 --size 128
node --import tsx tools/bin.ts train-detector --from "$OUT/imported" --data "voc:$OUT/shapes:train" \
  --eval-data "voc:$OUT/shapes:test" --eval-every 8 --eval-images 12 --out "$OUT/finetuned" --force \
  --min-size 64 --max-size 64 --freeze-at 5 --bn frozen --lr "${LR:-0.001}" --roi-batch 32 --images-per-batch 1 --iterations 300 --max-minutes "$MIN" --fit-to-time
