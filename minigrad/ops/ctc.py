"""Connectionist Temporal Classification loss (Graves et al., 2006), as torch.nn.functional.ctc_loss.

A target l = (l_1, ..., l_L) is spelled by every frame-by-frame path of
length T that collapses to it (merge repeats, then drop blanks). With the
blank-extended target l' = (blank, l_1, blank, l_2, ..., l_L, blank) of
length S = 2L + 1, the forward variable

    alpha_t(s) = log sum over path prefixes ending in l'_s at frame t of their probability

obeys, in log space (lse = log-sum-exp),

    alpha_0(0) = lp_0(blank),  alpha_0(1) = lp_0(l_1),
    alpha_t(s) = lse(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2)]) + lp_t(l'_s),

where the skip from s-2 is allowed only when l'_s is not blank and
l'_s != l'_{s-2}. The loss is -lse(alpha_{T-1}(S-1), alpha_{T-1}(S-2)).
The backward variable beta runs the same recursion from the end, and

    d loss / d lp_t(k) = -sum_{s: l'_s = k} exp(alpha_t(s) + beta_t(s) - lp_t(k) + loss),

minus the posterior probability that frame t emits k. (PyTorch returns
exp(lp) minus that posterior, the gradient through a log_softmax that it
assumes produced lp; both give the same gradient for the logits.)

Shapes: log_probs (T, N, C) or (T, C); targets (N, S_max) padded, or the
targets of the batch concatenated (sum(target_lengths),); input_lengths,
target_lengths (N,).
"""
import numpy as np

from minigrad.autograd import Function, _first_order_only
from minigrad.ops.loss import _as_tensor, _check_reduction
from minigrad.tensor import Tensor

_NEG_INF = -np.inf


def _logsumexp(*terms):
    stacked = np.stack(terms)
    top = stacked.max(axis=0)
    safe_top = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        return safe_top + np.log(np.exp(stacked - safe_top).sum(axis=0))


def _extended(target, blank):
    """l' = (blank, l_1, blank, ..., l_L, blank) and where the skip from s-2 is allowed."""
    extended = np.full(2 * len(target) + 1, blank, dtype=np.int64)
    extended[1::2] = target
    can_skip = np.zeros(len(extended), dtype=bool)
    can_skip[2:] = (extended[2:] != blank) & (extended[2:] != extended[:-2])
    return extended, can_skip


def _alpha(lp, extended, can_skip):
    """log alpha (T, S) for one sequence's log-probabilities lp (T, C)."""
    frames, states = lp.shape[0], len(extended)
    alpha = np.full((frames, states), _NEG_INF)
    alpha[0, 0] = lp[0, extended[0]]
    if states > 1:
        alpha[0, 1] = lp[0, extended[1]]
    for t in range(1, frames):
        previous = alpha[t - 1]
        stay = previous
        step = np.concatenate(([_NEG_INF], previous[:-1]))
        skip = np.where(can_skip, np.concatenate(([_NEG_INF] * 2, previous[:-2]))[:states], _NEG_INF)
        alpha[t] = _logsumexp(stay, step, skip) + lp[t, extended]
    return alpha


def _beta(lp, extended, can_skip):
    """log beta (T, S): the same recursion run backwards from the last two states."""
    frames, states = lp.shape[0], len(extended)
    beta = np.full((frames, states), _NEG_INF)
    beta[-1, -1] = lp[-1, extended[-1]]
    if states > 1:
        beta[-1, -2] = lp[-1, extended[-2]]
    # the skip s -> s+2 is allowed where the skip into s+2 is
    skip_from = np.zeros(states, dtype=bool)
    skip_from[:-2] = can_skip[2:]
    for t in range(frames - 2, -1, -1):
        following = beta[t + 1]
        stay = following
        step = np.concatenate((following[1:], [_NEG_INF]))
        skip = np.where(skip_from, np.concatenate((following[2:], [_NEG_INF] * 2))[:states], _NEG_INF)
        beta[t] = _logsumexp(stay, step, skip) + lp[t, extended]
    return beta


