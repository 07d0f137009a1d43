"""Building blocks: shapes, parameter counts against closed forms, gradient flow,
state_dict keys (torchvision's names); the differentiable k-NN classifier."""
import numpy as np
import pytest

import minigrad
from minigrad import gradcheck, nn
from minigrad.models import (
    BasicBlock,
    DenseBlock,
    DepthwiseSeparableConv2d,
    Fire,
    FullyConvolutionalNet,
    InceptionModule,
    KNNClassifier,
    MobileNet,
    SegmentationHead,
    SqueezeNet,
    Transition,
    count_parameters,
)


def f32(rng, *shape):
    return minigrad.tensor(rng.standard_normal(shape).astype(np.float32))


def assert_gradients_flow(module, x):
    out = module(x)
    out.sum().backward()
    for name, p in module.named_parameters():
        assert p.grad is not None, f"no gradient reached {name}"
        assert np.any(p.grad.array != 0), f"zero gradient at {name}"
    return out


# ------------------------------------------------------------------- MobileNet
def test_depthwise_separable_parameter_count():
    block = DepthwiseSeparableConv2d(16, 32, 3)
    assert count_parameters(block) == 3 * 3 * 16 + 16 * 32 == 656
    assert count_parameters(nn.Conv2d(16, 32, 3, bias=False)) == 4608
    with_bias = DepthwiseSeparableConv2d(16, 32, 3, bias=True)
    assert count_parameters(with_bias) == 656 + 16 + 32
    assert [(k, tuple(v.shape)) for k, v in block.state_dict().items()] == [
        ("depthwise.weight", (16, 1, 3, 3)), ("pointwise.weight", (32, 16, 1, 1))]


def test_depthwise_separable_forward_matches_two_convs(rng):
    block = DepthwiseSeparableConv2d(4, 6, 3, stride=2, padding=1)
    x = f32(rng, 2, 4, 8, 8)
    out = assert_gradients_flow(block, x)
    assert out.shape == (2, 6, 4, 4)
    expected = nn.functional.conv2d(nn.functional.conv2d(x, block.depthwise.weight, None, 2, 1, 1, 4),
                                    block.pointwise.weight)
    np.testing.assert_allclose(out.array, expected.array, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="in_channels"):
        DepthwiseSeparableConv2d(0, 4, 3)


def test_mobilenet_shapes_and_parameter_count(rng):
    config = ((8, 1), (16, 2))
    model = MobileNet(num_classes=5, stem_channels=4, config=config)
    out = assert_gradients_flow(model, f32(rng, 2, 3, 16, 16))
    assert out.shape == (2, 5)

    def block(c, o):   # depthwise 3x3 + BN, pointwise 1x1 + BN
        return 9 * c + 2 * c + c * o + 2 * o
    expected = (27 * 4 + 2 * 4) + block(4, 8) + block(8, 16) + (16 * 5 + 5)
    assert count_parameters(model) == expected
    half = MobileNet(num_classes=5, stem_channels=4, config=config, width_mult=0.5)
    assert half.classifier.in_features == 8
    with pytest.raises(ValueError, match="width_mult"):
        MobileNet(width_mult=0)


# ---------------------------------------------------------------------- ResNet
def test_basic_block_identity_and_projection(rng):
    identity = BasicBlock(8, 8)
    assert identity.downsample is None
    assert count_parameters(identity) == 2 * 9 * 8 * 8 + 4 * 8
    x = f32(rng, 2, 8, 6, 6)
    out = assert_gradients_flow(identity, x)
    assert out.shape == (2, 8, 6, 6) and out.array.min() >= 0
    projection = BasicBlock(8, 16, stride=2)
    assert count_parameters(projection) == 9 * 8 * 16 + 9 * 16 * 16 + 4 * 16 + 8 * 16 + 2 * 16
    assert assert_gradients_flow(projection, x).shape == (2, 16, 3, 3)
    # torchvision's BasicBlock keys
    assert list(projection.state_dict()) == [
        "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
        "bn1.num_batches_tracked", "conv2.weight", "bn2.weight", "bn2.bias", "bn2.running_mean",
        "bn2.running_var", "bn2.num_batches_tracked", "downsample.0.weight", "downsample.1.weight",
        "downsample.1.bias", "downsample.1.running_mean", "downsample.1.running_var",
        "downsample.1.num_batches_tracked"]


