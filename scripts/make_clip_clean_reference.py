#!/usr/bin/python3
"""Write tests/data/clip/clip_tokens_clean.tsv: the ids CLIP's own tokenizer
gives, with the real ftfy, for a large set of realistic captions and tag
names and for text that ftfy and html.unescape change (HTML entities,
mojibake, curly quotes, full-width forms, ligatures, decomposed accents,
control characters, line breaks). tests/test_tokenizer.c compares libprime's
ids (and its cleaned text) with every line.

The reference is the real code, run from folders outside the repository
(nothing of it is committed):
  - CLIP_DIR: a checkout of openai/CLIP's clip/ folder (simple_tokenizer.py
    and bpe_simple_vocab_16e6.txt.gz);
  - FTFY_DIR: a folder holding the `ftfy` package (rspeer/python-ftfy; the
    file was made with ftfy 6.3.1). Debian 12 does not package ftfy;
    its other needs are Debian's python3-regex and python3-wcwidth.

    /usr/bin/python3 scripts/make_clip_clean_reference.py CLIP_DIR FTFY_DIR \\
        > tests/data/clip/clip_tokens_clean.tsv

With a third argument, the hex texts of tests/data/clip/clip_tokens_unicode.tsv
get their ids from the same reference (clip.tokenize with truncate=True):

    /usr/bin/python3 scripts/make_clip_clean_reference.py CLIP_DIR FTFY_DIR \\
        tests/data/clip/clip_tokens_unicode.tsv > NEW.tsv

Columns: a category, the input text as hex UTF-8, CLIP's basic_clean(text)
(ftfy.fix_text, html.unescape twice, strip) as hex UTF-8, and the ids of
clip.tokenize(text) without padding (start and end included; no text here
is over the context of 77). The strings come from data/ram/ram_tag_list.txt
and from a fixed-seed generator below, so the file is reproducible.
"""
import html
import html.entities
import os
import random
import sys
import unicodedata

if len(sys.argv) not in (3, 4):
    sys.exit(__doc__)
clip_dir, ftfy_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, ftfy_dir)
sys.path.insert(0, clip_dir)
import ftfy  # noqa: E402
import simple_tokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tok = simple_tokenizer.SimpleTokenizer(os.path.join(clip_dir, "bpe_simple_vocab_16e6.txt.gz"))
rng = random.Random(17)


def clip_tokenize(text, context=77):
    """clip.tokenize(text, truncate=True)[0] without its padding."""
    ids = [49406] + tok.encode(text) + [49407]
    if len(ids) > context:
        ids = ids[:context]
        ids[-1] = 49407
    return ids


