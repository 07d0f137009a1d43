"""``minigrad.utils.benchmark``: PyTorch's ``torch.utils.benchmark`` for Python statements.

``Timer(stmt, setup, globals=..., num_threads=1)`` times a statement with
the standard library's ``timeit`` (its ``globals`` get ``minigrad``, also
under the name ``torch``, unless given). While it measures, minigrad's
kernels use ``num_threads`` threads (``minigrad.set_num_threads``), put back
afterwards.

- ``timeit(number)``: one measurement of ``number`` runs (after a warm-up of
  number // 100).
- ``blocked_autorange(min_run_time=0.2)``: picks a block size (runs per
  measurement: 1, 10, 100, ... until timer overhead is under 0.01% and the block
  takes at least min_run_time / 1000), then measures blocks until min_run_time.
- ``adaptive_autorange(threshold=0.1)``: blocks until IQR / median < threshold.

A ``Measurement`` keeps the raw block times; ``times`` are per run, and
``median``, ``mean`` and ``iqr`` (75th - 25th percentile) summarise them.
``Compare(measurements)`` prints them as a table: one block per ``label``,
rows by ``sub_label`` (grouped by thread count), columns by ``description``.
The layout follows torch/utils/benchmark/utils/{common,compare,timer}.py.
"""
import collections
import contextlib
import dataclasses
import enum
import itertools
import math
import textwrap
import timeit as _timeit

import numpy as np

__all__ = ["Compare", "Language", "Measurement", "TaskSpec", "Timer", "select_unit"]

_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25
_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9   # 25 ns


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


@contextlib.contextmanager
def _threads(n):
    """Run the block with minigrad's kernels on `n` threads, then go back."""
    from minigrad.kernels.threads import get_num_threads, set_num_threads
    before = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


def select_unit(t):
    """(unit, scale) that shows `t` seconds with 1 to 3 digits before the point."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(math.log10(t) // 3), "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[unit]


def _unit_to_english(unit):
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[unit]


def _trim_sigfig(x, n):
    """`x` rounded to `n` significant figures (3.14159, 2 -> 3.1)."""
    magnitude = int(math.ceil(math.log10(abs(x))))
    scale = 10 ** (magnitude - n)
    return float(np.round(x / scale) * scale)


def _ordered_unique(elements):
    return list(dict.fromkeys(elements))


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What a Timer times (everything but its globals)."""
    stmt: str
    setup: str
    global_setup: str = ""
    label: str = None
    sub_label: str = None
    description: str = None
    env: str = None
    num_threads: int = 1

    @property
    def title(self):
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self):
        if self.setup == "pass" or not self.setup:
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self):
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join([f"{s}\n" if "\n" in s else s for s in sections if s])


_TASKSPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The times of `number_per_run` runs, once per block (``raw_times``, in seconds)."""
    number_per_run: int
    raw_times: list
    task_spec: TaskSpec
    metadata: dict = None

    def __post_init__(self):
        self._sorted_times = ()
        self._warnings = ()
        self._median = self._mean = self._p25 = self._p75 = -1.0

    def __getattr__(self, name):
        if name in _TASKSPEC_FIELDS:   # label, description, num_threads, ... of the task
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    @property
    def times(self):
        """Seconds per run, one value per block."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self):
        self._lazy_init()
        return self._median

    @property
    def mean(self):
        self._lazy_init()
        return self._mean

    @property
    def iqr(self):
        """Interquartile range: 75th minus 25th percentile of the per-run times."""
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self):
        """Digits the median can be trusted to: log10(median / (1.645 std / sqrt(n))) over the
        middle half of the times, between 1 and 4."""
        self._lazy_init()
        n_total = len(self._sorted_times)
        middle = self._sorted_times[n_total // 4:int(math.ceil(3 * n_total / 4))]
        confidence_interval = max(1.645 * float(np.std(middle)) / math.sqrt(len(middle)), _MIN_CONFIDENCE_INTERVAL)
        figures = int(math.floor(math.log10(self._median / confidence_interval)))
        return min(max(figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self):
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self):
        if self.raw_times and not self._sorted_times:
            self._sorted_times = tuple(sorted(self.times))
            times = np.array(self._sorted_times, dtype=np.float64)
            self._median = float(np.quantile(times, 0.5))
            self._mean = float(times.mean())
            self._p25, self._p75 = float(np.quantile(times, 0.25)), float(np.quantile(times, 0.75))

            def add_warning(msg):
                relative_iqr = self.iqr / self.median * 100
                self._warnings += (f"  WARNING: Interquartile range is {relative_iqr:.1f}% "
                                   f"of the median measurement.\n           {msg}",)

            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
                add_warning("This suggests significant environmental influence.")
            elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
                add_warning("This could indicate system fluctuation.")

    def meets_confidence(self, threshold=_IQR_WARN_THRESHOLD):
        return self.iqr / self.median < threshold

    @property
    def title(self):
        return self.task_spec.title

    @property
    def env(self):
        return "Unspecified env" if self.task_spec.env is None else self.task_spec.env

    @property
    def as_row_name(self):
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self):
        self._lazy_init()
        skip_line, newline = "MEASUREMENT_REPR_SKIP_LINE", "\n"
        n = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        iqr_filter = "" if n >= 4 else skip_line
        text = f"""
{object.__repr__(self)}
{self.task_spec.summarize()}
  {'Median: ' if n > 1 else ''}{self._median / scale:.2f} {unit}
  {iqr_filter}IQR:    {self.iqr / scale:.2f} {unit} ({self._p25 / scale:.2f} to {self._p75 / scale:.2f})
  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs {'per measurement,' if n > 1 else ','} \
{self.num_threads} thread{'s' if self.num_threads > 1 else ''}
{newline.join(self._warnings)}""".strip()
        return "\n".join(line for line in text.splitlines() if skip_line not in line)

    @staticmethod
    def merge(measurements):
        """One Measurement per task (number_per_run 1) from replicates of the same task."""
        grouped = collections.defaultdict(list)
        for m in measurements:
            grouped[m.task_spec].append(m)
        return [Measurement(number_per_run=1, raw_times=[t for m in group for t in m.times], task_spec=task_spec)
                for task_spec, group in grouped.items()]


