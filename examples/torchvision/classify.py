"""A torchvision pipeline on a synthetic image: transforms, a small ResNet, and torchvision's
native ops (its own shared library, loaded against the locked torch). No downloaded weights:
the model is initialised from a fixed seed, so the prediction is the same on every machine."""

import torch
import torchvision
from torchvision.transforms import v2

CLASSES = ("circle", "square", "stripes", "noise")


def synthetic_image(height: int = 96, width: int = 128) -> torch.Tensor:
    """A uint8 RGB image (C, H, W): a bright disc on a horizontal gradient."""
    ys = torch.arange(height).view(-1, 1).expand(height, width)
    xs = torch.arange(width).view(1, -1).expand(height, width)
    disc = ((ys - height // 2) ** 2 + (xs - width // 2) ** 2) < (min(height, width) // 4) ** 2
    gradient = (xs * 255 // (width - 1)).to(torch.uint8)
    image = torch.stack([gradient, gradient.flip(1), torch.full_like(gradient, 64)])
    image[:, disc] = 255
    return image


def preprocess() -> v2.Compose:
    """The transforms a classifier's input goes through: resize, crop, scale, normalise."""
    return v2.Compose(
        [
            v2.Resize(72, antialias=True),
            v2.CenterCrop(64),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ]
    )


def model(seed: int = 0) -> torch.nn.Module:
    """torchvision's ResNet-18 with a 4-class head, initialised from `seed` (no weights file)."""
    torch.manual_seed(seed)
    net = torchvision.models.resnet18(weights=None, num_classes=len(CLASSES))
    return net.eval()


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def predict(image: torch.Tensor, net: torch.nn.Module | None = None) -> tuple[str, torch.Tensor]:
    """(class name, probabilities) for one uint8 image."""
    net = (net or model()).to(device())
    batch = preprocess()(image).unsqueeze(0).to(device())
    with torch.no_grad():
        probabilities = net(batch).softmax(dim=1)[0].cpu()
    return CLASSES[int(probabilities.argmax())], probabilities


def boxes_kept(iou_threshold: float = 0.5) -> list[int]:
    """torchvision.ops.nms (a native op of torchvision's own library) on three boxes, two of
    which overlap: the indices it keeps."""
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    return torchvision.ops.nms(boxes, scores, iou_threshold).tolist()
