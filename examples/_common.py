"""Helpers shared by the examples: data loading, a progress bar, tables, figures.

Nothing here is part of minigrad itself. tqdm and matplotlib are optional
(``pip install "minigrad[examples]"``): without tqdm there is no live bar, only
one line per epoch; without matplotlib the pictures are skipped with a message.
"""
import os
import sys
import time

import numpy as np

import minigrad as mg

DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def add_run_arguments(parser, quick_help="a small subset that finishes in under a minute"):
    """The arguments every example understands: threads, seed, --quick, --smoke, --out."""
    parser.add_argument("--threads", type=int, default=None,
                        help="OpenMP threads for minigrad's kernels (default: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run that only checks everything works (tests)")
    parser.add_argument("--out", default="examples_out", help="folder for pictures and checkpoints")


def add_common_arguments(parser, epochs, batch_size):
    """The arguments every training example on the image datasets understands."""
    parser.add_argument("--data-dir", default=None,
                        help="folder with the IDX files (default: $MINIGRAD_DATA, then ~/.cache/minigrad)")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    add_run_arguments(parser)


def setup(args):
    """Seed, thread count and output folder, from the common arguments."""
    mg.manual_seed(args.seed)
    np.random.seed(args.seed)
    if args.threads is not None:
        mg.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)


def data_help(dataset, reason):
    return (
        f"Could not find or download {DATASETS[dataset]} ({reason.rstrip(':')}).\nTo proceed, either\n"
        "  * train on Fashion-MNIST, which ships offline in Debian's package:\n"
        "        sudo apt install dataset-fashion-mnist\n"
        "        python " + os.path.basename(sys.argv[0]) + " --dataset fashion-mnist\n"
        "  * or put the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,\n"
        "    t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in a folder DIR (or DIR/"
        f"{'mnist' if dataset == 'mnist' else 'fashion-mnist'}/) and pass\n"
        "        --data-dir DIR      or set  MINIGRAD_DATA=DIR")


def to_numpy(values):
    """A dataset's ``.data``/``.targets`` as a NumPy array, whether Tensor or array."""
    if hasattr(values, "numpy"):
        return values.numpy()
    return np.asarray(values)


def load_images(dataset, data_dir, train, download=True):
    """(images uint8 (N, 28, 28), labels int64 (N,)) of MNIST or Fashion-MNIST.

    Exits with one message that says how to get the data when it is missing.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    cls = getattr(mg.data.datasets, DATASETS[dataset])
    try:
        ds = cls(root=data_dir, train=train, download=download)
    except (RuntimeError, OSError, ValueError) as error:
        # one message: the library's first line says what failed, the rest how to go on
        reason = str(error).splitlines()[0].split(". ")[0] if str(error) else type(error).__name__
        print(data_help(dataset, reason), file=sys.stderr)
        sys.exit(2)
    return to_numpy(ds.data).astype(np.uint8), to_numpy(ds.targets).astype(np.int64)


def subset(images, labels, size, seed):
    """A random subset of ``size`` examples (all of them when size is None or too big)."""
    if size is None or size >= len(labels):
        return images, labels
    keep = np.random.default_rng(seed).permutation(len(labels))[:size]
    return images[keep], labels[keep]


class Progress:
    """Progress over ``total`` items (one epoch): a live tqdm bar, then one line of summary.

    The bar (``tqdm.auto``: a text bar on a terminal, a widget in a notebook)
    shows only where someone watches it: tqdm installed and stderr a terminal
    or a notebook. It is cleared at ``close()``, which always prints one line
    to stdout, ``desc: postfix, rate unit/s, seconds``, so a log
    (``python examples/mnist_knn.py > log.txt``) reads one line per epoch
    instead of thousands of carriage-return fragments.
    """

    def __init__(self, total, desc, unit="img"):
        self.total, self.desc, self.unit = total, desc, unit
        self.count, self.start, self.postfix = 0, time.perf_counter(), ""
        self.bar = None
        if _someone_watches(sys.stderr):
            try:
                from tqdm.auto import tqdm
                self.bar = tqdm(total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True)
            except ImportError:
                pass

    def rate(self):
        return self.count / max(time.perf_counter() - self.start, 1e-9)

    def update(self, n, **postfix):
        self.count += n
        self.postfix = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                 for k, v in postfix.items())
        if self.bar is not None:
            self.bar.set_postfix_str(self.postfix, refresh=False)
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elapsed = time.perf_counter() - self.start
        summary = ", ".join(filter(None, [self.postfix, f"{self.rate():.0f} {self.unit}/s",
                                          f"{elapsed:.1f} s"]))
        print(f"{self.desc}: {summary}", flush=True)


def _someone_watches(stream):
    """True on a terminal, or in a Jupyter kernel (where tqdm.auto draws a widget)."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):      # no isatty, or a closed stream
        return False


def time_forward(network, inputs, repeats):
    """Median wall time of one forward pass (no graph recorded), in milliseconds."""
    times = []
    with mg.no_grad():
        network(inputs)                                                    # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            network(inputs)
            times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def print_table(headers, rows, title=None):
    """Print a plain-text table; numbers are formatted by the caller."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if title:
        print(f"\n{title}")
    line = "  ".join("-" * w for w in widths)
    print("  ".join(h.ljust(w) for h, w in zip(cells[0], widths)))
    print(line)
    for row in cells[1:]:
        print("  ".join(c.rjust(w) if _is_number(c) else c.ljust(w) for c, w in zip(row, widths)))


def _is_number(text):
    if text == "-":
        return True
    try:
        float(text.rstrip("%sx").replace(",", ""))
        return True
    except ValueError:
        return False


def pyplot():
    """matplotlib.pyplot with a file-only backend, or None (with a message) if not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        print("matplotlib is not installed, so no picture is drawn "
              "(pip install \"minigrad[examples]\" to get it)")
        return None


def save_figure(fig, path):
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"wrote {path}")
