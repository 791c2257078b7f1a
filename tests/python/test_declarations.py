"""Every PRIME_API function of the public headers (include/prime/*.h) is declared
in the package, with as many argument types as the header has parameters."""
from __future__ import annotations

import ctypes
import re
from ctypes import c_void_p

import libprime
from libprime import _lib

INTS = {"uint32_t": ctypes.c_uint32, "int32_t": ctypes.c_int32,
        "uint64_t": ctypes.c_uint64, "size_t": ctypes.c_size_t}
DECL = re.compile(r"PRIME_API\s+([^;{}()]*?)\b(prime_\w+)\s*\(([^)]*)\)\s*;", re.S)


def header_functions(source_root):
    out = {}
    headers = sorted((source_root / "include" / "prime").glob("**/*.h"))
    assert any(h.name == "prime.h" for h in headers)
    for header in headers:
        text = header.read_text(encoding="utf-8")
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        for ret, name, params in DECL.findall(text):
            params = " ".join(params.split())
            n = 0 if params in ("", "void") else params.count(",") + 1
            assert name not in out, "%s declared twice (%s)" % (name, header.name)
            out[name] = (" ".join(ret.split()), n)
    return out


def test_header_parses(source_root):
    funcs = header_functions(source_root)
    # sanity: the parser sees the API (it grows; it never shrinks)
    assert len(funcs) >= 70
    assert "prime_search" in funcs and funcs["prime_search"][1] == 6


def test_every_public_function_is_declared(source_root):
    funcs = header_functions(source_root)
    missing = sorted(set(funcs) - set(_lib.FUNCTIONS))
    assert not missing, "not declared in python/libprime/_lib.py: %s" % ", ".join(missing)


def test_no_declaration_of_unknown_functions(source_root):
    funcs = header_functions(source_root)
    extra = sorted(set(_lib.FUNCTIONS) - set(funcs))
    assert not extra, "declared but in no header: %s" % ", ".join(extra)


def test_argument_counts_and_return_kinds(source_root):
    funcs = header_functions(source_root)
    for name, (ret, nparams) in funcs.items():
        restype, argtypes = _lib.FUNCTIONS[name]
        assert len(argtypes) == nparams, name
        if ret == "void":
            assert restype is None, name
        elif ret == "prime_status":
            assert restype is ctypes.c_int32, name
        elif "char *" in ret or ret.endswith("char*"):
            assert restype is ctypes.c_char_p, name
        elif ret in INTS:
            assert restype is INTS[ret], name
        elif ret.endswith("*"):  # another pointer (const float *): a ctypes pointer type
            assert restype is c_void_p or (isinstance(restype, type)
                                           and issubclass(restype, ctypes._Pointer)), name
        else:
            raise AssertionError("%s: return type %r not handled by this test" % (name, ret))


SCALARS = {"uint8_t": ctypes.c_uint8, "int32_t": ctypes.c_int32, "uint32_t": ctypes.c_uint32,
           "int64_t": ctypes.c_int64, "uint64_t": ctypes.c_uint64, "size_t": ctypes.c_size_t,
           "double": ctypes.c_double, "float": ctypes.c_float,
           "prime_status": ctypes.c_int32, "prime_param": ctypes.c_int32}


def header_params(source_root):
    """name -> list of parameter declarations (text) of every PRIME_API function."""
    out = {}
    for header in sorted((source_root / "include" / "prime").glob("*.h")):
        text = header.read_text(encoding="utf-8")
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        for _ret, name, params in DECL.findall(text):
            params = " ".join(params.split())
            out[name] = [] if params in ("", "void") else [p.strip() for p in params.split(",")]
    return out


def test_argument_types_follow_the_header(source_root):
    """Each argument's ctypes type agrees with the header's C type: the same
    integer width and signedness, double for double, a pointer for a
    pointer (char * as c_char_p or a pointer), a callback for a function
    pointer. A declaration copied wrong fails here."""
    for name, params in header_params(source_root).items():
        if name not in _lib.FUNCTIONS:
            continue  # test_every_public_function_is_declared names it
        _restype, argtypes = _lib.FUNCTIONS[name]
        for k, (decl, t) in enumerate(zip(params, argtypes)):
            where = "%s argument %d (%s)" % (name, k + 1, decl)
            base = re.sub(r"\b(const|struct)\b", " ", decl)
            words = base.replace("*", " * ").split()
            stars = words.count("*")
            if "(" in decl or (stars == 0 and words[0].endswith("_fn")):
                # a callback: a CFUNCTYPE type (or a void pointer for NULL)
                assert t is c_void_p or hasattr(t, "_argtypes_"), where
            elif stars == 0:
                ctype = words[0]
                assert ctype in SCALARS, where + ": type not handled by this test"
                assert t is SCALARS[ctype], "%s: %s, not %s" % (where, t.__name__,
                                                                SCALARS[ctype].__name__)
            elif stars == 1 and words[0] == "char":
                assert t in (ctypes.c_char_p, c_void_p) or issubclass(t, ctypes._Pointer), where
            elif stars == 1 and words[0] in SCALARS:
                want = SCALARS[words[0]]
                assert t is c_void_p or (issubclass(t, ctypes._Pointer) and
                                         t._type_ is want), \
                    "%s: %r is not a pointer to %s" % (where, t, want.__name__)
            else:
                assert t in (c_void_p, ctypes.c_char_p) or issubclass(t, ctypes._Pointer), where


def test_version_matches_header(source_root):
    text = (source_root / "include" / "prime" / "prime.h").read_text(encoding="utf-8")
    v = re.search(r'#define PRIME_VERSION_STRING "([^"]+)"', text).group(1)
    assert libprime.version() == v
    major, minor, patch = (int(x) for x in v.split("."))
    assert libprime.version_number() == major * 10000 + minor * 100 + patch
