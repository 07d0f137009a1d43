"""Weight decay versus an L2 penalty: the same for SGD, different for Adam (hence AdamW).

    python examples/weight_decay_vs_l2.py [--quick] [--out DIR]

An L2 penalty adds (lambda/2)|w|^2 to the loss, so its gradient adds lambda*w.
  * SGD:   w <- w - lr*(g + lambda*w)    is exactly SGD(weight_decay=lambda):
           the two runs below agree to rounding error.
  * Adam:  the lambda*w term goes through Adam's per-coordinate scaling
           1/(sqrt(v)+eps), so weights with large gradients are barely
           decayed. AdamW (Loshchilov & Hutter, 2019) decays the weights
           directly, w <- w - lr*lambda*w, outside the adaptive scaling:
           a different algorithm, and the runs part ways.
Adam(weight_decay=lambda) is the L2 version; the script checks that too.
The same lambda means different strengths: AdamW shrinks every weight by
lr*lambda of itself per step, while Adam's L2 term is rescaled to about lr
per step for weights with small gradients, so here AdamW's weights stay larger.
The plot shows the weight norm of each run over training.
"""
import argparse
import os

import numpy as np
from _common import add_run_arguments, print_table, pyplot, save_figure, setup

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F


def make_data(samples, features, rng):
    """A regression problem with more features than are needed: decay has work to do."""
    x = rng.normal(size=(samples, features))
    true_weight = np.zeros(features)
    true_weight[:5] = rng.normal(size=5) * 2
    y = np.tanh(x @ true_weight)[:, None] + 0.1 * rng.normal(size=(samples, 1))
    return mg.tensor(x, dtype=mg.float64), mg.tensor(y, dtype=mg.float64)


def make_model(features, hidden, seed):
    mg.manual_seed(seed)
    # float64, so that the runs that should agree do so to ~1e-15 and not to
    # float32 rounding amplified by Adam's division by sqrt(v)
    return nn.Sequential(nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, 1)).double()


def weight_norm(model):
    return float(np.sqrt(sum((p.detach().numpy().astype(np.float64) ** 2).sum() for p in model.parameters())))


def run(name, x, y, args):
    """Train one model; returns (weight norms per step, final loss, final parameters)."""
    model = make_model(x.shape[1], args.hidden, args.seed)
    decay = args.weight_decay
    if name == "SGD, weight_decay":
        optimizer, penalty = mg.optim.SGD(model.parameters(), lr=args.sgd_lr, weight_decay=decay), 0.0
    elif name == "SGD, L2 in the loss":
        optimizer, penalty = mg.optim.SGD(model.parameters(), lr=args.sgd_lr), decay
    elif name == "Adam, weight_decay":
        optimizer, penalty = mg.optim.Adam(model.parameters(), lr=args.adam_lr, weight_decay=decay), 0.0
    elif name == "Adam, L2 in the loss":
        optimizer, penalty = mg.optim.Adam(model.parameters(), lr=args.adam_lr), decay
    elif name == "AdamW":
        optimizer, penalty = mg.optim.AdamW(model.parameters(), lr=args.adam_lr, weight_decay=decay), 0.0
    else:
        raise ValueError(f"unknown run {name!r}")
    norms = [weight_norm(model)]
    for _ in range(args.steps):
        loss = F.mse_loss(model(x), y)
        if penalty:
            loss = loss + penalty / 2 * sum((p * p).sum() for p in model.parameters())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        norms.append(weight_norm(model))
    with mg.no_grad():
        final_loss = F.mse_loss(model(x), y).item()
    return norms, final_loss, [p.detach().numpy().copy() for p in model.parameters()]


def max_difference(a, b):
    return max(float(np.abs(p - q).max()) for p, q in zip(a, b))


RUNS = ["SGD, weight_decay", "SGD, L2 in the loss", "Adam, weight_decay", "Adam, L2 in the loss", "AdamW"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--weight-decay", type=float, default=1e-2)
    parser.add_argument("--sgd-lr", type=float, default=0.05)
    parser.add_argument("--adam-lr", type=float, default=1e-2)
    add_run_arguments(parser, quick_help="fewer steps")
    args = parser.parse_args(argv)
    setup(args)
    if args.smoke:
        args.steps = 20
    elif args.quick:
        args.steps = 200

    x, y = make_data(256, 50, np.random.default_rng(args.seed))
    results = {name: run(name, x, y, args) for name in RUNS}
    norms = {name: r[0] for name, r in results.items()}
    params = {name: r[2] for name, r in results.items()}

    print_table(["run", "final weight norm", "final MSE"],
                [(name, f"{results[name][0][-1]:.4f}", f"{results[name][1]:.5f}") for name in RUNS],
                title=f"{args.steps} full-batch steps, weight decay / L2 coefficient {args.weight_decay}")
    comparisons = [
        ("SGD weight_decay vs SGD + L2",
         max_difference(params["SGD, weight_decay"], params["SGD, L2 in the loss"]),
         "same algorithm"),
        ("Adam weight_decay vs Adam + L2", max_difference(params["Adam, weight_decay"],
                                                          params["Adam, L2 in the loss"]), "same algorithm"),
        ("Adam + L2 vs AdamW", max_difference(params["Adam, L2 in the loss"], params["AdamW"]),
         "different algorithms"),
    ]
    print_table(["comparison", "max |parameter difference|", "expected"],
                [(name, f"{value:.2e}", expected) for name, value, expected in comparisons])

    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        styles = {"SGD, weight_decay": "-", "SGD, L2 in the loss": "--", "Adam, weight_decay": "-",
                  "Adam, L2 in the loss": "--", "AdamW": "-"}
        for name in RUNS:
            ax.plot(norms[name], styles[name], label=name, linewidth=2 if styles[name] == "-" else 1.5)
        ax.set(xlabel="step", ylabel="|w| (all parameters)", title="weight norm during training")
        ax.legend()
        save_figure(fig, os.path.join(args.out, "weight_decay_vs_l2.png"))
    return comparisons


if __name__ == "__main__":
    main()