def test_basic_block_is_residual(rng):
    """With the residual branch zeroed (bn2's scale 0), the block is relu(x)."""
    block = BasicBlock(4, 4)
    block.bn2.weight.array[...] = 0
    x = f32(rng, 1, 4, 5, 5)
    np.testing.assert_allclose(block(x).array, np.maximum(x.array, 0), atol=1e-6)


# -------------------------------------------------------------------- DenseNet
def test_dense_block_concatenates_and_counts(rng):
    block = DenseBlock(num_layers=3, in_channels=8, growth_rate=4, bn_size=2)
    x = f32(rng, 2, 8, 5, 5)
    out = assert_gradients_flow(block, x)
    assert out.shape == (2, 8 + 3 * 4, 5, 5) and block.out_channels == 20
    np.testing.assert_array_equal(out.array[:, :8], x.array)   # the input is passed through
    expected = sum(2 * c + c * 8 + 2 * 8 + 8 * 4 * 9 for c in (8, 12, 16))
    assert count_parameters(block) == expected
    assert list(block.state_dict())[:3] == ["denselayer1.norm1.weight", "denselayer1.norm1.bias",
                                            "denselayer1.norm1.running_mean"]
    transition = Transition(20, 10)
    assert count_parameters(transition) == 2 * 20 + 20 * 10
    assert assert_gradients_flow(transition, out.detach()).shape == (2, 10, 2, 2)
    assert list(transition.state_dict())[-1] == "conv.weight"


# ------------------------------------------------------------------- Inception
def test_inception_module(rng):
    module = InceptionModule(8, 4, 4, 8, 2, 4, 3)
    out = assert_gradients_flow(module, f32(rng, 2, 8, 6, 6))
    assert out.shape == (2, 4 + 8 + 4 + 3, 6, 6) and module.out_channels == 19
    expected = (8 + 1) * 4 + (8 + 1) * 4 + (4 * 9 + 1) * 8 + (8 + 1) * 2 + (2 * 25 + 1) * 4 + (8 + 1) * 3
    assert count_parameters(module) == expected
    # GoogLeNet's inception (3a): 163,696 weights and biases
    assert count_parameters(InceptionModule(192, 64, 96, 128, 16, 32, 32)) == 163696
    with pytest.raises(ValueError, match="ch5x5"):
        InceptionModule(8, 4, 4, 8, 2, -4, 3)


# ------------------------------------------------------------------ SqueezeNet
def test_fire_module(rng):
    fire = Fire(64, 16, 64, 64)
    assert count_parameters(fire) == (64 + 1) * 16 + (16 + 1) * 64 + (16 * 9 + 1) * 64 == 11408
    small = Fire(8, 2, 4, 4)
    out = assert_gradients_flow(small, f32(rng, 2, 8, 5, 5))
    assert out.shape == (2, 8, 5, 5)
    assert list(fire.state_dict()) == ["squeeze.weight", "squeeze.bias", "expand1x1.weight",
                                       "expand1x1.bias", "expand3x3.weight", "expand3x3.bias"]


def test_small_squeezenet(rng):
    model = SqueezeNet(num_classes=10)
    model.eval()
    out = model(f32(rng, 2, 3, 32, 32))
    assert out.shape == (2, 10)
    fires = (64 + 1) * 16 + 17 * 64 + 145 * 64, (128 + 1) * 16 + 17 * 64 + 145 * 64, \
        (128 + 1) * 32 + 33 * 128 + 289 * 128, (256 + 1) * 32 + 33 * 128 + 289 * 128
    assert count_parameters(model) == (27 + 1) * 64 + sum(fires) + (256 + 1) * 10
    assert not any(isinstance(m, nn.Linear) for m in model.modules())


