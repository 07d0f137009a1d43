"""L-BFGS (Nocedal, 1980), closure-based as PyTorch's ``torch.optim.LBFGS``,
with PyTorch's optional strong-Wolfe line search (Nocedal & Wright, Numerical
Optimization, algorithms 3.5 and 3.6, with cubic interpolation)."""
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
    None (the fixed step t above, PyTorch's default) or 'strong_wolfe': t is
    chosen by ``strong_wolfe`` starting from that step, so that with
    phi(t) = loss(theta + t d)

        phi(t) <= phi(0) + c1 t phi'(0)     (sufficient decrease, c1 = 1e-4)
        |phi'(t)| <= c2 |phi'(0)|            (curvature, c2 = 0.9)
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError(f"LBFGS: only 'strong_wolfe' is supported as line_search_fn, "
                               f"got {line_search_fn!r}")
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

    def _parameter_arrays(self):
        return [p.array.copy() for p in self._params]

    def _set_parameter_arrays(self, arrays):
        for p, array in zip(self._params, arrays):
            p.array[...] = array

    def _directional_evaluate(self, closure, start, step_size, direction):
        """(loss, flat gradient) at start + step_size * direction; the parameters are restored."""
        self._add_to_params(step_size, direction)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._flat_grad()
        self._set_parameter_arrays(start)
        return loss, flat_grad

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

            optimal = False
            if group["line_search_fn"] == "strong_wolfe":
                start = self._parameter_arrays()

                def along_direction(step_size, start=start, direction=direction):
                    return self._directional_evaluate(closure, start, step_size, direction)
                loss, flat_grad, step_size, line_evaluations = strong_wolfe(
                    along_direction, step_size, direction, loss, flat_grad, directional_derivative,
                    tolerance_change=tolerance_change)
                self._add_to_params(step_size, direction)
                optimal = np.abs(flat_grad).max() <= tolerance_grad
                evaluations += line_evaluations
                state["func_evals"] += line_evaluations
            else:
                self._add_to_params(step_size, direction)
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


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2,
    clipped to `bounds` (default: between x1 and x2); their midpoint when the
    cubic has no minimum (Nocedal & Wright, equation 3.59)."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2
    d2 = d2_square ** 0.5
    if x1 <= x2:
        minimum = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        minimum = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(minimum, low), high)


def strong_wolfe(evaluate, step_size, direction, loss, flat_grad, directional_derivative,
                 c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step size t along `direction` satisfying the strong Wolfe conditions.

    evaluate(t) -> (loss, flat gradient) at theta + t d. Phase 1 grows t until
    an interval [t_low, t_high] brackets a point satisfying both conditions (or
    t itself does); phase 2 ("zoom") shrinks the bracket by cubic interpolation,
    keeping away from its ends. Returns (loss, flat gradient, t, evaluations).
    """
    direction_size = float(np.abs(direction).max())
    f0, g0, slope0 = loss, flat_grad, directional_derivative
    t = step_size
    f_new, g_new = evaluate(t)
    evaluations = 1
    slope_new = float(g_new @ direction)

    def sufficient_decrease(t, f):
        return f <= f0 + c1 * t * slope0

    # Phase 1: bracket. The points are (t, f, gradient, slope) tuples.
    previous = (0.0, f0, g0, slope0)
    bracket, done, iterations = None, False, 0
    while iterations < max_ls:
        current = (t, f_new, g_new, slope_new)
        if not sufficient_decrease(t, f_new) or (iterations > 1 and f_new >= previous[1]):
            bracket = [previous, current]
            break
        if abs(slope_new) <= -c2 * slope0:
            bracket, done = [current], True
            break
        if slope_new >= 0:
            bracket = [previous, current]
            break
        # Extrapolate: a step at least 1% beyond t, at most 10 t.
        t = cubic_interpolate(previous[0], previous[1], previous[3], t, f_new, slope_new,
                              bounds=(t + 0.01 * (t - previous[0]), t * 10))
        previous = current
        f_new, g_new = evaluate(t)
        evaluations += 1
        slope_new = float(g_new @ direction)
        iterations += 1
    if iterations == max_ls:
        bracket = [(0.0, f0, g0, slope0), (t, f_new, g_new, slope_new)]

    # Phase 2: zoom. low: the bracket end with the lower loss.
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient_progress = False
    while not done and iterations < max_ls:
        (t_a, f_a, _, slope_a), (t_b, f_b, _, slope_b) = bracket
        if abs(t_b - t_a) * direction_size < tolerance_change:
            break
        t = cubic_interpolate(t_a, f_a, slope_a, t_b, f_b, slope_b)
        # A trial point within 10% of an end makes little progress: after twice,
        # or when it is at an end, move it 10% of the bracket inside.
        left, right = min(t_a, t_b), max(t_a, t_b)
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:
            if insufficient_progress or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        f_new, g_new = evaluate(t)
        evaluations += 1
        slope_new = float(g_new @ direction)
        iterations += 1
        current = (t, f_new, g_new, slope_new)
        if not sufficient_decrease(t, f_new) or f_new >= bracket[low][1]:
            bracket[high] = current
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(slope_new) <= -c2 * slope0:
                done = True
            elif slope_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]  # the old low end becomes the high end
            bracket[low] = current

    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evaluations
