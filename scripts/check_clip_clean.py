#!/usr/bin/python3
"""Differential check of CLIP's text cleaning and tokenizer in libprime
(prime_tokenizer_clean, prime_tokenizer_encode; lib/text) against CLIP's own
simple_tokenizer.py with the real ftfy, on random texts built from the same
ingredients as tests/data/clip/clip_tokens_clean.tsv (tag names, captions,
HTML entities, mojibake in several encodings, curly quotes, full-width
forms, ligatures, decomposed accents, control characters, line breaks),
mixed more freely and under any seed. Counts the texts whose cleaned text
and ids are identical, and shows the first that are not.

    /usr/bin/python3 scripts/check_clip_clean.py CLIP_DIR FTFY_DIR --build build [--n 20000] [--seed 1]

CLIP_DIR and FTFY_DIR as for scripts/make_clip_clean_reference.py (neither
is committed; Debian 12 does not package ftfy). Not a test: the test suite
reads the committed references. Exits 1 on any difference.
"""
import argparse
import ctypes
import html.entities
import os
import random
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORDS = ["café", "crème brûlée", "naïve", "façade", "Zürich", "São Paulo", "Kraków",
         "İstanbul", "smörgåsbord", "piñata", "Ångström", "déjà vu", "Ærøskøbing", "Łódź",
         "Dvořák", "Ελληνικά", "Москва", "Київ", "résumé", "Þór", "Straße", "Đà Nẵng",
         "Tōkyō", "Ἀθῆναι", "東京", "서울", "ラーメン", "€5 coffee", "£10 tea", "½ cup",
         "œuvre", "Šibenik", "Ÿ", "…", "—", "–", "“quoted”", "it’s", "•bullet", "™",
         "مرحبا", "שלום", "नमस्ते", "ประเทศไทย", "😀", "👍🏽", "🇫🇷", "x²", "ﬁle", "Ⅻ",
         "①", "ℌ", "ｆｕｌｌ", "ｶﾀｶﾅ", "\u00a0nbsp", "soft\u00adhyphen", "a\u200bb"]
TEMPLATES = ["a photo of a {}", "{}", "a {} in the wild", "an image showing {} and {}",
             "{} on a table", "a painting of {} by the sea", "\"{}\"", "{}, {} & {}",
             "<b>{}</b>", "{}\n{}", "{} - {}"]
ENCODINGS = ["latin-1", "cp1252", "cp1251", "cp1250", "cp1253", "cp1254", "cp1257",
             "iso-8859-2", "mac-roman", "cp437"]