if len(sys.argv) == 4:
    print("# UTF-8 text in hex\tids of clip.tokenize(text, truncate=True), start and end "
          "included, no padding (CLIP's own tokenizer with ftfy %s and Debian's regex: "
          "scripts/make_clip_clean_reference.py)" % ftfy.__version__)
    with open(sys.argv[3], encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            h = line.rstrip("\n").split("\t")[0]
            ids = clip_tokenize(bytes.fromhex(h).decode("utf-8"))
            print("%s\t%s" % (h, " ".join(map(str, ids))))
    sys.exit(0)

with open(os.path.join(ROOT, "data/ram/ram_tag_list.txt"), encoding="utf-8") as f:
    TAGS = [line.rstrip("\n") for line in f if line.strip()]

WORDS = ["café", "crème brûlée", "naïve", "façade", "Zürich", "São Paulo", "Kraków",
         "İstanbul", "smörgåsbord", "piñata", "jalapeño", "Ångström", "déjà vu",
         "über", "Ærøskøbing", "Łódź", "Dvořák", "Ελληνικά", "Москва", "Київ",
         "résumé", "garçon", "Ñandú", "Bjørn", "fiancée", "coöperate", "Þór",
         "Straße", "señor", "à la carte", "doña", "São Tomé", "Curaçao", "Québec",
         "Čeština", "Đà Nẵng", "Hà Nội", "Tōkyō", "Māori", "Ōsaka", "Ἀθῆναι",
         "東京", "北京", "서울", "ラーメン", "Ärger", "Öl", "Übung", "ça va",
         "€5 coffee", "£10 tea", "50¢ gum", "¥500", "25°C", "½ cup", "naïveté",
         "Ł", "ś", "ž", "œuvre", "Œdipe", "Šibenik", "Žilina", "Ÿ", "…", "—", "–",
         "“quoted”", "‘single’", "it’s", "don’t", "•bullet", "™", "®", "©",
         "مرحبا", "שלום", "नमस्ते", "ประเทศไทย", "😀", "👍🏽", "🇫🇷"]

TEMPLATES = ["a photo of a {}", "a photo of the {}", "{}", "a {} in the wild",
             "a close-up photo of {}", "an image showing {} and {}",
             "a blurry photo of a {}", "{} on a table", "two {}s at night",
             "a painting of {} by the sea", "a cropped photo of the {}"]


def caption(words=None):
    t = rng.choice(TEMPLATES)
    n = t.count("{}")
    pool = words if words is not None else TAGS
    return t.format(*[rng.choice(pool) for _ in range(n)])


def mojibake(s, enc):
    return s.encode("utf-8").decode(enc, errors="replace")


def sloppy1252(s):
    b = s.encode("utf-8")
    return "".join(bytes([x]).decode("cp1252", errors="replace")
                   if bytes([x]).decode("cp1252", errors="replace") != "\ufffd"
                   else chr(x) for x in b)


cases = []


def add(cat, text):
    cases.append((cat, text))


# 1. tag names and captions as they are
for t in TAGS:
    add("tag", t)
for _ in range(400):
    add("caption", caption())
for w in WORDS:
    add("word", w)
    add("word", caption(WORDS))

# 2. HTML entities
for name in sorted(html.entities.html5):
    add("entity", "cat &%s dog" % name)
for name in rng.sample(sorted(html.entities.html5), 300):
    base = name.rstrip(";")
    add("entity", "%s&%s%s" % (rng.choice(["", "x", "a "]), base,
                               rng.choice(["", ";", "x", "x;", "1;", " ", ";;"])))
    add("entity", "&" + base.upper() + rng.choice([";", ""]) + " " + caption())
    add("entity", caption().replace(" ", " &%s " % name, 1))
for s in ["&lt;b&gt;", "&amp;lt;b&amp;gt;", "&amp;amp;amp;lt;", "Tom &amp; Jerry",
          "&quot;hello&quot;", "it&#39;s", "it&#x27;s", "a&nbsp;b", "&EACUTE;T&EACUTE;",
          "P&EACUTE;REZ", "BUNDESSTRA&SZLIG;E", "&ntilde; &Ntilde; &NTILDE; &nTILDE;",
          "&notit; &notin; &not", "&ampx &amp; &AMP &AMP;", "x < y &amp; z", "<b>&amp;</b>",
          "&lt;&lt;&lt;", "&#;", "&#x;", "&#xZZ;", "&#12a;", "&#65", "&#x41", "&#X41;",
          "&;", "&", "&&", "&#", "a & b", "&amp", "&amp;#39;", "&amp;#x27;",
          "line1 < 2\n&amp; line2", "line1 &amp;\nline2 <", "&Jscr;ohn &HilbertSpace;ancock",
          "&checkmark;", "&hellip;", "&mdash;", "&ndash;", "&lsquo;quote&rsquo;",
          "&ldquo;quote&rdquo;", "&frac12; cup", "&deg;C", "&euro;5", "&copy; 2020",
          "&CounterClockwiseContourIntegral;", "&xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;",
          "&fjlig;", "&ThickSpace;", "&NewLine;", "&Tab;x", "&nbsp;&nbsp;", "&shy;",
          "&zwj;&zwnj;", "&lrm;&rlm;", "&#xFEFF;bom", "&#x200B;zero"]:
    add("entity", s)
nums = [0, 1, 9, 10, 13, 32, 38, 60, 65, 127, 128, 129, 130, 141, 150, 159, 160, 173, 233,
        768, 769, 0x2019, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xFDD0, 0xFDEF, 0xFFFE, 0xFFFF,
        0x1FFFE, 0x10FFFF, 0x110000, 0xFFFFFFF, 0x1F600, 0xFF21, 0xFB01, 0x3000, 0x85,
        0x2028, 0x1B, 0xB, 0xC, 0x7F]
for n in nums:
    add("numeric", "x&#%d;y" % n)
    add("numeric", "x&#x%x;y" % n)
    add("numeric", "x&#X%X y" % n)
    add("numeric", "x&#%d y" % n)
    add("numeric", "e&#%d;" % n)
for _ in range(200):
    n = rng.choice([rng.randrange(0x80), rng.randrange(0x800), rng.randrange(0x10000),
                    rng.randrange(0x110000)])
    add("numeric", "%s &#%s%s%s" % (caption(), rng.choice(["", "x", "X"]),
                                    ("%d" % n), rng.choice([";", "", " "])))
    add("numeric", "%s&#x%06x;" % (rng.choice(WORDS), n))
add("numeric", "&#" + "9" * 30 + ";")
add("numeric", "&#x" + "f" * 30 + ";")
add("numeric", "&#" + "0" * 30 + "65;")

# 3. mojibake
for w in WORDS:
    add("mojibake", sloppy1252(w))
    add("mojibake", caption([sloppy1252(w)]))
    add("mojibake", mojibake(w, "latin-1"))
    add("mojibake", sloppy1252(sloppy1252(w)))
    add("mojibake", mojibake(w, "cp1252"))
    add("mojibake", sloppy1252(w).replace("\xa0", " "))
    for enc in ["cp1251", "cp1250", "cp1253", "cp1254", "cp1257", "iso-8859-2",
                "mac-roman", "cp437"]:
        add("mojibake-" + enc, mojibake(w, enc))
for s in ["â€œquotedâ€\ufffd", "â€œ like this â€�", "It’s", "Itâ€™s", "cafÃ©",
          "cafÃ© and crÃ¨me", "voilÃ le travail", "fÃ cil", "Ã quele", "Ã  la",
          "Ã¥", " Ã¥", "lÃ¥", "schÃ¶n", "sÃ³", "Ã¡", "Ã ", "Â£10", "Â ", "a Â b",
          "Ã\x83Â©", "ÃƒÂ©", "Ã©Ã©Ã©", "×²", "Ãº", "Ã€", "Ã‰", "Ã‡a", "Ãœber",
          "Ð¼Ð¾Ñ\x81ÐºÐ²Ð°", "Ð¼Ð¾ÑÐºÐ²Ð°", "вЂ™", "РїСЂРёРІРµС‚", "Î±Î²Î³",
          "Ø§Ù„Ø¹Ø±Ø¨ÙŠØ©", "à¤¨à¤®à¤¸à¥\x8dà¤¤à¥‡", "ã\x83©ã\x83¼ã\x83¡ã\x83³",
          "æ\x9d±äº¬", "ì\x84\x9cìš¸", "ðŸ˜€", "ðŸ‘\x8d", "\x80\x81\x93hi\x94",
          "price \x80 5", "smart \x93quotes\x94", "\x85", "a\x96b", "Ã©\ufffd",
          "â€", "â€¦", "â€”", "â€“", "Ã¢â‚¬â„¢", "Ã¢â‚¬Å“", "×", "°", "Ã°Å¸Ëœâ‚¬",
          "Ã\x9f", "Ã\xa0", "Ã¼Ã¶Ã¤", "ÃœÃ–Ã„", "Â¡Hola!", "Â¿QuÃ©?", "1Â°C",
          "Ã‚Â£", "\ufffd\ufffd", "ï»¿bom", "Ã¯Â»Â¿bom", "Ă©", "Ä‡", "Å¼Ã³Å‚w",
          "í\xa0½í¸\x80", "\xed\xa0\xbd\xed\xb8\x80", "À", "Ã", "cafe\u0301",
          "Ã©t\u00e9", "d\u00e9j\u00c3\u00a0", "â\x80\x9chi\x94", "Ã¡Ã©Ã\xadÃ³Ãº"]:
    add("mojibake", s)
letters = "ÂÃÎÐØÙâãîðøù€œŠš¢£Ÿž\xa0\xad®©°·»«¡¿–—´¨¤¦¬¯¸ªº±²³¹¼½¾×µ¶§" \
          "\x80\x81\x8d\x8f\x90\x9d\x9cƒˆ‰‹›†‡•˜™ВГРСЂ™βΒΓΞΟ€ā√≈‚Ä\ufffd"
for _ in range(600):
    k = rng.randrange(1, 6)
    parts = [rng.choice([rng.choice(letters), rng.choice(WORDS), " ", "a", "e",
                         sloppy1252(rng.choice(WORDS))]) for _ in range(k)]
    add("mojibake-random", "".join(parts))

# 4. quotes, ligatures, width, normalisation, controls, line breaks
QUOTES = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u02bc\u2032\u00ab\u00bb"
for _ in range(150):
    c = caption()
    i = rng.randrange(len(c) + 1)
    q = rng.choice(QUOTES)
    add("quotes", c[:i] + q + c[i:] + rng.choice(QUOTES))
LIGS = "\u0132\u0133\u0149\u01f1\u01f2\u01f3\u01c4\u01c5\u01c6\u01c7\u01c8\u01c9\u01ca" \
       "\u01cb\u01cc\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06\ua732\u00e6"
for ch in LIGS:
    add("ligature", "o%so %s" % (ch, caption()))
for s in ["ﬁsh and ﬂowers", "the oﬃce", "waﬄe", "ﬅar", "ĳs", "ŉ"]:
    add("ligature", s)


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else
                   ("\u3000" if c == " " else c) for c in s)


