"""L-BFGS (Nocedal, 1980), closure-based as PyTorch's ``torch.optim.LBFGS``."""
import numpy as np

from minigrad.autograd import enable_grad
from minigrad.optim.optimizer import Optimizer, check_non_negative


class LBFGS(Optimizer):
    r"""Limited-memory BFGS: quasi-Newton steps from the last `history_size` gradient changes.

    ``step(closure)`` runs up to `max_iter` iterations; the closure clears the
    gradients, recomputes the loss, calls ``backward()`` and returns the loss.
    One iteration, with g the gradient of all parameters as one vector:

        s_k = theta_(k+1) - theta_k,  y_k = g_(k+1) - g_k,  rho_k = 1 / (y_k . s_k)
        d = -H g   (two-loop recursion over the stored (s, y) pairs, H_0 = (s.y / y.y) I)
        theta <- theta + t d,  t = lr  (on the very first iteration t = lr * min(1, 1/|g|_1))

    Stops when max |g| <= tolerance_grad, or a step or loss change is below
    tolerance_change, or after max_iter iterations / max_eval closure calls.
    Only one parameter group is supported (as in PyTorch). line_search_fn:
    only None (a fixed step, PyTorch's default); 'strong_wolfe' is not
    implemented in minigrad and raises.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn is not None:
            raise ValueError(f"LBFGS: line_search_fn={line_search_fn!r} is not supported by "
                             f"minigrad; only None (fixed step size lr) is implemented")
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _validate(self, group):
        check_non_negative("learning rate (lr)", group["lr"])
        for name in ("max_iter", "max_eval", "history_size"):
            if not isinstance(group[name], int) or group[name] <= 0:
                raise ValueError(f"LBFGS: {name} must be a positive integer, got {group[name]!r}")

    def _flat_grad(self):
        return np.concatenate([np.zeros(p.array.size, dtype=p.array.dtype) if p.grad is None
                               else p.grad.array.reshape(-1) for p in self._params])

    def _add_to_params(self, step_size, direction):
        offset = 0
        for p in self._params:
            size = p.array.size
            p.array += (step_size * direction[offset:offset + size]).reshape(p.array.shape)
            offset += size

    def step(self, closure):
        if closure is None:
            raise RuntimeError("LBFGS.step() needs a closure that recomputes the loss "
                               "(zero_grad(), loss = ..., loss.backward(), return loss)")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            original_loss = closure()
        loss = float(original_loss)
        evaluations = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:  # already optimal
            return original_loss

        direction, step_size = state.get("d"), state.get("t")
        old_dirs, old_steps = state.get("old_dirs", []), state.get("old_stps", [])
        inverse_curvatures, h_diag = state.get("ro", []), state.get("H_diag", 1.0)
        previous_grad, previous_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        iteration = 0
        while iteration < max_iter:
            iteration += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                direction = -flat_grad
                old_dirs, old_steps, inverse_curvatures, h_diag = [], [], [], 1.0
            else:
                y = flat_grad - previous_grad
                s = direction * step_size
                ys = float(y @ s)
                if ys > 1e-10:  # keep the pair only if the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_steps.pop(0), inverse_curvatures.pop(0)
                    old_dirs.append(y)
                    old_steps.append(s)
                    inverse_curvatures.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                # Two-loop recursion: direction = -H g.
                alphas = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    alphas[i] = float(old_steps[i] @ q) * inverse_curvatures[i]
                    q = q - alphas[i] * old_dirs[i]
                direction = q * h_diag
                for i in range(len(old_dirs)):
                    beta = float(old_dirs[i] @ direction) * inverse_curvatures[i]
                    direction = direction + (alphas[i] - beta) * old_steps[i]

            previous_grad = flat_grad.copy()
            previous_loss = loss
            if state["n_iter"] == 1:
                step_size = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr
            else:
                step_size = lr
            directional_derivative = float(flat_grad @ direction)
            if directional_derivative > -tolerance_change:  # not a descent direction
                break

            self._add_to_params(step_size, direction)
            optimal = False
            if iteration != max_iter:
                with enable_grad():
                    loss = float(closure())
                flat_grad = self._flat_grad()
                optimal = np.abs(flat_grad).max() <= tolerance_grad
                evaluations += 1
                state["func_evals"] += 1

            if iteration == max_iter or evaluations >= max_eval or optimal:
                break
            if np.abs(direction * step_size).max() <= tolerance_change:
                break
            if abs(loss - previous_loss) < tolerance_change:
                break

        state.update(d=direction, t=step_size, old_dirs=old_dirs, old_stps=old_steps,
                     ro=inverse_curvatures, H_diag=h_diag, prev_flat_grad=previous_grad,
                     prev_loss=previous_loss)
        return original_loss