QUOTES = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u02bc\u2032\u00ab\u00bb`'\""
CONTROLS = [chr(c) for c in list(range(0, 0x20)) + [0x7F] + list(range(0x80, 0xA0))] + \
    ["\ufeff", "\u200b", "\u200d", "\u202e", "\u2028", "\u2029", "\x1b[31m", "\x1b[0m",
     "\ufffc", "\U000e0041"]
MARKS = [0x300, 0x301, 0x302, 0x303, 0x308, 0x30A, 0x327, 0x328, 0x323, 0x31B, 0x345,
         0x5B0, 0x93C, 0x94D, 0x3099, 0x309A]
ENTITIES = sorted(html.entities.html5)


def sloppy1252(s):
    b = s.encode("utf-8")
    return "".join(bytes([x]).decode("cp1252", errors="replace")
                   if bytes([x]).decode("cp1252", errors="replace") != "\ufffd"
                   else chr(x) for x in b)


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else
                   ("\u3000" if c == " " else c) for c in s)


def text(rng, tags):
    t = rng.choice(TEMPLATES)
    pool = rng.choice([tags, WORDS])
    s = t.format(*[rng.choice(pool) for _ in range(t.count("{}"))])
    for f in rng.sample(["ent", "num", "moji", "moji2", "quote", "width", "nfd", "ctl",
                         "lig", "mark", "case"], rng.randrange(0, 5)):
        if f == "ent":
            name = rng.choice(ENTITIES)
            name = rng.choice([name, name.rstrip(";"), name.upper(), name.rstrip(";") + "x"])
            i = rng.randrange(len(s) + 1)
            s = s[:i] + "&" + name + s[i:]
        elif f == "num":
            n = rng.choice([rng.randrange(0x80, 0xA0), rng.randrange(0x300),
                            rng.randrange(0x10000), rng.randrange(0x110000)])
            form = rng.choice(["&#%d;", "&#x%x;", "&#%d", "&#X%X;"]) % n
            i = rng.randrange(len(s) + 1)
            s = s[:i] + form + s[i:]
        elif f == "moji":
            s = s.encode("utf-8").decode(rng.choice(ENCODINGS), errors="replace")
        elif f == "moji2":
            s = sloppy1252(s)
        elif f == "quote":
            i = rng.randrange(len(s) + 1)
            s = s[:i] + rng.choice(QUOTES) + s[i:]
        elif f == "width":
            s = fullwidth(s)
        elif f == "nfd":
            s = unicodedata.normalize(rng.choice(["NFD", "NFKD"]), s)
        elif f == "ctl":
            i = rng.randrange(len(s) + 1)
            s = s[:i] + rng.choice(CONTROLS) + s[i:]
        elif f == "lig":
            s = s.replace("fi", "\ufb01").replace("fl", "\ufb02").replace("ff", "\ufb00")
        elif f == "mark":
            i = rng.randrange(len(s) + 1)
            s = s[:i] + chr(rng.choice(MARKS)) + s[i:]
        elif f == "case":
            s = s.upper()
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clip_dir")
    ap.add_argument("ftfy_dir")
    ap.add_argument("--build", default="build")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    sys.path.insert(0, a.ftfy_dir)
    sys.path.insert(0, a.clip_dir)
    import ftfy  # noqa: F401
    import simple_tokenizer
    tok = simple_tokenizer.SimpleTokenizer(os.path.join(a.clip_dir,
                                                        "bpe_simple_vocab_16e6.txt.gz"))
    lib = ctypes.CDLL(os.path.join(a.build, "lib", "libprime.so.1"))
    lib.prime_tokenizer_create.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.prime_tokenizer_clean.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                          ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    lib.prime_tokenizer_encode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                           ctypes.POINTER(ctypes.c_int64), ctypes.c_size_t,
                                           ctypes.POINTER(ctypes.c_size_t)]
    lib.prime_last_error.restype = ctypes.c_char_p
    t = ctypes.c_void_p()
    bpe = os.path.join(ROOT, "data", "clip", "bpe_simple_vocab_16e6.txt.gz").encode()
    if lib.prime_tokenizer_create(bpe, ctypes.byref(t)) != 0:
        sys.exit(lib.prime_last_error().decode())
    with open(os.path.join(ROOT, "data/ram/ram_tag_list.txt"), encoding="utf-8") as f:
        tags = [line.rstrip("\n") for line in f if line.strip()]
    rng = random.Random(a.seed)
    same = changed = 0
    bad = []
    seen = set()
    while len(seen) < a.n:
        s = text(rng, tags)
        if s in seen:
            continue
        seen.add(s)
        try:
            b = s.encode("utf-8")
        except UnicodeEncodeError:
            continue
        want_clean = simple_tokenizer.basic_clean(s)
        want_ids = tok.encode(s)
        changed += want_clean != s
        out = ctypes.create_string_buffer(4 * len(b) + 64)
        n = ctypes.c_size_t()
        st = lib.prime_tokenizer_clean(b, len(b), out, len(out), ctypes.byref(n))
        got_clean = out.raw[:n.value].decode("utf-8") if st == 0 else None
        ids = (ctypes.c_int64 * (4 * len(b) + 64))()
        m = ctypes.c_size_t()
        st2 = lib.prime_tokenizer_encode(t, b, len(b), ids, len(ids), ctypes.byref(m))
        got_ids = list(ids[:m.value]) if st2 == 0 else None
        if got_clean == want_clean and got_ids == want_ids:
            same += 1
        else:
            bad.append((s, want_clean, got_clean, got_ids == want_ids))
    print("texts: %d, changed by the cleaning: %d, identical (cleaned text and ids): %d, "
          "different: %d" % (len(seen), changed, same, len(bad)))
    for s, w, g, ids_ok in bad[:15]:
        print("  %r\n    CLIP     %r\n    libprime %r (ids %s)" % (s, w, g,
                                                                 "same" if ids_ok else "differ"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
