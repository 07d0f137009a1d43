"""ResNet's basic block: learn a residual F(x) and add it to the input.

The idea: y = relu(F(x) + shortcut(x)). If the best thing a block can do is
nothing, it only has to drive F to 0, which is easy, instead of learning an
identity through two convolutions. And in backward, the addition passes the
gradient straight through the shortcut, so very deep stacks still train.

The shortcut is the identity when shapes match, else a 1x1 projection
(conv with the block's stride + batch norm). Names follow torchvision
(conv1, bn1, conv2, bn2, downsample), so state_dict keys match
torchvision's BasicBlock.
"""
from minigrad.nn import BatchNorm2d, Conv2d, Module, ReLU, Sequential
from minigrad.nn.modules._utils import positive_int


class BasicBlock(Module):
    """conv3x3(stride)-BN-ReLU-conv3x3-BN, plus the shortcut, then ReLU.

    Parameters: 9*in*out + 9*out*out + 4*out, plus in*out + 2*out for a projection.
    """

    expansion = 1

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        positive_int(in_channels, "BasicBlock: in_channels")
        positive_int(out_channels, "BasicBlock: out_channels")
        positive_int(stride, "BasicBlock: stride")
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(out_channels)
        self.relu = ReLU()
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            # Projection shortcut: match the residual's channels and resolution.
            self.downsample = Sequential(Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                         BatchNorm2d(out_channels))
        else:
            self.downsample = None
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)
