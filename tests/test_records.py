"""converter.records: the dataclass-like records the model and the conversion state are built of."""

from __future__ import annotations

import pytest

from converter import model, records
from converter.records import FrozenInstanceError, field, record


@record(kw_only=True)
class Point:
    x: int
    y: int = 0
    tags: tuple = ()
    secret: str = field(default="", repr=False)


@record
class Pair:
    left: str
    right: str = "r"


@record(frozen=False)
class Bag:
    items: list = field(default_factory=list)
    seen: set = field(default_factory=set, repr=False, compare=False)
    calls: int = 0

    def __post_init__(self):
        self.calls += 1


def test_keyword_construction_defaults_and_repr():
    p = Point(x=1, tags=("a",), secret="hidden")
    assert (p.x, p.y, p.tags) == (1, 0, ("a",))
    assert repr(p) == "Point(x=1, y=0, tags=('a',))"   # repr=False keeps the value out


def test_kw_only_refuses_positional_and_reports_missing_or_unknown():
    with pytest.raises(TypeError, match="positional"):
        Point(1)
    with pytest.raises(TypeError, match="missing required argument 'x'"):
        Point(y=2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(x=1, z=3)


def test_positional_construction():
    assert Pair("a") == Pair(left="a", right="r")
    assert Pair("a", "b").right == "b"
    with pytest.raises(TypeError, match="multiple values"):
        Pair("a", left="b")
    with pytest.raises(TypeError, match="takes 2 positional"):
        Pair("a", "b", "c")


def test_frozen_records_are_immutable_hashable_and_compare_by_value():
    p = Point(x=1)
    with pytest.raises(FrozenInstanceError):
        p.x = 2
    with pytest.raises(FrozenInstanceError):
        del p.y
    with pytest.raises(AttributeError):
        p.other = 1   # __slots__: no stray attributes either
    assert Point(x=1) == Point(x=1) and hash(Point(x=1)) == hash(Point(x=1))
    assert Point(x=1) != Point(x=2)
    assert Point(x=1) != Pair("1")     # another class never compares equal
    assert len({Point(x=1), Point(x=1), Point(x=3)}) == 2


def test_frozen_records_copy_and_pickle():
    import copy
    import pickle
    p = Point(x=1, tags=("a",), secret="s")
    assert copy.copy(p) == p and copy.deepcopy(p) == p
    assert pickle.loads(pickle.dumps(p)) == p and pickle.loads(pickle.dumps(p)).secret == "s"
    svc = model.Service(name="web", ports=(model.Port(target=80),))
    assert copy.deepcopy(svc) == svc


def test_mutable_records_get_fresh_defaults_post_init_and_no_hash():
    a, b = Bag(), Bag()
    a.items.append(1)
    assert b.items == [] and a.calls == 1
    a.seen.add("x")
    assert Bag(items=[1]) == Bag(items=[1], seen={"y"})   # compare=False field ignored
    with pytest.raises(TypeError):
        hash(a)
    assert repr(Bag()) == "Bag(items=[], calls=1)"


def test_fields_lists_names_defaults_and_factories_in_order():
    names = [f.name for f in records.fields(Point)]
    assert names == ["x", "y", "tags", "secret"]
    x, y = records.fields(Point)[:2]
    assert x.default is records.MISSING and y.default == 0
    assert records.fields(Bag)[0].default_factory is list
    assert records.fields(Point(x=1)) is records.fields(Point)
    with pytest.raises(TypeError):
        records.fields(object())


def test_model_records_keep_their_properties_and_private_environment():
    svc = model.Service(name="web", scale=3)
    assert svc.replicas == 3
    project = model.Project(name="p", working_dir="/w", environment={"TOKEN": "s3cret"})
    assert "s3cret" not in repr(project)
    deploy = model.Deploy()
    assert deploy.limits == model.ResourceSpec() and deploy.limits is not model.Deploy().limits
