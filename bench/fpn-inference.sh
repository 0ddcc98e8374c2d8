#!/usr/bin/env bash
# resdet vs PyTorch, torchvision R50-FPN v1 inference at 800x1333 on the CPU, both 2 threads, same run.
# usage: bench/fpn-inference.sh MODEL_DIR   (an imported fasterrcnn_resnet50_fpn checkpoint)
set -euo pipefail
cd "$(dirname "$0")/.."
date -u +%FT%TZ; nproc; uptime
/usr/bin/python3 bench/fpn_torch.py --threads 2 --runs 2
RESDET_WASM_THREADS=2 node --import tsx bench/fpn-inference.ts --model "${1:?MODEL_DIR}" --runs 2
/usr/bin/python3 bench/fpn_torch.py --threads 2 --runs 2
