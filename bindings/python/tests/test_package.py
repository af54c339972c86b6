"""The installed package carries its own library and type information."""

from __future__ import annotations

import os
from pathlib import Path

import kiln
from kiln import _native


def test_library_is_inside_the_package() -> None:
    if os.environ.get(_native.LIBRARY_ENV):
        return  # development override in use: nothing to say about the packaged copy
    package_dir = Path(kiln.__file__).resolve().parent
    assert Path(kiln.library_path()).resolve().parent == package_dir


def test_typed_and_versioned() -> None:
    package_dir = Path(kiln.__file__).resolve().parent
    assert (package_dir / "py.typed").is_file()
    assert kiln.library_version() == kiln.__version__
    assert kiln.ABI_VERSION in _native.KNOWN_ABI_VERSIONS
    assert kiln.load.__doc__ and kiln.Model.score.__doc__