# ---------------------------------------------------------------- segmentation
def test_fully_convolutional_segmentation(rng):
    model = FullyConvolutionalNet(in_channels=3, num_classes=4, widths=(8, 16))
    assert not any(isinstance(m, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d))
                   for m in model.modules())
    out = assert_gradients_flow(model, f32(rng, 2, 3, 16, 12))
    assert out.shape == (2, 4, 16, 12)
    model.eval()
    assert model(f32(rng, 1, 3, 8, 20)).shape == (1, 4, 8, 20)   # any size divisible by 4
    with pytest.raises(ValueError, match="divisible by 4"):
        model(f32(rng, 1, 3, 10, 8))
    head = SegmentationHead(16, 3, depth=1, hidden_channels=8)
    assert count_parameters(head) == 16 * 8 * 16 + 2 * 8 + (8 + 1) * 3
    labels = minigrad.tensor(rng.integers(0, 4, (2, 16, 12)))
    model.train()
    loss = nn.CrossEntropyLoss()(model(f32(rng, 2, 3, 16, 12)), labels)
    loss.backward()
    assert np.isfinite(loss.item())


# ------------------------------------------------------------------------- kNN
def reference_knn_proba(queries, stored, labels, k, classes, eps=1e-8):
    """Brute force: loop over queries, stable sort of distances, 1/d weights."""
    result = np.zeros((len(queries), classes))
    for i, q in enumerate(queries):
        d2 = ((stored - q) ** 2).sum(1)
        order = np.argsort(d2, kind="stable")[:k]
        w = 1 / np.sqrt(d2[order] + eps)
        for j, wj in zip(order, w / w.sum()):
            result[i, labels[j]] += wj
    return result


def test_knn_loss_gradcheck(rng):
    embeddings = minigrad.tensor(rng.standard_normal((7, 3)), requires_grad=True)
    labels = minigrad.tensor([0, 0, 1, 1, 2, 2, 1])
    for knn in (KNNClassifier(k=3), KNNClassifier(k=4, weighting="softmax", temperature=0.5)):
        assert gradcheck(lambda e: knn(e, labels), [embeddings])
        assert gradcheck(lambda e: knn.class_probabilities(e, labels), [embeddings])


def test_knn_excludes_self():
    # points at 0, 10 and 11 on a line, labels 0, 1, 2; k=1
    embeddings = minigrad.tensor([[0.0], [10.0], [11.0]])
    probabilities = KNNClassifier(k=1).class_probabilities(embeddings, minigrad.tensor([0, 1, 2]))
    np.testing.assert_allclose(probabilities.array, [[0, 1, 0], [0, 0, 1], [0, 1, 0]])
    # loss: no point has a neighbour of its own class -> -log(1e-12)
    loss = KNNClassifier(k=1)(embeddings, minigrad.tensor([0, 1, 2]))
    assert loss.item() == pytest.approx(-np.log(1e-12), rel=1e-5)


