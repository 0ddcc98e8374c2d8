"""PyTorch reference for bench/fpn-inference.ts: torchvision's fasterrcnn_resnet50_fpn (weights=None,
eval: BN with running statistics, the same arithmetic as FrozenBN) on one 800x1333 image, batch 1. Prints one JSON line.
usage: /usr/bin/python3 bench/fpn_torch.py [--threads 2] [--runs 3] [--warmup 1]"""
import argparse, json, os, time
import torch, torchvision
p = argparse.ArgumentParser(); p.add_argument('--threads', type=int, default=2)
p.add_argument('--runs', type=int, default=3); p.add_argument('--warmup', type=int, default=1)
a = p.parse_args(); torch.set_num_threads(a.threads); torch.manual_seed(0)
m = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None).eval()
x = [torch.rand(3, 800, 1333)]
ts = []
with torch.no_grad():
    for i in range(a.warmup + a.runs):
        t = time.perf_counter(); out = m(x); d = time.perf_counter() - t
        if i >= a.warmup: ts.append(d)
ts.sort()
print(json.dumps({'impl': 'pytorch', 'torch': torch.__version__, 'torchvision': torchvision.__version__,
                  'threads': a.threads, 'input': [800, 1333], 'ms_per_image': round(ts[len(ts) // 2] * 1000),
                  'runs': [round(t * 1000) for t in ts], 'detections': int(out[0]['boxes'].shape[0]),
                  'loadavg_1m': round(os.getloadavg()[0], 2)}), flush=True)
