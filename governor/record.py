"""A NamedTuple for the hook path without the import cost.

`collections.namedtuple` (and so typing.NamedTuple) compiles a `__new__` with exec for every class,
about 1 ms each, paid by every hook process. Record builds the same thing (a tuple subclass with a
property per field, keyword and default arguments, _replace) from the class's annotations, with no
code generation. Modules subclass it as they would typing.NamedTuple, which is what type checkers see:

    from governor.record import Record

    class Cursor(Record):
        dev: int
"""

from __future__ import annotations

from operator import itemgetter


class _Record(tuple):  # type: ignore[type-arg]
    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _field_defaults: dict[str, object] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        own = tuple(cls.__dict__.get("__annotations__", {}))
        cls._fields = own
        cls._field_defaults = {name: cls.__dict__[name] for name in own if name in cls.__dict__}
        for index, name in enumerate(own):
            setattr(cls, name, property(itemgetter(index), doc=f"field {index}: {name}"))

    def __new__(cls, *args: object, **kwargs: object) -> _Record:
        fields = cls._fields
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} arguments, got {len(args)}")
        if len(args) < len(fields) or kwargs:
            values = list(args)
            for name in fields[len(args) :]:
                if name in kwargs:
                    values.append(kwargs.pop(name))
                elif name in cls._field_defaults:
                    values.append(cls._field_defaults[name])
                else:
                    raise TypeError(f"{cls.__name__}() missing argument {name!r}")
            if kwargs:
                raise TypeError(f"{cls.__name__}() got unexpected arguments {sorted(kwargs)}")
            args = tuple(values)
        return tuple.__new__(cls, args)

    def _replace(self, **changes: object) -> _Record:
        values = [changes.pop(name, value) for name, value in zip(self._fields, self, strict=True)]
        if changes:
            raise TypeError(f"{type(self).__name__}._replace() got unexpected fields {sorted(changes)}")
        return tuple.__new__(type(self), values)

    def _asdict(self) -> dict[str, object]:
        return dict(zip(self._fields, self, strict=True))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(" + ", ".join(f"{n}={v!r}" for n, v in zip(self._fields, self, strict=True)) + ")"
        )

    def __getnewargs__(self) -> tuple[object, ...]:  # pickling (the ingest's worker processes)
        return tuple(self)


TYPE_CHECKING = False  # typing is for type checkers only: ~3 ms (it imports re) per hook run
if TYPE_CHECKING:  # type checkers see what the classes are: NamedTuples
    from typing import NamedTuple as Record  # noqa: F401 - re-exported (mypy --strict)

    __all__ = ["Record"]
else:
    Record = _Record
