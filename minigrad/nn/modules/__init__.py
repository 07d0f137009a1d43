"""The layers of minigrad.nn, one family per file (as in torch/nn/modules)."""
from minigrad.nn.modules.activation import ELU, GELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, SiLU, Softmax, Tanh  # noqa: F401
from minigrad.nn.modules.container import ModuleDict, ModuleList, Sequential  # noqa: F401
from minigrad.nn.modules.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401
from minigrad.nn.modules.dropout import Dropout, Dropout2d  # noqa: F401
from minigrad.nn.modules.linear import Flatten, Identity, Linear, Unflatten  # noqa: F401
from minigrad.nn.modules.loss import (  # noqa: F401
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from minigrad.nn.modules.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm  # noqa: F401
from minigrad.nn.modules.padding import (  # noqa: F401
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from minigrad.nn.modules.pooling import (  # noqa: F401
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool2d,
    SpatialPyramidPooling,
)
from minigrad.nn.modules.resize import PixelShuffle, Upsample  # noqa: F401

# Sequence models.
from minigrad.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: F401
from minigrad.nn.modules.sparse import Embedding  # noqa: F401
from minigrad.nn.modules.transformer import (  # noqa: F401
    MultiheadAttention,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "ELU",
    "Flatten",
    "GELU",
    "GroupNorm",
    "Identity",
    "InstanceNorm2d",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "MaxUnpool2d",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "PReLU",
    "PixelShuffle",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "SpatialPyramidPooling",
    "Tanh",
    "Unflatten",
    "Upsample",
    # Sequence models.
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "Embedding",
    "MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerEncoderLayer",
    "TransformerDecoder", "TransformerDecoderLayer",
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]

# The activation layers of ops/pointwise_activations.py.
from minigrad.nn.modules.pointwise_activation import (  # noqa: E402
                                            CELU,
                                            GLU,
                                            SELU,
                                            Hardshrink,
                                            Hardsigmoid,
                                            Hardswish,
                                            Hardtanh,
                                            LogSigmoid,
                                            Mish,
                                            ReLU6,
                                            Softmin,
                                            Softplus,
                                            Softshrink,
                                            Softsign,
                                            Tanhshrink,
                                            Threshold,
)

__all__ += [
    "CELU",
    "GLU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LogSigmoid",
    "Mish",
    "ReLU6",
    "SELU",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "Tanhshrink",
    "Threshold",
]

# More pooling, normalization, dropout, activation and shape layers (torch.nn's names).
from minigrad.nn.modules.activation import RReLU, Softmax2d  # noqa: E402
from minigrad.nn.modules.dropout import AlphaDropout, Dropout1d, Dropout3d, FeatureAlphaDropout  # noqa: E402
from minigrad.nn.modules.normalization import (  # noqa: E402
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm3d,
    LocalResponseNorm,
    RMSNorm,
)
from minigrad.nn.modules.pooling import (  # noqa: E402
    AdaptiveAvgPool1d,
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool3d,
    AvgPool3d,
    LPPool1d,
    LPPool2d,
    LPPool3d,
    MaxPool3d,
    MaxUnpool1d,
    MaxUnpool3d,
)
from minigrad.nn.modules.resize import (  # noqa: E402
    ChannelShuffle,
    PixelUnshuffle,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)

__all__ += [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool3d",
    "AlphaDropout",
    "AvgPool3d",
    "BatchNorm3d",
    "ChannelShuffle",
    "Dropout1d",
    "Dropout3d",
    "FeatureAlphaDropout",
    "InstanceNorm1d",
    "InstanceNorm3d",
    "LocalResponseNorm",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool3d",
    "PixelUnshuffle",
    "RMSNorm",
    "RReLU",
    "Softmax2d",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]

# More losses, and the distance layers.
from minigrad.nn.modules.distance import CosineSimilarity, PairwiseDistance  # noqa: E402
from minigrad.nn.modules.loss import (  # noqa: E402
    CosineEmbeddingLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss2d,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)

__all__ += [
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "CTCLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss2d",
    "PairwiseDistance",
    "PoissonNLLLoss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]

# --- nnfold ---
# Fold/Unfold, Bilinear, EmbeddingBag, ParameterList/ParameterDict and the lazy layers.
from minigrad.nn.modules.bilinear import Bilinear  # noqa: E402
from minigrad.nn.modules.container import ParameterDict, ParameterList  # noqa: E402
from minigrad.nn.modules.embedding_bag import EmbeddingBag  # noqa: E402
from minigrad.nn.modules.fold import Fold, Unfold  # noqa: E402
from minigrad.nn.modules.lazy import (  # noqa: E402
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyConvTranspose3d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
    LazyLinear,
    UninitializedBuffer,
    UninitializedParameter,
)

__all__ += [
    "Bilinear",
    "EmbeddingBag",
    "Fold",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
    "LazyLinear",
    "ParameterDict",
    "ParameterList",
    "Unfold",
    "UninitializedBuffer",
    "UninitializedParameter",
]

# --- nnsample ---
# Fractional max pooling, CrossMapLRN2d, the adaptive softmax.
from minigrad.nn.modules.adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: E402
from minigrad.nn.modules.sampling import CrossMapLRN2d, FractionalMaxPool2d, FractionalMaxPool3d  # noqa: E402

__all__ += [
    "AdaptiveLogSoftmaxWithLoss",
    "CrossMapLRN2d",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
]

# --- nnmisc ---
# The recurrent base classes (RNN, LSTM, GRU and the cells derive from them).
from minigrad.nn.modules.rnn import RNNBase, RNNCellBase  # noqa: E402
from minigrad.nn.modules.sync_batchnorm import SyncBatchNorm  # noqa: E402

__all__ += [
    "RNNBase",
    "RNNCellBase",
    "SyncBatchNorm",
]

# --- gaps7 ---
from minigrad.nn.modules.deprecated_container import Container  # noqa: E402

__all__ += ["Container"]
