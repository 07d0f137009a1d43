"""The functional interface: ``minigrad.nn.functional`` as ``torch.nn.functional``.

Each name here is re-exported from the module in ``minigrad/ops`` where the
op's forward and backward live.
"""
from minigrad.nn.modules.sparse import embedding  # noqa: F401,E402
from minigrad.ops.activation import (  # noqa: F401
    celu_,
    elu,
    elu_,
    gelu,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    log_softmax,
    prelu,
    relu,
    relu_,
    rrelu,
    rrelu_,
    selu_,
    sigmoid,
    silu,
    softmax,
    softmin,
    tanh,
    threshold_,
)
from minigrad.ops.attention import normalize, scaled_dot_product_attention  # noqa: F401
from minigrad.ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d  # noqa: F401
from minigrad.ops.dropout import alpha_dropout, dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout  # noqa: F401
from minigrad.ops.indexing import one_hot  # noqa: F401
from minigrad.ops.linalg import linear  # noqa: F401
from minigrad.ops.loss import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from minigrad.ops.normalization import batch_norm, group_norm, instance_norm, layer_norm, local_response_norm, rms_norm  # noqa: F401
from minigrad.ops.padding import pad  # noqa: F401
from minigrad.ops.pointwise_activations import (  # noqa: F401
    celu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    relu6,
    selu,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from minigrad.ops.pooling import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d,
    max_pool2d_with_indices,
    max_pool3d,
    max_pool3d_with_indices,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
    spatial_pyramid_pool,
)
from minigrad.ops.resize import channel_shuffle, interpolate, pixel_shuffle, pixel_unshuffle  # noqa: F401

# isort: split
# Losses beyond the classics, distances (ops/loss.py, margin_loss.py, ctc.py, distance.py).
from minigrad.ops.ctc import ctc_loss  # noqa: F401,E402
from minigrad.ops.distance import cosine_similarity, pairwise_distance, pdist  # noqa: F401,E402
from minigrad.ops.loss import gaussian_nll_loss, huber_loss, poisson_nll_loss  # noqa: F401,E402
from minigrad.ops.margin_loss import (  # noqa: F401,E402
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)

# isort: split
# --- nnfold ---
# Sliding blocks (ops/fold.py), the bilinear form (ops/bilinear.py), bags of embeddings (ops/embedding_bag.py).
from minigrad.ops.bilinear import bilinear  # noqa: F401,E402
from minigrad.ops.embedding_bag import embedding_bag  # noqa: F401,E402
from minigrad.ops.fold import fold, unfold  # noqa: F401,E402

# --- nnsample ---
# Spatial transformers, Gumbel-softmax, fractional max pooling
# (ops/grid_sample.py, gumbel_softmax.py, fractional_pool.py).
from minigrad.ops.fractional_pool import (  # noqa: F401,E402
    fractional_max_pool2d,
    fractional_max_pool2d_with_indices,
    fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
)
from minigrad.ops.grid_sample import affine_grid, grid_sample  # noqa: F401,E402
from minigrad.ops.gumbel_softmax import gumbel_softmax  # noqa: F401,E402

# --- nnmisc ---
# The deprecated upsample* aliases of interpolate (ops/upsample.py) and
# multi_head_attention_forward (ops/multi_head_attention.py).
from minigrad.ops.multi_head_attention import multi_head_attention_forward  # noqa: F401,E402
from minigrad.ops.upsample import upsample, upsample_bilinear, upsample_nearest  # noqa: F401,E402

# isort: split
# --- gaps7 ---
# conv over (time, batch, channels) (ops/conv_tbc.py); native_channel_shuffle is channel_shuffle.
from minigrad.ops.conv_tbc import conv_tbc  # noqa: F401,E402

native_channel_shuffle = channel_shuffle
