#!/usr/bin/env bash
# The one GPU check (issue 18): kernel checks, parity with `cpu`, the ResNet-50 and R50-C4
# benchmarks, a 2-minute train-detector on a synthetic set (then evaluate-detector and detect on
# its checkpoint), and PyTorch's figures on the same GPU when torch is there. Every step runs
# under its own `timeout`, and the steps share one budget (CHECK_BUDGET_S, default 470 s), so a
# hang costs at most its own box and the whole check stays under 8 minutes.
#
# On the GPU machine, from the project root, with .gpu/ (from ../shared/gpu/prepare.sh) carried:
#   source .gpu/prelude.sh && bash bench/gpu/check.sh
# Writes $OUT/check.jsonl (one line per step: step, rc, ok, timed_out, seconds, last = the step's
# last JSON line) and $OUT/<step>.jsonl / <step>.err (each step's stdout / stderr).
set -u
OUT=${OUT:-/tmp/resdet-gpu-check}
mkdir -p "$OUT"
APP=.gpu/app
# entry NAME: the bundle prepare.sh made (bench/gpu/NAME.ts, or tools/bin.ts for `bin`); with
# CHECK_FROM_SOURCE=1 the TypeScript source through tsx instead (a dry run on a CPU machine with
# RESDET_WEBGPU_ADAPTER=null, see bench/gpu/README.md).
entry() {
  if [ "${CHECK_FROM_SOURCE:-0}" = 1 ]; then
    if [ "$1" = bin ]; then echo "node --import tsx tools/bin.ts"; else echo "node --import tsx bench/gpu/$1.ts"; fi
  else
    echo "node $APP/$1.mjs"
  fi
}
WORK=$(mktemp -d /tmp/resdet-check.XXXXXX)
BUDGET=${CHECK_BUDGET_S:-470}
START=$(date +%s)
SUMMARY=$OUT/check.jsonl
: > "$SUMMARY"

# step NAME LIMIT_S COMMAND...: runs COMMAND with stdout to $OUT/NAME.jsonl, time-boxed to
# min(LIMIT_S, what is left of the budget); a step with under 5 s left is skipped.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((BUDGET - ($(date +%s) - START)))
  ((limit > left)) && limit=$left
  if ((limit < 5)); then
    echo "{\"step\":\"$name\",\"skipped\":true,\"reason\":\"budget spent\"}" >> "$SUMMARY"
    return
  fi
  local t0 rc ms secs last
  t0=$(date +%s%N)
  timeout -k 5 "$limit" "$@" > "$OUT/$name.jsonl" 2> "$OUT/$name.err"
  rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  secs=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
  # The step's answer: its whole stdout when that is one (pretty-printed) JSON value, else its
  # last JSON line.
  last=$(node -e '
    const t = require("fs").readFileSync(process.argv[1], "utf8");
    let v = null;
    try { v = JSON.parse(t); } catch { const l = t.split("\n").filter((x) => x.startsWith("{")).pop(); try { v = l ? JSON.parse(l) : null; } catch {} }
    process.stdout.write(JSON.stringify(v));' "$OUT/$name.jsonl" 2>/dev/null)
  [ -n "$last" ] || last=null
  local timed=false
  { [ $rc -eq 124 ] || [ $rc -eq 137 ]; } && timed=true
  local ok=false
  [ $rc -eq 0 ] && ok=true
  echo "{\"step\":\"$name\",\"rc\":$rc,\"ok\":$ok,\"timed_out\":$timed,\"limit_s\":$limit,\"seconds\":$secs,\"last\":$last}" >> "$SUMMARY"
  echo "[check] $name: rc $rc in ${secs}s" >&2
}

step gpu 5 bash -c 'nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed "s/^/{\"gpu\":\"/; s/$/\"}/"'
step info 15 $(entry bin) --backend webgpu info --json

# Correctness: resdet's RoI kernels and conv-gradient kernels, then whole-model parity.
step roi-check 25 $(entry roi-check) --backend webgpu --json
step kernel-check 30 $(entry kernel-check) --backend webgpu --batch 1 --input 112 --json
step parity 50 $(entry parity) --backend webgpu --kernels resdet --input 64 --batch 2 --width 16 --json

# Speed: ResNet-50 forward (batch 1, 64) and training (batch 64); R50-C4 inference (600x1000,
# batch 1) and training (batch 2).
step suite 45 $(entry suite) --backend webgpu --kernels resdet --forward-batches 1,64 \
  --train-batches 64 --iterations 5 --warmup 1 --json
step detector 50 $(entry detector) --backend webgpu --kernels resdet --iterations 3 --warmup 1 --json

# PyTorch on the same GPU (when the machine has it): R50-C4 with the reference script, ResNet-50
# training at batch 64 in strict fp32 (TF32 off, as the issue's 886 img/s on an H100).
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  [ -f .gpu/c4_torch.py ] && step torch-c4 40 python3 .gpu/c4_torch.py --arch resnet50 --height 600 --width 1000 \
    --threads 16 --iterations 5 --device cuda
  step torch-resnet50 25 python3 - <<'PY'
import json, time, torch, torchvision
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.benchmark = True
m = torchvision.models.resnet50().cuda().train()
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
x = torch.rand(64, 3, 224, 224, device='cuda'); y = torch.randint(0, 1000, (64,), device='cuda')
def step():
    opt.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward(); opt.step()
for _ in range(3): step()
torch.cuda.synchronize(); n = 10; t = time.perf_counter()
for _ in range(n): step()
torch.cuda.synchronize(); s = (time.perf_counter() - t) / n
print(json.dumps({'impl': 'pytorch', 'torch': torch.__version__, 'arch': 'resnet50', 'input': 224, 'case': 'train', 'batch': 64, 'precision': 'fp32 (TF32 off)', 'ms_per_iter': round(s * 1000, 1), 'img_per_s': round(64 / s, 1)}))
PY
else
  echo '{"step":"torch","skipped":true,"reason":"no torch with CUDA on this machine"}' >> "$SUMMARY"
fi

# Jobs through the CLI on webgpu: a synthetic set, 2 minutes of train-detector (the demo's
# small detector), evaluate-detector and detect on the checkpoint it wrote.
export RESDET_WEBGPU_KERNELS=1
step synth 15 $(entry bin) data synth --kind shapes --out "$WORK/shapes" --train 400 --test 60 --size 192 --json
step train-detector 140 $(entry bin) --backend webgpu train-detector --data "voc:$WORK/shapes:train" \
  --backbone resnet18-w16 --out "$WORK/det" --preset cpu --min-size 192 --max-size 192 \
  --anchor-sizes 32,64,128 --iterations 3000 --max-minutes 2 --checkpoint-every 1000 --json
[ -f "$WORK/det/metrics.jsonl" ] && tail -n 3 "$WORK/det/metrics.jsonl" > "$OUT/train-metrics-tail.jsonl"
step evaluate-detector 20 $(entry bin) --backend webgpu evaluate-detector --model "$WORK/det" \
  --data "voc:$WORK/shapes:test" --out "$WORK/eval" --json
first=$(ls "$WORK/shapes/JPEGImages" 2>/dev/null | head -n 1)
step detect 10 $(entry bin) --backend webgpu detect --model "$WORK/det" "$WORK/shapes/JPEGImages/$first" --json
unset RESDET_WEBGPU_KERNELS

rm -rf "$WORK"
echo "{\"check\":\"done\",\"seconds\":$(($(date +%s) - START))}" >> "$SUMMARY"
cat "$SUMMARY"
