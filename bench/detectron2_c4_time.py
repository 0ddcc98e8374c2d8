#!/usr/bin/python3
"""detectron2 v0.6's own CPU inference time for an R50-C4 model-zoo pickle (DefaultPredictor,
800/1333), the PyTorch side of bench/detectron2-c4-check.ts's detectMs. Sources on the path:

    /usr/bin/python3 bench/detectron2_c4_time.py --refs DIR --weights model_final.pkl IMAGE.png... [--threads 2]

DIR holds clones of detectron2 (v0.6), fvcore, iopath and yacs (see ../shared/fixtures/detectron2).
Prints one JSON line per image: the median of --iterations runs after one warm-up."""
import argparse
import json
import os
import sys
import time
import types

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--refs", required=True)
ap.add_argument("--weights", required=True)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--iterations", type=int, default=3)
ap.add_argument("images", nargs="+")
a = ap.parse_args()
for name in ("yacs", "iopath", "fvcore", "detectron2"):
    sys.path.insert(0, os.path.join(a.refs, name))
class _Unavailable:  # pycocotools: only mask / COCO-eval code imports it, never called here
    pass


for name in ("pycocotools", "pycocotools.mask", "pycocotools.coco", "pycocotools.cocoeval"):
    m = types.ModuleType(name)
    m.__path__ = []
    m.COCO = m.COCOeval = _Unavailable
    sys.modules[name] = m
sys.modules["pycocotools.cocoeval"].maskUtils = sys.modules["pycocotools.mask"]
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from detectron2.config import get_cfg  # noqa: E402
from detectron2.engine import DefaultPredictor  # noqa: E402

torch.set_num_threads(a.threads)
cfg = get_cfg()
cfg.merge_from_file(os.path.join(a.refs, "detectron2/configs/COCO-Detection/faster_rcnn_R_50_C4_1x.yaml"))
cfg.MODEL.DEVICE = "cpu"
cfg.MODEL.WEIGHTS = a.weights
predictor = DefaultPredictor(cfg)
for path in a.images:
    bgr = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB"))[:, :, ::-1])
    predictor(bgr)
    ts = []
    for _ in range(a.iterations):
        t = time.perf_counter()
        n = len(predictor(bgr)["instances"])
        ts.append(time.perf_counter() - t)
    print(json.dumps({"impl": "detectron2", "torch": torch.__version__, "image": os.path.basename(path),
                      "threads": a.threads, "detections": n, "ms": round(sorted(ts)[len(ts) // 2] * 1000, 1)}), flush=True)