def test_knn_ties():
    # the query at 0 has neighbours at -1 (label 1) and +1 (label 0), equally far
    stored = minigrad.tensor([[-1.0], [1.0]])
    knn = KNNClassifier(k=1).fit(stored, minigrad.tensor([1, 0]))
    assert knn.predict(minigrad.tensor([[0.0]])).tolist() == [1]   # the earlier stored point wins
    knn = KNNClassifier(k=2).fit(stored, minigrad.tensor([1, 0]))
    np.testing.assert_allclose(knn.predict_proba(minigrad.tensor([[0.0]])).array, [[0.5, 0.5]])
    assert knn.predict(minigrad.tensor([[0.0]])).tolist() == [0]   # class tie: smaller class
    # duplicate points: distance 0 stays finite
    dup = minigrad.tensor([[1.0, 1.0], [1.0, 1.0], [3.0, 0.0]], requires_grad=True)
    loss = KNNClassifier(k=2)(dup, minigrad.tensor([0, 0, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(dup.grad.array))


def test_knn_k_larger_than_available(rng):
    embeddings = minigrad.tensor(rng.standard_normal((4, 2)))
    labels = minigrad.tensor([0, 1, 1, 0])
    big = KNNClassifier(k=10).class_probabilities(embeddings, labels)
    np.testing.assert_allclose(big.array, KNNClassifier(k=3).class_probabilities(embeddings, labels).array)
    np.testing.assert_allclose(big.array.sum(1), 1)
    with pytest.raises(ValueError, match="no neighbours"):
        KNNClassifier(k=3)(minigrad.tensor([[1.0, 2.0]]), minigrad.tensor([0]))
    stored = KNNClassifier(k=50).fit(embeddings, labels)
    assert stored.predict_proba(embeddings).shape == (4, 2)


def test_knn_predict_matches_brute_force_in_blocks(rng):
    stored = rng.standard_normal((120, 5))
    labels = rng.integers(0, 4, 120)
    queries = rng.standard_normal((37, 5))
    knn = KNNClassifier(k=5, batch_size=8, num_classes=4).fit(minigrad.tensor(stored), minigrad.tensor(labels))
    expected = reference_knn_proba(queries, stored, labels, 5, 4)
    np.testing.assert_allclose(knn.predict_proba(minigrad.tensor(queries)).array, expected, rtol=1e-9)
    np.testing.assert_array_equal(knn.predict(minigrad.tensor(queries)).array, expected.argmax(1))


def test_knn_predict_blocks_on_threads_give_the_same_bytes(rng, monkeypatch, set_threads):
    # blocks of queries sized by DISTANCE_BLOCK_BYTES (here 3 queries: 3 * 8 * 120 bytes)
    # and at most batch_size, searched on threads: the same bytes for any block size and
    # any thread count, and the brute-force answer
    from minigrad.models import knn as knn_module
    stored = rng.standard_normal((120, 5))
    labels = rng.integers(0, 4, 120)
    queries = rng.standard_normal((37, 5))
    expected = reference_knn_proba(queries, stored, labels, 5, 4)
    searched = []
    search = KNNClassifier._neighbours

    def spy(self, block, *args):
        searched.append(len(block))
        return search(self, block, *args)
    monkeypatch.setattr(KNNClassifier, "_neighbours", spy)
    results = []
    for block_bytes, batch_size, threads, rows in ((1 << 20, 1024, 1, 37), (3 * 8 * 120, 1024, 1, 3),
                                                   (3 * 8 * 120, 1024, 2, 3), (1 << 20, 4, 2, 4), (1, 1024, 3, 1)):
        monkeypatch.setattr(knn_module, "DISTANCE_BLOCK_BYTES", block_bytes)
        set_threads(threads)
        knn = KNNClassifier(k=5, batch_size=batch_size, num_classes=4).fit(minigrad.tensor(stored),
                                                                           minigrad.tensor(labels))
        searched.clear()
        results.append(knn.predict_proba(minigrad.tensor(queries)).array)
        assert sorted(searched) == sorted([rows] * (37 // rows) + ([37 % rows] if 37 % rows else []))
    np.testing.assert_allclose(results[0], expected, rtol=1e-9)
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


def test_knn_loss_returns_the_probabilities_of_its_own_neighbours(rng):
    # return_probabilities: class_probabilities bitwise, detached, from the same search;
    # the loss and its gradient unchanged; the memory bank filled once
    embeddings = minigrad.tensor(rng.standard_normal((40, 6)).astype(np.float32), requires_grad=True)
    labels = rng.integers(0, 4, 40)
    for weighting in ("softmax", "inverse_distance"):
        knn = KNNClassifier(k=7, weighting=weighting, num_classes=4, memory_size=16)
        with minigrad.no_grad():
            expected = knn.class_probabilities(embeddings, labels).array
        loss, probabilities = knn(embeddings, labels, return_probabilities=True)
        assert not probabilities.requires_grad and probabilities.shape == (40, 4)
        np.testing.assert_array_equal(probabilities.array, expected)
        np.testing.assert_allclose(probabilities.array.sum(1), 1, rtol=1e-5)
        assert knn.memory_embeddings.shape == (16, 6)
        loss.backward()
        gradient, embeddings.grad = embeddings.grad.array.copy(), None
        knn.reset_memory()
        plain = knn(embeddings, labels)
        assert plain.item() == loss.item()
        plain.backward()
        np.testing.assert_array_equal(embeddings.grad.array, gradient)
        embeddings.grad = None


def test_knn_softmax_weights():
    embeddings = minigrad.tensor([[0.0], [1.0], [3.0]], dtype=minigrad.float64)
    knn = KNNClassifier(k=2, weighting="softmax", temperature=2.0, eps=1e-12)
    p = knn.class_probabilities(embeddings, minigrad.tensor([0, 1, 0]))
    w = np.exp(-np.array([1.0, 3.0]) / 2)   # point 0: neighbours at distance 1 (label 1) and 3 (label 0)
    np.testing.assert_allclose(p.array[0], [w[1] / w.sum(), w[0] / w.sum()], rtol=1e-6)


def test_knn_memory_bank():
    knn = KNNClassifier(k=2, memory_size=3)
    knn(minigrad.tensor([[0.0], [1.0]]), minigrad.tensor([0, 1]))
    knn(minigrad.tensor([[2.0], [3.0]]), minigrad.tensor([1, 0]))
    np.testing.assert_array_equal(knn.memory_embeddings.array[:, 0], [1, 2, 3])   # FIFO, newest last
    np.testing.assert_array_equal(knn.memory_labels.array, [1, 1, 0])
    # with the memory bank, a batch of one has neighbours
    single = minigrad.tensor([[2.1]], requires_grad=True)
    knn.eval()
    loss = knn(single, minigrad.tensor([1]))
    loss.backward()
    assert np.isfinite(loss.item()) and single.grad is not None
    assert list(knn.state_dict()) == []


def test_knn_training_separates_classes(rng):
    """Gradient steps on the embeddings themselves raise the leave-one-out accuracy."""
    labels = np.repeat([0, 1, 2], 6)
    embeddings = minigrad.tensor(rng.standard_normal((18, 2)), requires_grad=True)
    knn = KNNClassifier(k=17, weighting="softmax", temperature=0.5)   # all others: always a signal
    first = knn(embeddings, minigrad.tensor(labels)).item()
    for _ in range(100):
        embeddings.grad = None
        loss = knn(embeddings, minigrad.tensor(labels))
        loss.backward()
        with minigrad.no_grad():
            embeddings.array -= 0.5 * embeddings.grad.array
    assert loss.item() < 0.2 * first
    accuracy = (knn.class_probabilities(embeddings, minigrad.tensor(labels)).array.argmax(1) == labels).mean()
    assert accuracy > 0.9


def test_knn_bad_arguments_and_inputs():
    for kwargs, name in ((dict(k=0), "k"), (dict(weighting="gauss"), "weighting"),
                         (dict(temperature=0), "temperature"), (dict(memory_size=-1), "memory_size")):
        with pytest.raises(ValueError, match=name):
            KNNClassifier(**kwargs)
    knn = KNNClassifier()
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        knn(minigrad.zeros(4), minigrad.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        knn(minigrad.zeros(4, 2), minigrad.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="fit"):
        knn.predict(minigrad.zeros(2, 2))


def test_knn_partial_selection_keeps_stable_tie_order():
    # predict() partitions instead of sorting every row; with many exact ties the
    # k nearest must still be those a stable full sort picks (smallest index first).
    import numpy as np

    from minigrad.models import KNNClassifier
    rng = np.random.default_rng(0)
    for _ in range(100):
        reference = rng.integers(0, 3, (40, 3)).astype(np.float32)
        queries = rng.integers(0, 3, (7, 3)).astype(np.float32)
        k = int(rng.integers(1, 40))
        distances = ((queries[:, None] - reference[None]) ** 2).sum(-1).astype(np.float64)
        expected = np.argsort(distances, axis=1, kind="stable")[:, :k]
        got = KNNClassifier(k=k)._neighbours(queries, reference, exclude_self=False)
        np.testing.assert_array_equal(got, expected)


def test_squeezenet_uses_torchvisions_initialisation():
    import numpy as np

    from minigrad.models import SqueezeNet
    model = SqueezeNet(10, in_channels=1)
    class_layer = model.classifier[1]
    assert abs(float(np.std(class_layer.weight.array)) - 0.01) < 0.002   # N(0, 0.01)
    first = model.features[0]
    fan_in = first.weight.array[0].size
    bound = np.sqrt(6.0 / fan_in)                                          # He uniform for ReLU
    assert np.abs(first.weight.array).max() <= bound
    assert np.abs(first.weight.array).max() > 0.9 * bound
    assert all(np.all(m.bias.array == 0) for m in model.modules() if hasattr(m, "bias") and m.bias is not None)
