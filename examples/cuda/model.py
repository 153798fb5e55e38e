"""A small classifier trained on the GPU when there is one, else on the CPU."""

import torch


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_data(n: int = 512, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two Gaussian blobs in 2-D, labelled 0 and 1."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=generator)
    y = (torch.arange(n) % 2).long()
    x[y == 1] += 3.0
    return x, y


def train(device: torch.device | None = None, steps: int = 200, seed: int = 0) -> tuple[torch.nn.Module, float]:
    """A two-layer MLP fitted to make_data() on `device`; returns it and its training accuracy."""
    device = device or pick_device()
    torch.manual_seed(seed)
    x, y = (t.to(device) for t in make_data(seed=seed))
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (net(x).argmax(dim=1) == y).float().mean().item()
    return net, accuracy
