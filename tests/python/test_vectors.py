"""Conformance tests over format-spec/vectors (SPEC §13).

For every NAME.zip with its NAME.expect:

* ``test_python_verifier``: verify_bundle.py reports exactly the expected set of
  failure classes.
* ``test_rust_verifier``: ``$FORENSIC_BIN verify --json [--trust …] NAME.zip`` exits 0
  for ``expect: ok`` and 1 otherwise, and reports the same set of classes as the
  Python verifier. Without FORENSIC_BIN this test FAILS, unless FORENSIC_ALLOW_NO_BIN=1
  (then it is skipped).

An empty vectors directory is a failure, not a pass.

Environment:
    FORENSIC_BIN           path to the Rust ``forensic`` binary
    FORENSIC_ALLOW_NO_BIN  "1": skip the Rust comparison when FORENSIC_BIN is unset
    FORENSIC_VECTORS_DIR   another vectors directory (default: format-spec/vectors)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import verify_bundle as vb  # noqa: E402

VECTORS_DIR = Path(os.environ.get("FORENSIC_VECTORS_DIR") or HERE.parents[1] / "format-spec" / "vectors")
RUST_TIMEOUT_S = 300


@dataclass(frozen=True)
class Expectation:
    description: str
    classes: frozenset[str]
    trust: tuple[Path, ...]
    head: str | None = None
    tsa_trust: tuple[Path, ...] = ()


def parse_expect(path: Path) -> Expectation:
    """Parse a §13 expectation file: ``key: value`` lines, keys ``description`` (once),
    ``expect`` (once: ``ok`` or sorted, space-separated class names), ``trust`` (any
    number of times, a path relative to the vectors directory), ``head`` (at most once: a
    recorded custody head, 64 hex digits, §9.5)."""
    description = None
    expect = None
    trust: list[Path] = []
    head = None
    tsa_trust: list[Path] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(": ")
        assert sep, f"{path.name}:{n}: not a 'key: value' line: {line!r}"
        value = value.strip()
        if key == "description":
            assert description is None, f"{path.name}:{n}: second description"
            description = value
        elif key == "expect":
            assert expect is None, f"{path.name}:{n}: second expect"
            expect = value
        elif key == "trust":
            trust.append(VECTORS_DIR / value)
        elif key == "head":
            assert head is None, f"{path.name}:{n}: second head"
            assert len(value) == 64 and all(c in "0123456789abcdef" for c in value), f"{path.name}:{n}: bad head"
            head = value
        elif key == "tsa-trust":
            tsa_trust.append(VECTORS_DIR / value)
        else:
            raise AssertionError(f"{path.name}:{n}: unknown key {key!r} (§13 knows description, expect, trust, head, tsa-trust)")
    assert description is not None, f"{path.name}: no description line"
    assert expect, f"{path.name}: no expect line"
    if expect == "ok":
        classes: list[str] = []
    else:
        classes = expect.split()
        unknown = [c for c in classes if c not in vb.FAILURE_CLASSES]
        assert not unknown, f"{path.name}: unknown failure classes {unknown} (§12)"
        assert classes == sorted(set(classes)), f"{path.name}: expect classes not sorted/unique: {expect!r}"
    for t in trust:
        assert t.exists(), f"{path.name}: trust key {t} does not exist"
    return Expectation(description, frozenset(classes), tuple(trust), head, tuple(tsa_trust))


def _vector_params():
    names = sorted({p.stem for p in VECTORS_DIR.glob("*.zip")} | {p.stem for p in VECTORS_DIR.glob("*.expect")})
    if not names:
        # A parametrised test with no parameters would be skipped: fail loudly instead.
        return [pytest.param(None, id="no-vectors")]
    return names


def _load(name: str | None) -> tuple[Path, Expectation]:
    if name is None:
        pytest.fail(f"no test vectors (NAME.zip + NAME.expect) found in {VECTORS_DIR}")
    zip_path = VECTORS_DIR / f"{name}.zip"
    expect_path = VECTORS_DIR / f"{name}.expect"
    assert zip_path.is_file(), f"{expect_path.name} has no {zip_path.name}"
    assert expect_path.is_file(), f"{zip_path.name} has no {expect_path.name}"
    return zip_path, parse_expect(expect_path)


def _python_result(zip_path: Path, exp: Expectation) -> vb.Result:
    head = bytes.fromhex(exp.head) if exp.head else None
    return vb.verify_file(zip_path, trust=list(exp.trust) or None, expect_head=head,
                          tsa_trust=list(exp.tsa_trust) or None)


def _describe(result: vb.Result) -> str:
    return "\n".join(f"  {f}" for f in result.failures) or "  (no failures)"


@pytest.mark.parametrize("name", _vector_params())
def test_python_verifier(name):
    zip_path, exp = _load(name)
    result = _python_result(zip_path, exp)
    assert result.classes == exp.classes, (
        f"{name}: {exp.description}\n"
        f"expected {sorted(exp.classes) or 'ok'}, verify_bundle.py reported {sorted(result.classes) or 'ok'}:\n"
        f"{_describe(result)}"
    )


@pytest.mark.parametrize("name", _vector_params())
def test_rust_verifier(name):
    zip_path, exp = _load(name)
    binary = os.environ.get("FORENSIC_BIN")
    if not binary:
        if os.environ.get("FORENSIC_ALLOW_NO_BIN") == "1":
            pytest.skip("FORENSIC_BIN is not set (FORENSIC_ALLOW_NO_BIN=1)")
        pytest.fail(
            "FORENSIC_BIN is not set: point it at the Rust `forensic` binary to compare verifiers, "
            "or set FORENSIC_ALLOW_NO_BIN=1 to skip this comparison explicitly"
        )
    cmd = [binary, "verify", "--json"]
    for t in exp.trust:
        cmd += ["--trust", str(t)]
    if exp.head:
        cmd += ["--expect-head", exp.head]
    for t in exp.tsa_trust:
        cmd += ["--tsa-trust", str(t)]
    cmd.append(str(zip_path))
    proc = subprocess.run(cmd, capture_output=True, timeout=RUST_TIMEOUT_S)
    stdout = proc.stdout.decode("utf-8", "replace")
    stderr = proc.stderr.decode("utf-8", "replace")
    context = f"{name}: {exp.description}\n$ {' '.join(cmd)}\nexit {proc.returncode}\nstdout:\n{stdout}\nstderr:\n{stderr}"

    want_exit = 0 if not exp.classes else 1
    assert proc.returncode == want_exit, f"exit status {proc.returncode}, expected {want_exit}\n{context}"
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError as e:
        pytest.fail(f"stdout is not JSON ({e})\n{context}")
    assert isinstance(report, dict) and "verified" in report and "failures" in report, f"bad JSON shape\n{context}"
    assert isinstance(report["failures"], list), f"'failures' is not a list\n{context}"
    rust_classes = {f["class"] for f in report["failures"]}
    assert report["verified"] is (not rust_classes), f"'verified' disagrees with 'failures'\n{context}"

    py = _python_result(zip_path, exp)
    assert rust_classes == py.classes, (
        f"Rust reported {sorted(rust_classes) or 'ok'}, Python {sorted(py.classes) or 'ok'} "
        f"(expected {sorted(exp.classes) or 'ok'})\nPython failures:\n{_describe(py)}\n{context}"
    )


def test_key_stores_are_read_as_the_spec_says():
    """§9.8: each entry's ``key_store`` as the verifier reports it; a value of another shape is
    shown as unknown (None), and neither vector fails (the field is informative)."""
    token, _ = _load("valid-custody-key-store-token")
    r = vb.verify_file(str(token))
    assert r.verified, _describe(r)
    assert r.key_stores == [
        {"kind": "file", "encrypted": False},
        {"kind": "pkcs11", "token": "incident-response", "model": "SoftHSM project SoftHSM v2",
         "serial": "4e8b2a6f1c0d9e37"},
    ]
    odd, _ = _load("valid-custody-key-store-odd-shape")
    r = vb.verify_file(str(odd))
    assert r.verified, _describe(r)
    assert r.key_stores == [{"kind": "file", "encrypted": False}, None]
