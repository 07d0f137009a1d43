"""Optimizers, DataLoader and checkpoints driving a real minigrad.nn model."""
import numpy as np

import minigrad
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.optim import lr_scheduler


def make_model():
    minigrad.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))


def make_data():
    """Three Gaussian blobs: a problem a small MLP learns in a few epochs."""
    rng = np.random.default_rng(0)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=np.float32)
    labels = rng.integers(0, 3, 96)
    points = centers[labels] + 0.5 * rng.standard_normal((96, 4)).astype(np.float32)
    return TensorDataset(minigrad.tensor(points), minigrad.tensor(labels))


def train(model, optimizer, scheduler, loader, epochs):
    losses = []
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    return losses


def make_run(model):
    optimizer = optim.AdamW(model.parameters(), lr=0.05, weight_decay=1e-3)
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=6)
    return optimizer, scheduler


def test_training_reduces_the_loss():
    model = make_model()
    optimizer, scheduler = make_run(model)
    loader = DataLoader(make_data(), batch_size=16, shuffle=True, seed=1)
    losses = train(model, optimizer, scheduler, loader, epochs=6)
    assert np.mean(losses[-6:]) < 0.25 * np.mean(losses[:6])


def test_checkpoint_resume_matches_uninterrupted_training(tmp_path):
    data = make_data()
    model = make_model()
    optimizer, scheduler = make_run(model)
    train(model, optimizer, scheduler, DataLoader(data, batch_size=16, shuffle=True, seed=1), 6)
    straight = {k: v.array.copy() for k, v in model.state_dict().items()}

    model = make_model()
    optimizer, scheduler = make_run(model)
    loader = DataLoader(data, batch_size=16, shuffle=True, seed=1)
    train(model, optimizer, scheduler, loader, 3)
    minigrad.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                   "scheduler": scheduler.state_dict(),
                   "loader_rng": loader.generator.bit_generator.state}, tmp_path / "ckpt")

    checkpoint = minigrad.load(tmp_path / "ckpt")
    resumed = make_model()
    resumed_optimizer, resumed_scheduler = make_run(resumed)
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed_scheduler.load_state_dict(checkpoint["scheduler"])
    resumed_loader = DataLoader(data, batch_size=16, shuffle=True, seed=1)
    resumed_loader.generator.bit_generator.state = checkpoint["loader_rng"]
    train(resumed, resumed_optimizer, resumed_scheduler, resumed_loader, 3)
    for name, value in resumed.state_dict().items():
        np.testing.assert_allclose(value.array, straight[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_parameters_of_a_module_and_param_groups():
    model = make_model()
    optimizer = optim.SGD([{"params": model[0].parameters()},
                           {"params": model[2].parameters(), "lr": 0.0}], lr=0.1, momentum=0.9)
    frozen = model[2].weight.array.copy()
    x, y = make_data().tensors
    nn.CrossEntropyLoss()(model(x), y).backward()
    before = model[0].weight.array.copy()
    optimizer.step()
    assert not np.allclose(model[0].weight.array, before)
    np.testing.assert_array_equal(model[2].weight.array, frozen)
    assert isinstance(model[0].weight, nn.Parameter)
