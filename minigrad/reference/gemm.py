"""The packed, blocked GEMM of csrc/gemm.h, written in NumPy to be read.

    C (m, n) = A (m, k) @ B (k, n)

The loops are the kernel's (Goto / BLIS): blocks of KC along k, blocks of
MC rows of A, panels of NR columns of B and MR rows of A, and an (MR, NR)
tile of C that the micro-kernel keeps in registers while it walks k. The
packed copies are what make the kernel fast (it reads them with unit
stride); here they only show the data layout.
"""
import numpy as np

MR, NR, KC, MC, NC = 8, 32, 256, 128, 2048     # the AVX-512 path's sizes

# (MR, NR, MC) of each instruction-set path (csrc/simd_paths.h): the tile
# changes the packed layout (pack_b's nr), never the value of a product.
PATH_TILES = {"avx512": (8, 32, 128), "avx2": (6, 16, 144), "generic": (6, 8, 144)}


def pack_a(block):
    """(mc, kc) block of A -> panels of MR rows, each stored column by column: (panels, kc, MR)."""
    mc, kc = block.shape
    panels = -(-mc // MR)
    padded = np.zeros((panels * MR, kc), dtype=block.dtype)
    padded[:mc] = block
    return padded.reshape(panels, MR, kc).transpose(0, 2, 1)


def pack_b(block, nr=NR):
    """(kc, nc) block of B -> panels of nr columns, each row by row: (panels, kc, nr)."""
    kc, nc = block.shape
    panels = -(-nc // nr)
    padded = np.zeros((kc, panels * nr), dtype=block.dtype)
    padded[:, :nc] = block
    return padded.reshape(kc, panels, nr).transpose(1, 0, 2)


def micro_kernel(a_panel, b_panel):
    """(kc, MR) and (kc, NR) -> the (MR, NR) tile: a sum of kc outer products, k ascending."""
    tile = np.zeros((MR, NR), dtype=np.result_type(a_panel, b_panel))
    for p in range(a_panel.shape[0]):
        tile += np.outer(a_panel[p], b_panel[p])     # MR broadcasts x NR values: MR*NR FMAs
    return tile


def block_depth(k):
    """KC-deep blocks as equal as possible, a multiple of 16: 288 = 144 + 144, not
    256 + 32 (every block loads and stores each C tile once)."""
    blocks = max(1, -(-k // KC))
    per_block = -(-k // blocks)                   # ceil(k / blocks)
    return min(KC, -(-per_block // 16) * 16)      # rounded up to a multiple of 16


def gemm(a, b):
    """C (m, n) = A (m, k) @ B (k, n), block by block as csrc/gemm.h computes it (in a's and b's dtype)."""
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=np.result_type(a, b))
    for j0 in range(0, n, NC):
        depth = block_depth(k)
        for p0 in range(0, k, depth):
            packed_b = pack_b(b[p0:p0 + depth, j0:j0 + NC])               # (panels, kc, NR)
            for i0 in range(0, m, MC):
                packed_a = pack_a(a[i0:i0 + MC, p0:p0 + depth])           # (panels, kc, MR)
                for s, b_panel in enumerate(packed_b):
                    for r, a_panel in enumerate(packed_a):
                        tile = micro_kernel(a_panel, b_panel)
                        rows = slice(i0 + r * MR, min(i0 + (r + 1) * MR, i0 + MC, m))
                        cols = slice(j0 + s * NR, min(j0 + (s + 1) * NR, j0 + NC, n))
                        c[rows, cols] += tile[:rows.stop - rows.start, :cols.stop - cols.start]
    return c
