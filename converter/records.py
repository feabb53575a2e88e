"""Record classes declared like dataclasses, built without compiling any code.

`dataclasses` writes the source of every class's ``__init__``, ``__eq__``, ``__repr__``... and
compiles it. Measured with make bench's convert cases (issue 22, three interleaved runs),
standard dataclasses made a small `c2k convert` take 1.21-1.26x the CPU (50-60 ms more). These
records share a few generic methods instead (attribute access through
`operator.attrgetter` and the slot descriptors, both in C), so building a class costs
microseconds and creating an instance stays about as fast. `record` is declared with
`typing.dataclass_transform`, so type checkers read a record's fields, constructor and
frozenness as they read a dataclass's.

    @record                      # frozen, hashable, with __slots__ (the model's records)
    @record(kw_only=True)
    @record(frozen=False)        # mutable, unhashable, keeps a __dict__ (work-in-progress state)

Supported: annotations in definition order, defaults, ``field(default_factory=..., repr=False,
compare=False)``, positional or keyword-only construction, ``__post_init__``, properties and
methods. Not supported (c2k does not use them): inheritance of fields, ``ClassVar``, ``InitVar``.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")
_C = TypeVar("_C", bound=type)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record."""


class Field:
    __slots__ = ("compare", "default", "default_factory", "name", "repr")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING,
                 repr: bool = True, compare: bool = True):
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r})"


# As dataclasses.field: the declared type of `x: T = field(...)` is T to a type checker.
@overload
def field(*, default: _T, repr: bool = True, compare: bool = True) -> _T: ...
@overload
def field(*, default_factory: Callable[[], _T], repr: bool = True, compare: bool = True) -> _T: ...
@overload
def field(*, repr: bool = True, compare: bool = True) -> Any: ...
def field(*, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,
          compare: bool = True) -> Any:
    return Field(default, default_factory, repr, compare)


def default_of(f: Field) -> Any:
    """The value a field takes when not given: its default, a fresh one from its factory, or
    MISSING for a required field."""
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def fields(cls_or_record: object) -> tuple[Field, ...]:
    """The record's fields in definition order (as `dataclasses.fields`)."""
    try:
        found: tuple[Field, ...] = cls_or_record.__record_fields__  # type: ignore[attr-defined]
    except AttributeError:
        raise TypeError(f"{cls_or_record!r} is not a record") from None
    return found


@overload
def record(cls: _C, /) -> _C: ...
@overload
def record(*, frozen: bool = True, kw_only: bool = False) -> Callable[[_C], _C]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(cls: _C | None = None, /, *, frozen: bool = True,
           kw_only: bool = False) -> _C | Callable[[_C], _C]:
    def wrap(cls: _C) -> _C:
        return _build(cls, frozen, kw_only)
    return wrap if cls is None else wrap(cls)


def _build(cls: _C, frozen: bool, kw_only: bool) -> _C:
    ns = dict(cls.__dict__)
    ns.pop("__dict__", None)
    ns.pop("__weakref__", None)
    specs: list[Field] = []
    for name in ns.get("__annotations__", {}):
        value = ns.pop(name, MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name = name
        specs.append(spec)
    names = tuple(f.name for f in specs)
    if frozen:
        ns["__slots__"] = names
    ns["__record_fields__"] = tuple(specs)
    new: _C = type(cls)(cls.__name__, cls.__bases__, ns)
    new.__qualname__ = cls.__qualname__

    setters: dict[str, Callable[[object, object], None]]
    if frozen:  # write through the slot descriptors, past the frozen __setattr__
        setters = {f.name: getattr(new, f.name).__set__ for f in specs}
    else:
        setters = {f.name: _dict_setter(f.name) for f in specs}
    pairs = tuple((f.name, setters[f.name]) for f in specs)
    defaults = {f.name: f.default for f in specs if f.default is not MISSING}
    factories = tuple((f.name, f.default_factory) for f in specs
                      if f.default_factory is not MISSING)
    known = frozenset(names)
    positional: tuple[str, ...] = () if kw_only else names
    qualname = cls.__qualname__
    post_init = ns.get("__post_init__")

    def __init__(self: object, *args: object, **kwargs: object) -> None:
        if args:
            if len(args) > len(positional):
                raise TypeError(f"{qualname}() takes {len(positional)} positional arguments "
                                f"but {len(args)} were given")
            for name, value in zip(positional, args):
                if name in kwargs:
                    raise TypeError(f"{qualname}() got multiple values for argument {name!r}")
                kwargs[name] = value
        if not kwargs.keys() <= known:
            unknown = sorted(kwargs.keys() - known)
            raise TypeError(f"{qualname}() got an unexpected keyword argument {unknown[0]!r}")
        values = {**defaults, **kwargs} if defaults else kwargs
        for name, factory in factories:
            if name not in kwargs:
                values[name] = factory()
        try:
            for name, set_ in pairs:
                set_(self, values[name])
        except KeyError as exc:
            raise TypeError(f"{qualname}() missing required argument {exc.args[0]!r}") from None
        if post_init is not None:
            post_init(self)

    compared = [f.name for f in specs if f.compare]
    # The compared values as one tuple (attrgetter of one name returns the bare value).
    key: Callable[[object], object]
    if len(compared) > 1:
        key = attrgetter(*compared)
    elif compared:
        one = attrgetter(compared[0])
        key = lambda obj: (one(obj),)   # noqa: E731
    else:
        key = lambda obj: ()            # noqa: E731

    def __eq__(self: object, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(key(self) == key(other))

    shown = tuple(f.name for f in specs if f.repr)

    def __repr__(self: object) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{qualname}({inner})"

    methods: dict[str, Callable[..., object] | None] = {"__init__": __init__, "__eq__": __eq__, "__repr__": __repr__}
    if frozen:
        def __hash__(self: object) -> int:
            return hash(key(self))

        def __setattr__(self: object, name: str, value: object) -> None:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self: object, name: str) -> None:
            raise FrozenInstanceError(f"cannot delete field {name!r}")

        def __reduce__(self: object) -> tuple[object, ...]:   # copy and pickle: via __init__
            return _rebuild, (new, tuple(getattr(self, name) for name in names))

        methods.update(__hash__=__hash__, __setattr__=__setattr__, __delattr__=__delattr__,
                       __reduce__=__reduce__)
    else:
        methods["__hash__"] = None
    for name, method in methods.items():
        own = cls.__dict__.get(name, MISSING)
        if own is not MISSING and not (name == "__hash__" and own is None):
            continue  # the class's own definition wins, as with dataclasses
        if method is not None:
            method.__qualname__ = f"{qualname}.{name}"
        setattr(new, name, method)
    return new


def _rebuild(cls: type, values: tuple[object, ...]) -> object:
    return cls(**dict(zip((f.name for f in fields(cls)), values)))


def _dict_setter(name: str) -> Callable[[object, object], None]:
    def set_(obj: object, value: object) -> None:
        obj.__dict__[name] = value
    return set_


__all__ = [
    "MISSING",
    "Field",
    "FrozenInstanceError",
    "default_of",
    "field",
    "fields",
    "record",
]
