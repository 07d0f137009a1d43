"""Framework cost per op: microseconds per call on tiny tensors.

    python benchmarks/op_overhead.py [--threads N]

On 2x2 tensors the arithmetic is free, so what is measured is the Python
and bookkeeping cost of recording one op (and, for "fwd+bwd", of walking
the graph back). minigrad against PyTorch when it is installed.
"""
import argparse
import timeit

from _timing import print_table, try_import_torch

import minigrad as mg


def per_call_us(function, number):
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def cases(lib, tensor_a, tensor_b, image, weight):
    conv2d = lib.nn.functional.conv2d

    def step():
        loss = (tensor_a * tensor_b + tensor_a).sum()
        loss.backward()

    return [
        ("add", lambda: tensor_a + tensor_b),
        ("mul", lambda: tensor_a * tensor_b),
        ("matmul", lambda: tensor_a @ tensor_b),
        ("relu", lambda: tensor_a.relu()),
        ("sum", lambda: tensor_a.sum()),
        ("reshape", lambda: tensor_a.reshape(4)),
        ("conv2d 1x1x4x4, 3x3", lambda: conv2d(image, weight, padding=1)),
        ("3 ops fwd+bwd", step),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--number", type=int, default=5000)
    args = parser.parse_args()

    mg.set_num_threads(args.threads)
    mine = cases(mg, mg.randn(2, 2, requires_grad=True), mg.randn(2, 2, requires_grad=True),
                 mg.randn(1, 1, 4, 4, requires_grad=True), mg.randn(1, 1, 3, 3, requires_grad=True))
    torch = try_import_torch(args.threads)
    theirs = dict(cases(torch, torch.randn(2, 2, requires_grad=True), torch.randn(2, 2, requires_grad=True),
                        torch.randn(1, 1, 4, 4, requires_grad=True),
                        torch.randn(1, 1, 3, 3, requires_grad=True))) if torch else {}

    rows = []
    for name, function in mine:
        ours = per_call_us(function, args.number)
        row = [name, f"{ours:.2f}"]
        if torch:
            reference = per_call_us(theirs[name], args.number)
            row += [f"{reference:.2f}", f"{ours / reference:.2f}x"]
        rows.append(row)
    print(f"Per-op overhead on tiny tensors, {args.threads} thread(s), microseconds per call")
    print_table(["op", "minigrad us"] + (["PyTorch us", "minigrad/PyTorch"] if torch else []), rows)


if __name__ == "__main__":
    main()