for _ in range(150):
    add("width", fullwidth(caption()))
for s in ["ＬＯＵＤ　ＮＯＩＳＥＳ", "Ｕﾀｰﾝ", "ｶﾞｷﾞ", "ﾊﾟﾝ", "ￂￃ", "￠￡￢￣￤￥￦",
          "ｰ･｡｢｣､", "ﾟﾞ", "ﾡﾢﾣ", "\uffe8\uffe9\uffea\uffeb\uffec\uffed\uffee",
          "a\u3000b", "１２３"]:
    add("width", s)
for w in WORDS:
    add("nfd", unicodedata.normalize("NFD", w))
    add("nfd", unicodedata.normalize("NFKD", w))
    add("nfd", caption([unicodedata.normalize("NFD", w)]))
MARKS = [0x300, 0x301, 0x302, 0x303, 0x308, 0x30A, 0x327, 0x328, 0x323, 0x31B, 0x345,
         0x334, 0x5B0, 0x93C, 0x94D, 0x3099, 0x309A, 0x1D165, 0x0F71, 0x0F72]
BASES = "aeiouAEIOUcnsyzgkhwα ηωΑιυοεκадиуеकअ가ᄀかカ\u1100\u1161\u11a8"
for _ in range(300):
    s = "".join(rng.choice(BASES) + "".join(chr(rng.choice(MARKS))
                                             for _ in range(rng.randrange(3)))
                for _ in range(rng.randrange(1, 5)))
    add("nfc-random", s)
