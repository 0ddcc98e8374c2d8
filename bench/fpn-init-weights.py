"""Writes torchvision's randomly initialised fasterrcnn_resnet50_fpn (weights=None, its own init) as an
F32 safetensors file, for the fine-tuning demo (bench/fpn-finetune-demo.sh). Pure standard library + torch.
usage: /usr/bin/python3 bench/fpn-init-weights.py OUT.safetensors [--v2]"""
import json, struct, sys
import torch, torchvision

torch.manual_seed(0)
build = torchvision.models.detection.fasterrcnn_resnet50_fpn_v2 if '--v2' in sys.argv else \
    torchvision.models.detection.fasterrcnn_resnet50_fpn
sd = build(weights=None, weights_backbone=None, num_classes=91).state_dict()
header, blobs, off = {}, [], 0
for k, v in sd.items():
    b = v.numpy().astype('<i8' if v.dtype == torch.int64 else '<f4').tobytes()
    header[k] = {'dtype': 'I64' if v.dtype == torch.int64 else 'F32', 'shape': list(v.shape),
                 'data_offsets': [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode()
h += b' ' * ((8 - len(h) % 8) % 8)
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
print('wrote', len(sd), 'tensors to', sys.argv[1])