class CTCLoss(Function):
    """Per-sequence negative log-likelihoods (N,); the reduction follows as ordinary ops."""

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        # log_probs (T, N, C); targets: a list of N integer arrays
        lp64 = log_probs.astype(np.float64)
        losses = np.zeros(log_probs.shape[1])
        grad_rows = np.zeros(lp64.shape)                                  # d loss_n / d lp (T, N, C)
        for n, target in enumerate(targets):
            frames = input_lengths[n]
            lp = lp64[:frames, n]
            extended, can_skip = _extended(target, blank)
            if frames == 0:
                losses[n] = 0.0 if len(target) == 0 else np.inf
                grad_rows[:, n] = 0.0 if len(target) == 0 else np.nan
                continue
            alpha = _alpha(lp, extended, can_skip)
            ends = alpha[-1, -2:] if len(extended) > 1 else alpha[-1, -1:]
            loss = -_logsumexp(*ends)
            losses[n] = loss
            if not np.isfinite(loss):
                grad_rows[:, n] = np.nan        # no alignment: the gradient is undefined
                continue
            beta = _beta(lp, extended, can_skip)
            # posterior of state s at frame t, summed into its class l'_s: (T, C)
            posterior = np.exp(alpha + beta - lp[:, extended] + loss)      # (frames, S)
            occupancy = np.zeros(lp.shape)
            np.add.at(occupancy.T, extended, posterior.T)
            grad_rows[:frames, n] = -occupancy
        if zero_infinity:
            infinite = ~np.isfinite(losses)
            losses[infinite] = 0
            grad_rows[:, infinite] = 0
        ctx.grad_rows = grad_rows
        return losses.astype(log_probs.dtype)

    @staticmethod
    def backward(ctx, grad):
        # grad (N,) -> (T, N, C)
        grad_log_probs = ctx.grad_rows * grad[None, :, None]
        return grad_log_probs.astype(grad.dtype, copy=False), None, None, None, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # The gradient (state posteriors) comes out of the alpha-beta recursion run in forward;
        # differentiating it again would mean differentiating that whole recursion. PyTorch does
        # not either ("derivative for aten::_ctc_loss_backward is not implemented"): the
        # gradient is given, with a grad_fn that raises that if a second backward reaches it.
        return _first_order_only(ctx, grad, "the derivative of ctc_loss's backward is not "
                                            "implemented (nor in PyTorch: derivative for "
                                            "aten::_ctc_loss_backward is not implemented)")


def _lengths(values, name, batch):
    array = values.detach().array if isinstance(values, Tensor) else np.asarray(values)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: {name} must be integers, got {array.dtype}")
    array = array.reshape(-1).astype(np.int64)
    if array.shape[0] != batch:
        raise RuntimeError(f"ctc_loss: expected {name} to have {batch} entries (one per sequence), "
                           f"got {array.shape[0]}")
    if array.size and array.min() < 0:
        raise RuntimeError(f"ctc_loss: {name} must be non-negative, got {int(array.min())}")
    return array


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The CTC loss of log-probabilities (T, N, C) (log_softmax over C) against unaligned targets.

    'mean' divides each sequence's loss by its target length (at least 1),
    then averages over the batch; 'sum' adds them; 'none' gives (N,).
    zero_infinity replaces the infinite loss of an impossible alignment
    (a target longer than the input allows) by 0, with gradient 0.
    """
    name = "ctc_loss"
    log_probs = _as_tensor(log_probs, "log_probs", name)
    _check_reduction(reduction, name)
    if log_probs.dtype.kind != "f":
        raise RuntimeError(f"{name}: log_probs must be floating point, got {log_probs.dtype}")
    unbatched = log_probs.ndim == 2
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"{name}: log_probs must be (T, N, C) or (T, C), got shape "
                           f"{tuple(log_probs.shape)}")
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    frames, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError(f"{name}: blank must be in label range [0, {classes}), got {blank}")
    input_lengths = _lengths(input_lengths, "input_lengths", batch)
    target_lengths = _lengths(target_lengths, "target_lengths", batch)
    if input_lengths.size and input_lengths.max() > frames:
        raise RuntimeError(f"Expected input_lengths to have value at most {frames}, but got value "
                           f"{int(input_lengths.max())}")
    labels = targets.detach().array if isinstance(targets, Tensor) else np.asarray(targets)
    if labels.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: targets must be integer class indices, got {labels.dtype}")
    labels = labels.astype(np.int64)
    sequences = []
    if labels.ndim == 2:                      # (N, S_max), padded
        if labels.shape[0] != batch:
            raise RuntimeError(f"{name}: targets of shape {labels.shape} do not have one row per "
                               f"sequence ({batch})")
        for n, length in enumerate(target_lengths):
            if length > labels.shape[1]:
                raise RuntimeError(f"Expected tensor to have size at least {length} at dimension "
                                   f"1, but got size {labels.shape[1]} for argument #2 'targets'")
            sequences.append(labels[n, :length])
    else:                                     # the batch's targets concatenated
        ends = np.cumsum(target_lengths)
        if labels.shape[0] != (ends[-1] if ends.size else 0):
            raise RuntimeError(f"{name}: concatenated targets must have sum(target_lengths) = "
                               f"{int(ends[-1]) if ends.size else 0} entries, got {labels.shape[0]}")
        sequences = [labels[end - length:end] for end, length in zip(ends, target_lengths)]
    for sequence in sequences:
        if sequence.size and (sequence.min() < 0 or sequence.max() >= classes):
            raise RuntimeError(f"{name}: target index out of range [0, {classes}): "
                               f"{sequence.tolist()}")
    losses = CTCLoss.apply(log_probs, sequences, input_lengths, target_lengths, int(blank),
                           bool(zero_infinity))                          # (N,)
    if reduction == "mean":
        divisor = Tensor(np.maximum(target_lengths, 1).astype(losses.dtype))
        return (losses / divisor).mean()
    if reduction == "sum":
        return losses.sum()
    return losses[0] if unbatched else losses
