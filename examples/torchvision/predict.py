"""bazel run //:predict -- prints the torch/torchvision builds, the device, and the prediction."""

import sys

import torch
import torchvision

from classify import boxes_kept, device, predict, synthetic_image


def main() -> int:
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__} on {device()} (CUDA build: {torch.version.cuda})")
    label, probabilities = predict(synthetic_image())
    print(f"prediction: {label} (p = {probabilities.max():.3f}; an untrained model: the label is arbitrary but fixed)")
    print(f"torchvision.ops.nms kept boxes {boxes_kept()} of [0, 1, 2]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
