#!/usr/bin/env python3
"""Every code block of README.md and docs/*.md is checked (suite docs).

    doc_blocks.py SRC BUILD [FILE.md ...]

A block (fenced, or indented by four spaces after a blank line) is, by what
it holds:
  - C with #include: compiled (cc -std=c11 -Wall -Wextra -Werror against
    include/ and the built libprime); with a main(), linked and run;
  - Python (```python, or a first line that imports): run with /usr/bin/python3;
  - commands (a first word such as prime, build/tools/prime, python3, cc,
    export): run with bash -e -o pipefail;
or it says what it is in an HTML comment on the line before it (a blank
line between is allowed):
  <!-- excerpt -->            part of a program or of a file: not run
  <!-- synopsis -->           the form of a command (placeholders): not run
  <!-- output -->             what the block before it prints: every line of
                              it but "..." must be in that block's output
  <!-- not run here: WHY -->  a command this test does not run, and why
A block that is none of these fails the test. The blocks of one file run in
order in one scratch folder holding links to data/, examples/, python/,
scripts/ and build/ (the build being tested), with build/tools on PATH, so a
command may use what an earlier one wrote.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

MARK = re.compile(r'^<!--\s*(excerpt|synopsis|output|not run here:[^>]*?)\s*-->\s*$')
COMMANDS = ("prime", "build/tools/prime", "python3", "/usr/bin/python3", "cc", "c++", "export",
            "pkg-config", "man")


def blocks(text: str):
    """(line, kind, body, mark) for every code block; kind is 'fenced:LANG' or 'indented'."""
    lines = text.split("\n")
    out = []
    i = 0
    prev_blank = True
    in_list = False

    def mark_before(k):
        j = k - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        m = MARK.match(lines[j].strip()) if j >= 0 else None
        return m.group(1) if m else None

    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\s*)```(\w*)\s*$", line)
        if m:
            ind = len(m.group(1))
            j = i + 1
            body = []
            while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
                body.append(lines[j][ind:])
                j += 1
            out.append((i + 1, "fenced:" + m.group(2), "\n".join(body), mark_before(i)))
            i = j + 1
            prev_blank = False
            continue
        if prev_blank and line.startswith("    ") and line.strip() and not in_list:
            j = i
            body = []
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                body.append(lines[j][4:])
                j += 1
            while body and not body[-1].strip():
                body.pop()
            out.append((i + 1, "indented", "\n".join(body), mark_before(i)))
            i = j
            prev_blank = True
            continue
        if line.strip():
            # a list item's continuation lines are indented too: not code
            in_list = bool(re.match(r"^\s*([-*+]|\d+\.)\s", line)) or (in_list and line.startswith("  "))
        prev_blank = not line.strip()
        i += 1
    return out


def classify(kind: str, body: str) -> str | None:
    first = next((l.strip() for l in body.split("\n") if l.strip()), "")
    lang = kind.split(":", 1)[1] if kind.startswith("fenced:") else ""
    if lang in ("c", "") and re.search(r"^#include\s*<", body, re.M) and not lang == "python":
        return "c"
    if lang == "python" or re.match(r"^(import|from)\s+\w+", first):
        return "python"
    word = first.split()[0] if first else ""
    if lang in ("", "sh", "bash", "console") and (word in COMMANDS or re.match(r"^[A-Z_]+=", word)):
        return "sh"
    return None


def main() -> int:
    src, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    default_files = ["README.md"] + sorted(
        os.path.join("docs", f) for f in os.listdir(os.path.join(src, "docs")) if f.endswith(".md"))
    files = sys.argv[3:] or default_files
    env = dict(os.environ)
    env["PATH"] = os.path.join(build, "tools") + os.pathsep + env.get("PATH", "")
    env["PRIME_LIBRARY"] = os.path.join(build, "lib", "libprime.so")
    env["PRIME_DATA_DIR"] = os.path.join(src, "data")
    env["PYTHONPATH"] = os.path.join(src, "python")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    counts: dict[str, int] = {}
    failures = []
    for f in files:
        text = open(os.path.join(src, f), encoding="utf-8").read()
        scratch = tempfile.mkdtemp(prefix="prime-docs.")
        try:
            for name in ("data", "examples", "python", "scripts"):
                os.symlink(os.path.join(src, name), os.path.join(scratch, name))
            os.symlink(build, os.path.join(scratch, "build"))
            last_out = None
            for n, (line, kind, body, mark) in enumerate(blocks(text)):
                where = "%s:%d" % (f, line)
                what = mark or classify(kind, body)
                if what is None:
                    failures.append("%s: a code block that is neither run nor marked "
                                    "(<!-- excerpt -->, <!-- synopsis -->, <!-- output -->, "
                                    "<!-- not run here: WHY -->): %s" % (where, body.split("\n")[0]))
                    continue
                key = what.split(":")[0]
                counts[key] = counts.get(key, 0) + 1
                if what == "output":
                    if last_out is None:
                        failures.append("%s: output block after no run block" % where)
                        continue
                    for l in body.split("\n"):
                        if l.strip() in ("", "...", "…"):
                            continue
                        if l.rstrip() not in last_out:
                            failures.append("%s: output line not printed by the block before: %r"
                                            % (where, l))
                    print("%s output: matches" % where)
                    continue
                if what in ("excerpt", "synopsis") or what.startswith("not run here"):
                    print("%s %s" % (where, what))
                    continue
                ok, out = run_block(what, body, scratch, env, build, src, "%s-%d" % (
                    os.path.basename(f).replace(".", "_"), n))
                last_out = out
                print("%s %s: %s" % (where, what, "ok" if ok else "FAILED"))
                if not ok:
                    failures.append("%s (%s) failed:\n%s\n--- output:\n%s" % (where, what, body, out))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if files == default_files:
        failures += readme_lists(src, build)
    total = sum(counts.values())
    print("doc blocks: %d in %d files: %s" % (total, len(files), ", ".join(
        "%s %d" % kv for kv in sorted(counts.items()))))
    for fl in failures:
        print("FAIL: " + fl)
    return 1 if failures else 0


def readme_lists(src, build):
    """README.md names every public header and every test suite of the build."""
    readme = open(os.path.join(src, "README.md"), encoding="utf-8").read()
    bad = []
    for h in sorted(os.listdir(os.path.join(src, "include", "prime"))):
        if h.endswith(".h") and "`%s`" % h not in readme:
            bad.append("README.md does not list the header %s" % h)
    p = subprocess.run(["meson", "test", "-C", build, "--list", "--no-rebuild"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    suites = set()
    for line in p.stdout.splitlines():
        m = re.match(r"^[\w-]+:([\w+]+) / ", line)
        if m:
            suites.update(m.group(1).split("+"))
    if not suites:
        bad.append("meson test --list gave no suites")
    para = readme[readme.find("Test suites run alone"):]
    para = para[:para.find("\n\n")]
    for su in sorted(suites):
        if "`%s`" % su not in para:
            bad.append("README.md's list of test suites lacks %s" % su)
    print("README.md: %d headers and %d suites listed" % (
        len([h for h in os.listdir(os.path.join(src, "include", "prime")) if h.endswith(".h")]),
        len(suites)))
    return bad


def run_block(what, body, scratch, env, build, src, tag):
    def run(cmd, **kw):
        p = subprocess.run(cmd, cwd=scratch, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=300, **kw)
        return p.returncode == 0, p.stdout
    if what == "sh":
        return run(["bash", "-e", "-o", "pipefail", "-c", body])
    if what == "python":
        return run(["/usr/bin/python3", "-c", body])
    # C: a translation unit; with main(), a program that is run
    path = os.path.join(scratch, tag + ".c")
    with open(path, "w") as fh:
        fh.write(body + "\n")
    flags = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-I" + os.path.join(src, "include")]
    if not re.search(r"\bint\s+main\s*\(", body):
        return run(["cc"] + flags + ["-c", path, "-o", path + ".o"])
    exe = os.path.join(scratch, tag)
    ok, out = run(["cc"] + flags + [path, "-L" + os.path.join(build, "lib"), "-lprime",
                                    "-Wl,-rpath," + os.path.join(build, "lib"), "-lm", "-o", exe])
    if not ok:
        return ok, out
    return run([exe])


if __name__ == "__main__":
    sys.exit(main())
