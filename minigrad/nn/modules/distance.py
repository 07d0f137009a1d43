"""Distance layers: CosineSimilarity and PairwiseDistance (as torch.nn.modules.distance)."""
from minigrad.nn.module import Module
from minigrad.ops.distance import cosine_similarity, pairwise_distance


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dimension: (N, D), (N, D) -> (N,)."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along dim: (N, D), (N, D) -> (N,)."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, self.dim, self.eps)
