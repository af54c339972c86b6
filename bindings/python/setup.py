"""Build hook: puts the native kiln library inside the package.

`pip install ./bindings/python` runs `cargo build --release --lib` on the repository's crate
(two folders up, or `KILN_SOURCE_DIR`) and copies the cdylib next to `kiln/__init__.py`.
`KILN_LIBRARY=/path/to/libkiln.so` copies an already-built library instead, so that CI builds
Rust once. `CARGO_TARGET_DIR` is honoured (cargo reports where it put the library).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:  # setuptools >= 70.1 ships bdist_wheel itself
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover - older setuptools with the wheel package
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent


def library_file_name() -> str:
    if sys.platform == "darwin":
        return "libkiln.dylib"
    if sys.platform == "win32":
        return "kiln.dll"
    return "libkiln.so"


def crate_dir() -> Path:
    explicit = os.environ.get("KILN_SOURCE_DIR")
    candidates = [Path(explicit)] if explicit else [HERE.parent.parent]
    for c in candidates:
        manifest = c / "Cargo.toml"
        if manifest.is_file() and 'name = "kiln"' in manifest.read_text():
            return c
    raise RuntimeError(
        "kiln: cannot find the kiln crate (a Cargo.toml for package kiln) at "
        f"{', '.join(str(c) for c in candidates)}; set KILN_SOURCE_DIR to the repository root, "
        "or KILN_LIBRARY to an already-built libkiln"
    )


def cargo_build() -> Path:
    """Build the cdylib and return its path, as cargo itself reports it."""
    root = crate_dir()
    cmd = ["cargo", "build", "--release", "--lib", "--message-format=json-render-diagnostics"]
    print(f"kiln: running {' '.join(cmd)} in {root}", file=sys.stderr)
    proc = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"kiln: cargo build failed with exit code {proc.returncode}")
    wanted = library_file_name()
    found = None
    for line in proc.stdout.decode().splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact" or msg.get("target", {}).get("name") != "kiln":
            continue
        for f in msg.get("filenames", []):
            if Path(f).name == wanted:
                found = Path(f)
    if found is None:
        raise RuntimeError(f"kiln: cargo did not report building {wanted}")
    return found


class BuildWithNativeLibrary(build_py):
    """build_py that also places the native library in the package."""

    def run(self) -> None:
        super().run()
        prebuilt = os.environ.get("KILN_LIBRARY")
        if prebuilt:
            source = Path(prebuilt)
            if not source.is_file():
                raise RuntimeError(f"kiln: KILN_LIBRARY={prebuilt} is not a file")
        else:
            source = cargo_build()
        dest = Path(self.build_lib) / "kiln" / library_file_name()
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        print(f"kiln: packaged {source} as {dest}", file=sys.stderr)


class BinaryDistribution(Distribution):
    """The wheel carries a native library: it is platform-specific."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    """ctypes needs no particular Python ABI: tag py3-none-<platform>."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self) -> tuple[str, str, str]:
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(
    cmdclass={"build_py": BuildWithNativeLibrary, "bdist_wheel": PlatformWheel},
    distclass=BinaryDistribution,
)
