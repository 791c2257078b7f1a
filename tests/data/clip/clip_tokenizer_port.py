#!/usr/bin/python3
"""A faithful port of CLIP's reference tokenizer (openai/CLIP,
clip/simple_tokenizer.py and clip.tokenize) that runs on Debian's
/usr/bin/python3 without the `regex` and `ftfy` modules, for scripts that
need CLIP ids of plain prompts (scripts/make_torch_models.py). It made the
first tests/data/clip/clip_tokens_unicode.tsv; that file now comes from CLIP's
own tokenizer with ftfy (scripts/make_clip_clean_reference.py), as libprime
now cleans text as CLIP does.

What is reproduced exactly (the code below is the reference's, line for line):
  - text = whitespace_clean(basic_clean(text)).lower(), where basic_clean
    strips (str.strip) and whitespace_clean replaces runs of regex's \\s
    (the Unicode White_Space property: unlike str.isspace it excludes
    U+001C..U+001F) by one space and strips;
  - the split pattern
      <\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+
    with re.IGNORECASE; \\p{L} and \\p{N} are written out as explicit
    classes from unicodedata general categories (L*, N*), \\s as the
    White_Space class, and the stdlib `re` then applies IGNORECASE to them;
  - bytes_to_unicode, merges = lines[1:49152-256-2+1], the 49,408-entry
    vocabulary, BPE by rank with '</w>', the special tokens, and
    clip.tokenize's start/end tokens and truncation (truncate=True keeps
    the end token in the last place).
What is left out: ftfy.fix_text (NFC normalisation, mojibake and quote
repair...) and html.unescape, which lib/text/text_clean.c does; and the
`regex` module's own letter classes (U+0345, Unicode 15 letters). For text
those leave unchanged, the ids are libprime's.

Usage:
  clip_tokenizer_port.py BPE.gz TEXT...          one line of ids per TEXT
  clip_tokenizer_port.py BPE.gz --tsv-hex OUT    writes the unicode test table
"""
import gzip
import re
import sys
import unicodedata
from functools import lru_cache

WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def _class(prefix):
    out = []
    start = prev = None
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        if unicodedata.category(chr(c)).startswith(prefix):
            if prev is not None and c == prev + 1:
                prev = c
                continue
            if start is not None:
                out.append((start, prev))
            start = prev = c
    out.append((start, prev))

    def esc(c):
        return "\\U%08x" % c
    return "".join(esc(a) if a == b else esc(a) + "-" + esc(b) for a, b in out)


LETTERS = _class("L")
NUMBERS = _class("N")


@lru_cache()
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~")+1))+list(range(ord("¡"), ord("¬")+1))+list(range(ord("®"), ord("ÿ")+1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8+n)
            n += 1
    cs = [chr(n) for n in cs]
    return dict(zip(bs, cs))


def get_pairs(word):
    pairs = set()
    prev_char = word[0]
    for char in word[1:]:
        pairs.add((prev_char, char))
        prev_char = char
    return pairs


def basic_clean(text):
    # reference: text = ftfy.fix_text(text); text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    text = re.sub("[" + WHITE_SPACE + "]+", ' ', text)
    text = text.strip()
    return text


class SimpleTokenizer(object):
    def __init__(self, bpe_path):
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        merges = gzip.open(bpe_path).read().decode("utf-8").split('\n')
        merges = merges[1:49152-256-2+1]
        merges = [tuple(merge.split()) for merge in merges]
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v+'</w>' for v in vocab]
        for merge in merges:
            vocab.append(''.join(merge))
        vocab.extend(['<|startoftext|>', '<|endoftext|>'])
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.decoder = {v: k for k, v in self.encoder.items()}
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {'<|startoftext|>': '<|startoftext|>', '<|endoftext|>': '<|endoftext|>'}
        self.pat = re.compile(
            r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[""" + LETTERS + "]+|["
            + NUMBERS + "]|[^" + WHITE_SPACE + LETTERS + NUMBERS + "]+", re.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        pairs = get_pairs(word)

        if not pairs:
            return token+'</w>'

        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float('inf')))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break

                if word[i] == first and i < len(word)-1 and word[i+1] == second:
                    new_word.append(first+second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            new_word = tuple(new_word)
            word = new_word
            if len(word) == 1:
                break
            else:
                pairs = get_pairs(word)
        word = ' '.join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        bpe_tokens = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = ''.join(self.byte_encoder[b] for b in token.encode('utf-8'))
            bpe_tokens.extend(self.encoder[bpe_token] for bpe_token in self.bpe(token).split(' '))
        return bpe_tokens


def tokenize(tok, text, context_length=77):
    """clip.tokenize(text, truncate=True)[0] without the zero padding."""
    sot = tok.encoder["<|startoftext|>"]
    eot = tok.encoder["<|endoftext|>"]
    tokens = [sot] + tok.encode(text) + [eot]
    if len(tokens) > context_length:
        tokens = tokens[:context_length]
        tokens[-1] = eot
    return tokens


# Texts of the unicode table: accents, CJK, emoji, mixed scripts, case
# mapping corners, white space and punctuation corners.
TEXTS = [
    "café crème brûlée",
    "Ångström naïve façade",
    "ÉCOLE ÉLÉMENTAIRE",
    "São Paulo, Zürich, Kraków, İstanbul",
    "東京タワー",
    "一只猫在沙发上睡觉",
    "고양이 사진",
    "a photo of a 🐶 and a 🐱",
    "👨‍👩‍👧 family 🏳️‍🌈",
    "Москва ОДИССЕЙ",
    "ΟΔΥΣΣΕΥΣ ΣΑΣ Σ ΑΣ. ΑΣ1",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "ᾼ ﬁ ß ẞ ǅ",
    "e\u0301 versus é",
    "x\u0345y ᾳ",
    "Ⅻ ⅻ ½ ² ٣ ๓ 𝟘",
    "It's the dog's 'LL 'Re 'VE 'M 'D 'ſ don't",
    "''s ' s 'sa",
    "<|startoftext|>hello<|endoftext|> <|ENDOFTEXT|> <|ſtartoftext|>",
    "tabs\tand\nnewlines\r\n  and\u3000ideographic\u00a0nbsp\u2009thin",
    "\x1c\x1dgroup\x1eseparators\x1f in\x1cthe middle\x1f",
    "\u0085next line\u2028line sep",
    "nul\x00inside",
    "ａｂｃ １２３ ＡＢＣ",
    "!!!??? ... --- *** &amp; &lt;b&gt;",
    "123456789 3.14159 1,000,000",
    "snake_case camelCase kebab-case",
    "Ωmega µ Å K ſ ǈ ϴ",
    "   ",
    "",
    "\U0010FFFF \uFFFD \U000E0001",
    "photo of a rhinocerosssssssssssssssssssssssssssssssss",
    " ".join(["word%d" % i for i in range(60)]),
    "the " * 100,
    "日本語とEnglishの混在テキスト123abc",
]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    tok = SimpleTokenizer(sys.argv[1])
    if sys.argv[2] == "--tsv-hex":
        with open(sys.argv[3], "w", encoding="ascii") as f:
            f.write("# UTF-8 text in hex\tids of clip.tokenize(text, truncate=True), "
                    "start and end included, no padding (tests/data/clip/"
                    "clip_tokenizer_port.py)\n")
            for t in TEXTS:
                ids = tokenize(tok, t)
                f.write(t.encode("utf-8").hex() + "\t" + " ".join(map(str, ids)) + "\n")
        return
    for t in sys.argv[2:]:
        print(" ".join(map(str, tokenize(tok, t))))


if __name__ == "__main__":
    main()
