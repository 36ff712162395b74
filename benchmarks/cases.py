"""The one notion of a case: a benchmark method and one combination of its parameters.

Every tool takes and returns `Case`s: asv's name, the labels reports write, the libraries a
case runs (from the registry its class declares), whether it is a control for a library,
its size. A subset is a predicate over cases (`SUBSETS`, `kernel`); `all_cases()` lists every
case of the suite in asv's order.
"""
import importlib
import inspect
import itertools
import math
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache

import benchmarks

TIMED_PREFIX = "time_"


@lru_cache(maxsize=1)
def benchmark_classes():
    """((module name as asv names it, class), ...) for every benchmark class of the suite."""
    found = []
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda i: i.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                found.append((info.name, cls))
    return tuple(found)


def find_class(module, name):
    for found_module, cls in benchmark_classes():
        if (found_module, cls.__name__) == (module, name):
            return cls
    raise ValueError(f"no benchmark class {module}.{name} in benchmarks/")


@dataclass(frozen=True)
class Case:
    module: str  # "bench_sum"
    cls: str  # "Sum"
    method: str  # "time_sum"
    params: tuple  # (100, "numba_loop", "cpu"): the values asv passes

    @property
    def benchmark(self):
        """asv's benchmark name: 'bench_sum.Sum.time_sum'."""
        return f"{self.module}.{self.cls}.{self.method}"

    @property
    def asv_params(self):
        """The parameters as asv writes them in result files: ('100', "'numba_loop'", ...)."""
        return tuple(map(repr, self.params))

    @property
    def asv_name(self):
        """"bench_sum.Sum.time_sum(100, 'numba_loop', 'cpu')": what --bench matches."""
        return f"{self.benchmark}({', '.join(self.asv_params)})"

    @property
    def regex(self):
        """An asv --bench argument selecting exactly this case."""
        return f"^{re.escape(self.asv_name)}$"

    @property
    def label(self):
        """'Sum.time_sum(100, numba_loop, cpu)': how reports and release sessions name it."""
        return f"{self.cls}.{self.method}({', '.join(map(str, self.params))})"

    @property
    def short(self):
        """'Sum(100, numba_loop, cpu)': the name a calibration's injected slowdown keys on."""
        return f"{self.cls}({', '.join(map(str, self.params))})"

    @property
    def bench_class(self):
        return find_class(self.module, self.cls)

    @property
    def values(self):
        """{param name: value}."""
        return dict(zip(getattr(self.bench_class, "param_names", []), self.params))

    @property
    def implementation(self):
        """The registry entry (impls.Impl) this case runs, or None (a case of no registry)."""
        cls = self.bench_class
        registry = getattr(cls, "implementations", None)
        if registry is None:
            return None
        return registry.get(self.values.get(getattr(cls, "impl_param", "impl")))

    @property
    def libraries(self):
        """The libraries whose code the timed call runs; () where no registry says."""
        impl = self.implementation
        return tuple(impl.libraries) if impl is not None else ()

    def is_control(self, library):
        """True where the case runs code of a registry and none of it is `library`'s: what a
        comparison of two releases of `library` watches for machine drift."""
        return self.implementation is not None and library not in self.libraries

    @property
    def size(self):
        """Elements per call: `size`, or rows x cols of a `shape`."""
        values = self.values
        if "size" in values:
            return int(values["size"])
        if "shape" in values:
            return math.prod(int(n) for n in str(values["shape"]).split("x"))
        return None

    @property
    def kernel(self):
        """The kernel file's name for a case of benchmarks/kernels/, else None."""
        kernel = getattr(self.bench_class, "kernel", None)
        return kernel.name if kernel is not None else None


@lru_cache(maxsize=1)
def _by_label():
    return {case.label: case for case in all_cases()}


def from_label(label):
    """The Case a report or session names 'Sum.time_sum(100, numba_loop, cpu)'; None if the
    suite has no such case (any more). A label written before its benchmark gained trailing
    parameters (Gelu's malloc) names the case with those at their first value (default)."""
    case = _by_label().get(label)
    if case is not None:
        return case
    head, _, rest = label.partition("(")
    values = [v.strip() for v in rest[:-1].split(",")] if rest[:-1].strip() else []
    for case in all_cases():
        if f"{case.cls}.{case.method}" != head or len(case.params) <= len(values):
            continue
        grid = case.bench_class.params
        if [str(p) for p in case.params[:len(values)]] == values and \
                all(case.params[i] == grid[i][0] for i in range(len(values), len(case.params))):
            return case
    return None