class Timer:
    """Time the Python statement `stmt` after running `setup` (see the module docstring)."""

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=_timeit.default_timer, globals=None,
                 label=None, sub_label=None, description=None, env=None, num_threads=1,
                 language=Language.PYTHON):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"minigrad times Python statements only, got language {language!r}")
        if global_setup:
            raise ValueError(f"global_setup is C++ only, got `{global_setup}`. Most likely this code can simply "
                             f"be moved to `setup`.")
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive int, got {num_threads!r}")
        import minigrad
        self._globals = dict(globals or {})   # a copy: timeit adds __builtins__
        self._globals.setdefault("minigrad", minigrad)
        self._globals.setdefault("torch", minigrad)   # statements written for PyTorch
        # A triple-quoted snippet from inside a function: dedent it, drop the first newline.
        stmt = textwrap.dedent(stmt)
        stmt = (stmt[1:] if stmt and stmt[0] == "\n" else stmt).rstrip()
        setup = textwrap.dedent(setup)
        setup = (setup[1:] if setup and setup[0] == "\n" else setup).rstrip()
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup, label=label,
                                   sub_label=sub_label, description=description, env=env, num_threads=num_threads)

    def _time(self, number):
        return max(self._timer.timeit(number), 1e-9)   # no operation takes under 1 ns

    def timeit(self, number=1000000):
        """One measurement of `number` runs (timeit.Timer.timeit's semantics), after a warm-up."""
        with _threads(self._task_spec.num_threads):
            self._time(max(int(number // 100), 2))
            return Measurement(number_per_run=number, raw_times=[self._time(number)], task_spec=self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _measurement_loop(self, number, stop, min_run_time, max_run_time=None, callback=None):
        total_time, can_stop, times = 0.0, False, []
        with _threads(self._task_spec.num_threads):
            while total_time < min_run_time or not can_stop:
                time_spent = self._time(number)
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                can_stop = stop(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time):
        """Runs per block: grow by 10x until the timer's own overhead is negligible."""
        with _threads(self._task_spec.num_threads):
            overhead = float(np.median([self._time(0) for _ in range(5)]))
            number = 1
            while True:
                time_taken = self._time(number)
                if overhead / time_taken <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time or number * 10 > 2147483647:
                    break
                number *= 10
        return number

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of a fixed number of runs until min_run_time seconds have been measured."""
        number = self._estimate_block_size(min_run_time)
        times = self._measurement_loop(number, lambda times: True, min_run_time, callback=callback)
        return Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0, callback=None):
        """Blocks until IQR / median < threshold (after at least 4 blocks and min_run_time),
        or max_run_time."""
        number = self._estimate_block_size(min_run_time=0.05)

        def stop(times):
            return len(times) > 3 and Measurement(number, times, self._task_spec).meets_confidence(threshold)

        times = self._measurement_loop(number, stop, min_run_time, max_run_time, callback=callback)
        return Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)


# --------------------------------------------------------------------- Compare
class _Colorize(enum.Enum):
    NONE, COLUMNWISE, ROWWISE = "none", "columnwise", "rowwise"


BEST, GOOD, BAD, VERY_BAD = "\033[92m", "\033[34m", "\033[2m\033[91m", "\033[31m"
BOLD, TERMINATE = "\033[1m", "\033[0m"


class _Column:
    """One description's medians: a shared number format (digits set by the largest value)."""

    def __init__(self, grouped_results, time_scale, trim_significant_figures, highlight_warnings):
        self._grouped_results = grouped_results
        flat = [r for r in itertools.chain.from_iterable(grouped_results)]
        self._trim = trim_significant_figures
        self._highlight_warnings = highlight_warnings and any(r.has_warnings for r in flat if r)
        leading_digits = [int(math.ceil(math.log10(r.median / time_scale))) if r else None for r in flat]
        unit_digits = max(d for d in leading_digits if d is not None)
        decimal_digits = min(max(m.significant_figures - d, 0) for d, m in zip(leading_digits, flat)
                             if m is not None and d is not None) if self._trim else 1
        length = unit_digits + decimal_digits + (1 if decimal_digits else 0)
        self._template = f"{{:>{length}.{decimal_digits}f}}{{:>{7 if self._highlight_warnings else 0}}}"

    def get_results_for(self, group):
        return self._grouped_results[group]

    def num_to_str(self, value, estimated_sigfigs, spread):
        if value is None:
            return " " * len(self.num_to_str(1, estimated_sigfigs, None))
        if self._trim:
            value = _trim_sigfig(value, estimated_sigfigs)
        return self._template.format(
            value, f" (! {spread * 100:.0f}%)" if self._highlight_warnings and spread is not None else "")


class _Row:
    def __init__(self, results, row_group, render_env, env_str_len, time_scale, colorize, num_threads=None):
        self._results, self._row_group = results, row_group
        self._render_env, self._env_str_len = render_env, env_str_len
        self._time_scale, self._colorize, self._num_threads = time_scale, colorize, num_threads
        self._columns = ()

    def as_column_strings(self):
        concrete = [r for r in self._results if r is not None]
        env = (f"({concrete[0].env})" if self._render_env else "").ljust(self._env_str_len + 4)
        output = ["  " + env + concrete[0].as_row_name]
        for m, column in zip(self._results, self._columns):
            if m is None:
                output.append(column.num_to_str(None, 1, None))
            else:
                output.append(column.num_to_str(m.median / self._time_scale, m.significant_figures,
                                                m.iqr / m.median if m.has_warnings else None))
        return output

    @staticmethod
    def color_segment(segment, value, best_value):
        if value <= best_value * 1.01 or value <= best_value + 100e-9:
            return BEST + BOLD + segment + TERMINATE * 2
        if value <= best_value * 1.1:
            return GOOD + BOLD + segment + TERMINATE * 2
        if value >= best_value * 5:
            return VERY_BAD + BOLD + segment + TERMINATE * 2
        if value >= best_value * 2:
            return BAD + segment + TERMINATE * 2
        return segment

    def row_separator(self, overall_width):
        return [f"{self._num_threads} threads: ".ljust(overall_width, "-")] if self._num_threads is not None else []

    def finalize_column_strings(self, column_strings, col_widths):
        best_values = [-1 for _ in column_strings]
        if self._colorize == _Colorize.ROWWISE:
            row_min = min(r.median for r in self._results if r is not None)
            best_values = [row_min for _ in column_strings]
        elif self._colorize == _Colorize.COLUMNWISE:
            best_values = [min((r.median for r in column.get_results_for(self._row_group) if r is not None),
                               default=None) for column in self._columns]
        row = [column_strings[0].ljust(col_widths[0])]
        for text, width, result, best in zip(column_strings[1:], col_widths[1:], self._results, best_values):
            text = text.center(width)
            if self._colorize != _Colorize.NONE and result is not None and best is not None:
                text = self.color_segment(text, result.median, best)
            row.append(text)
        return row


class _Table:
    """The table of one label: rows (num_threads, env, sub_label), columns description."""

    def __init__(self, results, colorize, trim_significant_figures, highlight_warnings):
        self.results, self.label = results, results[0].label
        self._colorize, self._highlight_warnings = colorize, highlight_warnings
        self.time_unit, self.time_scale = select_unit(min(r.median for r in results))
        self.row_keys = _ordered_unique([self.row_fn(r) for r in results])
        self.row_keys.sort(key=lambda key: key[:2])   # by threads and env; statements keep their order
        self.column_keys = _ordered_unique([r.description for r in results])
        ordered = [[None for _ in self.column_keys] for _ in self.row_keys]
        row_position = {key: i for i, key in enumerate(self.row_keys)}
        col_position = {key: i for i, key in enumerate(self.column_keys)}
        for r in results:
            ordered[row_position[self.row_fn(r)]][col_position[r.description]] = r
        envs = {r.env for r in results}
        render_env = len(envs) > 1
        env_str_len = max(len(e) for e in envs) if render_env else 0

        self.rows, rows_by_group = [], []
        prior_threads, prior_env, row_group = -1, "", -1
        for (num_threads, env, _), row in zip(self.row_keys, ordered):
            transition = num_threads != prior_threads
            if transition:
                prior_threads, prior_env, row_group = num_threads, "", row_group + 1
                rows_by_group.append([])
            self.rows.append(_Row(row, row_group, render_env and env != prior_env, env_str_len, self.time_scale,
                                  colorize, num_threads if transition else None))
            rows_by_group[-1].append(row)
            prior_env = env
        columns = tuple(_Column([tuple(row[i] for row in group) for group in rows_by_group], self.time_scale,
                                trim_significant_figures, highlight_warnings) for i in range(len(self.column_keys)))
        for row in self.rows:
            row._columns = columns

    @staticmethod
    def row_fn(m):
        return m.num_threads, m.env, m.as_row_name

    def render(self):
        string_rows = [[""] + [key if key is not None else "" for key in self.column_keys]]
        string_rows.extend(r.as_column_strings() for r in self.rows)
        num_cols = max(len(r) for r in string_rows)
        for r in string_rows:
            r.extend(["" for _ in range(num_cols - len(r))])
        col_widths = [max(len(cell) for cell in column) for column in zip(*string_rows)]
        lines = ["  |  ".join(cell.center(w) for cell, w in zip(string_rows[0], col_widths))]
        overall_width = len(lines[0])
        for string_row, row in zip(string_rows[1:], self.rows):
            lines.extend(row.row_separator(overall_width))
            lines.append("  |  ".join(row.finalize_column_strings(string_row, col_widths)))
        newline = "\n"
        has_warnings = self._highlight_warnings and any(r.has_warnings for r in self.results)
        return f"""
[{(' ' + (self.label or '') + ' ').center(overall_width - 2, '-')}]
{newline.join(lines)}

Times are in {_unit_to_english(self.time_unit)}s ({self.time_unit}).
{'(! XX%) Measurement has high variance, where XX is the IQR / median * 100.' + newline if has_warnings else ""}"""[1:]


class Compare:
    """Measurements as a table (``print(compare)`` or ``compare.print()``): one block per
    label, rows by sub_label and thread count, columns by description; cells are medians."""

    def __init__(self, results):
        self._results = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = _Colorize.NONE
        self._highlight_warnings = False

    def __str__(self):
        return "\n".join(self._render())

    def extend_results(self, results):
        """Add more Measurements."""
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self):
        """Show only the digits each measurement supports (Measurement.significant_figures)."""
        self._trim_significant_figures = True

    def colorize(self, rowwise=False):
        """Colour each cell against the best of its column (or of its row, rowwise=True)."""
        self._colorize = _Colorize.ROWWISE if rowwise else _Colorize.COLUMNWISE

    def highlight_warnings(self):
        """Mark noisy cells with their IQR / median."""
        self._highlight_warnings = True

    def print(self):
        print(str(self))

    def _render(self):
        grouped = collections.defaultdict(list)
        for r in Measurement.merge(self._results):
            grouped[r.label].append(r)
        return [_Table(group, self._colorize, self._trim_significant_figures, self._highlight_warnings).render()
                for group in grouped.values()]
