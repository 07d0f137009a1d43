"""Train a two-layer network on a two-spirals toy problem with plain autograd.

    python examples/quickstart.py

The smallest complete training loop: a forward pass, a loss, backward, and a
gradient-descent step, written with nothing but Tensors.
"""
import argparse
import time

import numpy as np

import minigrad as mg


def two_spirals(points_per_class, rng):
    t = np.sqrt(rng.random(points_per_class)) * 3 * np.pi
    noise = rng.normal(scale=0.2, size=(2, points_per_class, 2))
    a = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 10 + noise[0] / 10
    b = -np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 10 + noise[1] / 10
    x = np.concatenate([a, b]).astype(np.float32)
    y = np.concatenate([np.zeros(points_per_class), np.ones(points_per_class)]).astype(np.float32)
    return x, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    mg.manual_seed(args.seed)
    x_np, y_np = two_spirals(500, np.random.default_rng(args.seed))
    x, y = mg.tensor(x_np), mg.tensor(y_np).reshape(-1, 1)

    w1 = (mg.randn(2, args.hidden) * 1.0).detach().requires_grad_()
    b1 = mg.zeros(args.hidden, requires_grad=True)
    w2 = (mg.randn(args.hidden, args.hidden) / np.sqrt(args.hidden)).detach().requires_grad_()
    b2 = mg.zeros(args.hidden, requires_grad=True)
    w3 = (mg.randn(args.hidden, 1) / np.sqrt(args.hidden)).detach().requires_grad_()
    b3 = mg.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2, w3, b3]

    start = time.perf_counter()
    for step in range(args.steps + 1):
        hidden = (x @ w1 + b1).tanh()
        hidden = (hidden @ w2 + b2).tanh()
        probability = (hidden @ w3 + b3).sigmoid().clamp(1e-6, 1 - 1e-6)
        # binary cross-entropy
        loss = -(y * probability.log() + (1 - y) * (1 - probability).log()).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with mg.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-args.lr)
        if step % (args.steps // 5) == 0:
            accuracy = ((probability.detach() > 0.5).numpy() == (y.numpy() > 0.5)).mean()
            print(f"step {step:5d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")
    print(f"trained in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