def cases_of(module, bench_class, prefix=TIMED_PREFIX):
    params = getattr(bench_class, "params", None) or []
    if params and not isinstance(params[0], (list, tuple)):
        params = [params]
    methods = sorted(m for m in dir(bench_class) if m.startswith(prefix))
    for method in methods:
        for combo in itertools.product(*params):
            yield Case(module, bench_class.__name__, method, tuple(combo))


def all_cases(predicate=None, prefix=TIMED_PREFIX):
    """Every timed case of the suite (or those `predicate` accepts), in asv's order."""
    out = []
    for module, bench_class in benchmark_classes():
        out += [c for c in cases_of(module, bench_class, prefix)
                if predicate is None or predicate(c)]
    return out


# ---------------------------------------------------------------------------------------------
# Subsets: predicates over cases.

SEED_CLASSES = ("Sum", "AxisSum", "Gelu")


def seed(case):
    """The seed notebook's cases on cpu: the six sums at every size, rows and cols of every
    shape in C layout for numpy and torch, GELU eager and compiled (default allocator)."""
    impl = case.implementation
    values = case.values
    return (case.cls in SEED_CLASSES and impl is not None and impl.seed_name is not None
            and values.get("device") == "cpu" and values.get("layout", "C") == "C"
            and values.get("malloc", "default") == "default")


def tiny(case):
    """Two 100-element sums, numba and numpy (the tests' throw-away histories)."""
    return (case.cls == "Sum" and case.values.get("size") == 100
            and case.values.get("impl") in ("numba_loop", "numpy_sum")
            and case.values.get("device") == "cpu")


def kernel(name):
    """The cpu cases of the kernel file `benchmarks/kernels/<name>.py`."""
    def predicate(case):
        return case.kernel == name and case.values.get("device") == "cpu"

    predicate.__doc__ = f"the cpu cases of benchmarks/kernels/{name}.py"
    return predicate


def gelu(case):
    """The seed's GELU cases (eager and compiled at every size, cpu, default allocator) and
    three controls that run no torch (numpy and numba sums, a Python loop): the torch
    history's headline experiment at a sixth of the seed subset's cost."""
    values = case.values
    if case.cls == "Gelu":
        return seed(case)
    return (case.cls == "Sum" and values.get("device") == "cpu" and
            (values.get("size"), values.get("impl")) in (
                (1_000_000, "numpy_sum"), (1_000_000, "numba_loop"), (10_000, "python_loop")))


def matching(pattern):
    """The cases whose label matches the regular expression `pattern` (re.search): a history
    of a few cases, the controls named in the pattern too."""
    try:
        found = re.compile(pattern)
    except re.error as e:
        raise ValueError(f"match:{pattern}: not a regular expression ({e})") from None

    def predicate(case):
        return bool(found.search(case.label))

    predicate.__doc__ = f"the cases whose label matches {pattern!r}"
    return predicate


SUBSETS = {"seed": seed, "tiny": tiny, "gelu": gelu}


def subset(name):
    """A named subset: one of SUBSETS or 'kernel:<name>'."""
    if name in SUBSETS:
        return SUBSETS[name]
    if name.startswith("kernel:"):
        from .kernels import kernel_names

        wanted = name.partition(":")[2]
        if wanted not in kernel_names():
            raise ValueError(f"unknown kernel {wanted!r}: benchmarks/kernels/ has "
                             f"{', '.join(kernel_names()) or 'none'}")
        return kernel(wanted)
    if name.startswith("match:"):
        return matching(name.partition(":")[2])
    raise ValueError(f"unknown subset {name!r}: choose one of {', '.join(subset_names())}")


def subset_names():
    from .kernels import kernel_names

    return list(SUBSETS) + [f"kernel:{name}" for name in kernel_names()] + ["match:REGEX"]