for s in ["\u1100\u1161", "\u1100\u1161\u11a8", "\uac00\u11a8", "\u1100\u1161\u11a7",
          "e\u0301\u0327", "e\u0327\u0301", "\u212b", "\u2126", "\u0344", "\u0958",
          "\u0f73", "\u1e9b\u0323", "\u0041\u030a\u0301", "\U0001d15e", "\u00c5\u0327",
          "\u0e33", "\u0fb2\u0f80", "ｅ\u0301"]:
    add("nfc", s)
CONTROLS = [chr(c) for c in list(range(0, 0x20)) + [0x7F] + list(range(0x80, 0xA0))] + \
    ["\ufeff", "\u206a", "\u206f", "\ufff9", "\ufffa", "\ufffb", "\ufffc", "\u200b",
     "\u200c", "\u200d", "\u200e", "\u202e", "\U000e0041", "\u2028", "\u2029", "\x1b[31m",
     "\x1b[0m", "\x1b[1;32m", "\x1b[m", "\x1b[12", "\x1b[\u0663m", "\x1b[9;9;Z"]
for c in CONTROLS:
    add("control", "red%scar" % c)
    add("control", "%s%s" % (c, caption()))
for _ in range(150):
    c = caption()
    i = rng.randrange(len(c) + 1)
    add("control", c[:i] + rng.choice(CONTROLS) + c[i:])
for s in ["one\r\ntwo", "one\rtwo", "one\u2028two", "one\u2029two", "one\x85two",
          "a\n\nb", "\r\n\r\n", "  padded  ", "\t\ttabs\t", "x\x0bv\x0cf",
          "&lt;x\n&lt;y <", "<\n&amp;", "line\n" * 3]:
    add("linebreak", s)

# 5. everything together
for _ in range(400):
    s = caption()
    for f in rng.sample(["ent", "moji", "quote", "width", "nfd", "ctl", "lig"],
                        rng.randrange(1, 4)):
        if f == "ent":
            s = s.replace(" ", rng.choice([" &amp; ", "&nbsp;", " &quot;", " &#39;"]), 1)
        elif f == "moji":
            s = sloppy1252(s + " " + rng.choice(WORDS))
        elif f == "quote":
            s = "\u201c" + s + "\u201d"
        elif f == "width":
            s = fullwidth(s)
        elif f == "nfd":
            s = unicodedata.normalize("NFD", s + " " + rng.choice(WORDS))
        elif f == "ctl":
            s = s + rng.choice(CONTROLS)
        elif f == "lig":
            s = s.replace("fi", "\ufb01").replace("fl", "\ufb02")
    add("mixed", s)

seen = set()
print("# category\tinput (hex UTF-8)\tCLIP basic_clean (hex UTF-8)\tclip.tokenize ids "
      "(start, end, no padding); made by scripts/make_clip_clean_reference.py with ftfy %s"
      % ftfy.__version__)
for cat, text in cases:
    if text in seen:
        continue
    seen.add(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        continue  # lone surrogates cannot be given as UTF-8
    clean = simple_tokenizer.basic_clean(text)
    ids = [49406] + tok.encode(text) + [49407]
    assert len(ids) <= 77, text
    print("%s\t%s\t%s\t%s" % (cat, text.encode("utf-8").hex(), clean.encode("utf-8").hex(),
                              " ".join(map(str, ids))))
