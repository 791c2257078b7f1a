#!/usr/bin/env bash
# The command line's libtorch paths (suite cli_torch): prime tag --backend
# torch|zeroshot, prime classify and prime eval --quality --text-model on the
# tiny TorchScript models of tests/data/torch, through libprime-torch loaded
# at run time ($PRIME_TORCH_LIBRARY, set by meson to the build's shim).
#
# Every expected output is derived here, independently of the C code, from
# tests/data/torch/expected.txt (what Python + torch computed when
# scripts/make_torch_models.py made the models): the tagger's selections,
# the classifier's argmax, and the cosines of the image and text embeddings
# (computed below in plain Python, no torch). A selection is only checked
# where every score is at least 1e-3 from its threshold (the C pipeline
# matches Python to about 1e-5).
#
# Usage: cli_torch_test.sh PATH/TO/prime
set -uo pipefail
prime=$(realpath "${1:?usage: cli_torch_test.sh PRIME}")
: "${PRIME_TORCH_LIBRARY:?set it to the shim (meson does)}"
data="${PRIME_TEST_DATA:?}/torch"
bpe="${PRIME_SOURCE_ROOT:?}/data/clip/bpe_simple_vocab_16e6.txt.gz"
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
# shellcheck source=../cli/checks.sh
. "$(cd "$(dirname "$0")/../cli" && pwd)/checks.sh"

# In an ASan build LeakSanitizer's tracer crashes at exit ("Tracer caught
# signal 11", exit 134) in processes that dlopen() libprime-torch, depending
# on the memory layout (even on path lengths): a sanitizer limitation with
# libtorch's dynamic TLS, not a leak. ASan's other checks stay on; leaks of
# these paths are checked with valgrind (docs/backends.md, section 7).
tthreads=2
if [[ "$(ldd "$prime" 2>/dev/null)" == *libasan* ]]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi

# the images in two class folders: p (a, b, c) and q (d, gray, wide)
mkdir -p "$tmp/img/p" "$tmp/img/q"
cp "$data"/img_a.png "$data"/img_b.png "$data"/img_c.png "$tmp/img/p/"
cp "$data"/img_d.png "$data"/img_gray.png "$data"/img_wide.png "$tmp/img/q/"
printf 'image,label\np/img_a.png,animal\np/img_b.png,indoor\np/img_c.png,animal\nq/img_d.png,vehicle\nq/img_gray.png,animal\nq/img_wide.png,outdoor\n' > "$tmp/labels.csv"
printf 'a dog\na cat\n' > "$tmp/zs_vocab.txt"
printf 'a photo of a dog\na photo of a cat\nsnow at night\ncafé crème brûlée\n' > "$tmp/zs_vocab_full.txt"

# ---- the expected outputs, from expected.txt ----
python3 - "$data" "$tmp" <<'EOF' || bad "could not derive the expected outputs"
import json, math, struct, sys
data, tmp = sys.argv[1], sys.argv[2]
E = {}
for line in open(data + "/expected.txt", encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    f = line.split()
    E[(f[0], f[1])] = f[3:]
vocab = open(data + "/vocab.txt").read().split()
classes = open(data + "/classes.txt").read().split()
rows = [("p", "img_a.png"), ("p", "img_b.png"), ("p", "img_c.png"),
        ("q", "img_d.png"), ("q", "img_gray.png"), ("q", "img_wide.png")]

def tags_csv(name, sel):
    with open(tmp + "/" + name, "w", encoding="utf-8") as f:
        f.write("image,class,tags\n")
        for (c, im) in rows:
            f.write("%s/%s,%s,%s\n" % (c, im, c, "|".join(sel[im])))

def select(scores, names, threshold, k):
    for s in scores:
        if abs(s - threshold) < 1e-3:
            sys.exit("a score %g is within 1e-3 of the threshold %g" % (s, threshold))
    ids = [t for t in range(len(scores)) if scores[t] >= threshold]
    if k:
        ranked = sorted(ids, key=lambda t: (-scores[t], t))
        if len(ranked) > k and scores[ranked[k - 1]] - scores[ranked[k]] < 1e-3:
            sys.exit("top-%d is ambiguous" % k)
        ids = sorted(ranked[:k])
    return [names[t] for t in ids]

# torch tagger: threshold 0.5 and top-3 (Python's own selections), 0.6 (here)
tags_csv("torch_05.csv", {im: [vocab[int(t)] for t in E[("select", im)]] for _, im in rows})
tags_csv("torch_top3.csv", {im: [vocab[int(t)] for t in E[("top3", im)]] for _, im in rows})
tags_csv("torch_06.csv", {im: select([float(x) for x in E[("tagger", im)]], vocab, 0.6, 0)
                          for _, im in rows})
# zero-shot: cosine of image_embed with text_embed of the prompt
prompts = open(data + "/prompts.txt", encoding="utf-8").read().split("\n")
def vec(key, name):
    return [float(x) for x in E[(key, name)]]
def cos(a, b):
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(x * x for x in b))
    return sum(x * y for x, y in zip(a, b)) / (na * nb) if na > 0 and nb > 0 else 0.0
def zs(tag_prompts, names, threshold, k):
    return {im: select([cos(vec("image_embed", im), vec("text_embed", str(prompts.index(p))))
                        for p in tag_prompts], names, threshold, k) for _, im in rows}
tags_csv("zs_top1.csv", zs(["a photo of a dog", "a photo of a cat"], ["a dog", "a cat"], -1, 1))
full = ["a photo of a dog", "a photo of a cat", "snow at night", "café crème brûlée"]
tags_csv("zs_03.csv", zs(full, full, 0.3, 0))
tags_csv("zs_top2.csv", zs(full, full, -1, 2))
# classify: argmax of Python's scores; labels as in labels.csv
labels = dict(l.strip().split(",") for l in open(tmp + "/labels.csv").read().split("\n")[1:] if l)
with open(tmp + "/outcomes_want.csv", "w") as f, open(tmp + "/outcomes_num_want.csv", "w") as g:
    f.write("image,label,prediction,correct\n")
    g.write("image,label,prediction,correct\n")
    for (c, im) in rows:
        s = [float(x) for x in E[("classifier", im)]]
        best = max(range(len(s)), key=lambda i: (s[i], -i))
        assert best == int(E[("predicted", im)][0])
        lab = labels["%s/%s" % (c, im)]
        f.write("%s/%s,%s,%s,%d\n" % (c, im, lab, classes[best], lab == classes[best]))
        g.write("%s/%s,%s,%d,0\n" % (c, im, c, best))
# eval --quality: image embeddings (raw float32, store order), the text
# embeddings of the two descriptions, the store and a result with two modes
with open(tmp + "/q_img.f32", "wb") as f:
    for (_, im) in rows:
        f.write(struct.pack("<16f", *vec("image_embed", im)))
with open(tmp + "/q_txt.f32", "wb") as f:
    for p in ("a photo of a dog", "snow at night"):
        f.write(struct.pack("<16f", *vec("text_embed", str(prompts.index(p)))))
with open(tmp + "/q_tags.csv", "w") as f:
    f.write("image,class,tags\nimg_a.png,p,x\nimg_b.png,p,x\nimg_c.png,p,\n"
            "img_d.png,q,y\nimg_gray.png,q,y\nimg_wide.png,q,\n")
mode = lambda c, t, d: {"class": c, "tags": [t], "size": 2, "correct": 1, "accuracy": 0.5,
                        "class_accuracy": 0.75, "drop": 0.25, "description": d}
json.dump({"params": {"min_size": 1, "min_drop": 0.1},
           "failure_modes": [mode("p", "x", "a photo of a dog"), mode("q", "y", "snow at night")]},
          open(tmp + "/q_result.json", "w"))
EOF

# ---- prime tag --backend torch ----
targs=(tag --images "$tmp/img" --backend torch --model "$data/tagger.pt" --vocab "$data/vocab.txt" --size 32)
expect 0 "tag torch" -- "$prime" "${targs[@]}" --output "$tmp/t05.csv"
same "$tmp/t05.csv" "$tmp/torch_05.csv" "tag torch, threshold 0.5"
expect 0 "tag torch top-k 3, threads, batches" -- "$prime" "${targs[@]}" --top-k 3 --threads $tthreads --batch 4 --output "$tmp/t3.csv"
same "$tmp/t3.csv" "$tmp/torch_top3.csv" "tag torch --top-k 3"
expect 0 "tag torch --threshold 0.6" -- "$prime" "${targs[@]}" --threshold 0.6 --batch 1 --output "$tmp/t06.csv"
same "$tmp/t06.csv" "$tmp/torch_06.csv" "tag torch --threshold 0.6"
awk '{ print 0.6 }' "$data/vocab.txt" > "$tmp/th06.txt"
expect 0 "tag torch --thresholds" -- "$prime" "${targs[@]}" --thresholds "$tmp/th06.txt" --output "$tmp/tth.csv"
same "$tmp/tth.csv" "$tmp/torch_06.csv" "tag torch --thresholds (all 0.6)"
expect 0 "tag torch, probabilities in a tuple" -- "$prime" tag --images "$tmp/img" --backend torch --model "$data/tagger_tuple.pt" --vocab "$data/vocab.txt" --scores probabilities --size 32 --output "$tmp/ttu.csv"
same "$tmp/ttu.csv" "$tmp/torch_05.csv" "tag torch --scores probabilities"
expect 0 "tag torch, mean and std given as ImageNet's" -- "$prime" "${targs[@]}" --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --output "$tmp/tms.csv"
same "$tmp/tms.csv" "$tmp/torch_05.csv" "tag torch --mean/--std (the preset's values)"
# the model was made for 32 x 32 inputs; at another size the tags change
expect 0 "tag torch at 64 x 64" -- "$prime" "${targs[@]}" --size 64 --output "$tmp/t64.csv"
cmp -s "$tmp/t64.csv" "$tmp/torch_05.csv" && bad "--size 64 gave the 32 x 32 tags: --size is ignored" || ok
expect 0 "tagged file searchable" -- "$prime" info "$tmp/t05.csv"
grep -q "images: *6" "$tmp/out" && ok || bad "tag torch output info: $(cat "$tmp/out")"
rm -f "$tmp/never.csv"
expect 1 "tag torch with a missing model" -- "$prime" tag --images "$tmp/img" --backend torch --model "$tmp/none.pt" --vocab "$data/vocab.txt" --output "$tmp/never.csv"
err_has "none.pt: cannot open" "tag torch with a missing model"
expect 1 "tag torch with a vocabulary of the wrong size" -- "$prime" tag --images "$tmp/img" --backend torch --model "$data/wrong_width.pt" --vocab "$data/vocab.txt" --size 32 --output "$tmp/never.csv"
err_has "(PRIME_E_MISMATCH)" "tag torch wrong width"
[ ! -e "$tmp/never.csv" ] && ok || bad "tag torch: output written after an error"
# the batch guard: a model traced with a fixed batch is refused by tag and classify
expect 1 "tag torch with a model traced at a fixed batch" -- "$prime" tag --images "$tmp/img" --backend torch --model "$data/trap_traced.pt" --vocab "$data/vocab.txt" --size 32 --output "$tmp/never.csv"
err_has "output depends on the batch size: traced with a fixed batch?" "tag torch, traced batch"
expect 1 "classify with a model traced at a fixed batch" -- "$prime" classify --model "$data/trap_traced1.pt" --images "$tmp/img" --size 32 --batch 4 --output "$tmp/never.csv"
err_has "output depends on the batch size: traced with a fixed batch?" "classify, traced batch"
[ ! -e "$tmp/never.csv" ] && ok || bad "guard: output written after a refusal"
expect 0 "tag torch with the scripted model" -- "$prime" tag --images "$tmp/img" --backend torch --model "$data/trap_scripted.pt" --vocab "$data/vocab.txt" --size 32 --output "$tmp/trap_ok.csv"

# ---- prime tag --backend zeroshot ----
zargs=(tag --images "$tmp/img" --backend zeroshot --image-model "$data/image_encoder.pt" --text-model "$data/text_encoder.pt" --bpe "$bpe" --size 32)
expect 0 "tag zeroshot, default prompt, top-1" -- "$prime" "${zargs[@]}" --vocab "$tmp/zs_vocab.txt" --threshold -1 --top-k 1 --output "$tmp/z1.csv"
same "$tmp/z1.csv" "$tmp/zs_top1.csv" "tag zeroshot 'a photo of {}' top-1"
expect 0 "tag zeroshot, prompt {}, threshold 0.3" -- "$prime" "${zargs[@]}" --vocab "$tmp/zs_vocab_full.txt" --prompt '{}' --threshold 0.3 --output "$tmp/z03.csv"
same "$tmp/z03.csv" "$tmp/zs_03.csv" "tag zeroshot --threshold 0.3"
expect 0 "tag zeroshot, top-2, threads" -- "$prime" "${zargs[@]}" --vocab "$tmp/zs_vocab_full.txt" --prompt '{}' --threshold -1 --top-k 2 --threads $tthreads --batch 4 --output "$tmp/z2.csv"
same "$tmp/z2.csv" "$tmp/zs_top2.csv" "tag zeroshot --top-k 2"
expect 1 "tag zeroshot, prompt without {}" -- "$prime" "${zargs[@]}" --vocab "$tmp/zs_vocab.txt" --prompt 'a photo' --output "$tmp/never.csv"
err_has 'must hold "{}" (where the tag goes) exactly once, not 0 times' "zeroshot bad prompt"
expect 1 "tag zeroshot, encoders of different dimensions" -- "$prime" tag --images "$tmp/img" --backend zeroshot --image-model "$data/image_encoder.pt" --text-model "$data/text_encoder_d8.pt" --bpe "$bpe" --vocab "$tmp/zs_vocab.txt" --output "$tmp/never.csv"
err_has "(PRIME_E_MISMATCH)" "zeroshot dimension mismatch"
[ ! -e "$tmp/never.csv" ] && ok || bad "tag zeroshot: output written after an error"

# ---- vocabulary files: one line reader (prime_lines_load) for torch and zeroshot ----
# a BOM, CRLF and blank lines at the end change nothing; a blank line
# between names, a name given twice or holding '|' is refused by both,
# with the file and line
{ printf '\xEF\xBB\xBF'; sed 's/$/\r/' "$data/vocab.txt"; printf '\r\n \r\n'; } > "$tmp/vocab_bom.txt"
expect 0 "tag torch, vocabulary with a BOM, CRLF, blank lines at the end" -- "$prime" "${targs[@]}" --vocab "$tmp/vocab_bom.txt" --output "$tmp/tbom.csv"
same "$tmp/tbom.csv" "$tmp/torch_05.csv" "tag torch, vocabulary with a BOM and CRLF"
{ printf '\xEF\xBB\xBF'; sed 's/$/\r/' "$tmp/zs_vocab.txt"; printf '\r\n'; } > "$tmp/zs_vocab_bom.txt"
expect 0 "tag zeroshot, vocabulary with a BOM, CRLF, a blank line at the end" -- "$prime" "${zargs[@]}" --vocab "$tmp/zs_vocab_bom.txt" --threshold -1 --top-k 1 --output "$tmp/zbom.csv"
same "$tmp/zbom.csv" "$tmp/zs_top1.csv" "tag zeroshot, vocabulary with a BOM and CRLF"
printf 'a dog\n\na cat\n' > "$tmp/v_blank.txt"
printf 'a dog\na cat\na dog\n' > "$tmp/v_dup.txt"
printf 'a dog\na|cat\n' > "$tmp/v_bar.txt"
: > "$tmp/v_empty.txt"
for backend in torch zeroshot; do
  if [ $backend = torch ]; then vargs=("${targs[@]}"); else vargs=("${zargs[@]}"); fi
  expect 1 "$backend: a blank line inside the vocabulary" -- "$prime" "${vargs[@]}" --vocab "$tmp/v_blank.txt" --output "$tmp/never.csv"
  err_has "v_blank.txt:2: a blank line (names are one a line; blank lines only at the end)" "$backend: blank line"
  expect 1 "$backend: a name twice in the vocabulary" -- "$prime" "${vargs[@]}" --vocab "$tmp/v_dup.txt" --output "$tmp/never.csv"
  err_has 'v_dup.txt:3: "a dog" is also line 1 (PRIME_E_DUPLICATE)' "$backend: duplicate name"
  expect 1 "$backend: a name with '|' in the vocabulary" -- "$prime" "${vargs[@]}" --vocab "$tmp/v_bar.txt" --output "$tmp/never.csv"
  err_has "v_bar.txt:2: the name \"a|cat\" holds '|'" "$backend: name with a bar"
  expect 1 "$backend: an empty vocabulary" -- "$prime" "${vargs[@]}" --vocab "$tmp/v_empty.txt" --output "$tmp/never.csv"
  err_has "v_empty.txt: no lines (the file is empty or blank)" "$backend: empty vocabulary"
  [ ! -e "$tmp/never.csv" ] && ok || bad "$backend: output written after a bad vocabulary"
done

# ---- prime classify ----
expect 0 "classify" -- "$prime" classify --model "$data/classifier.pt" --classes "$data/classes.txt" --images "$tmp/img" --labels "$tmp/labels.csv" --size 32 --output "$tmp/o.csv"
same "$tmp/o.csv" "$tmp/outcomes_want.csv" "classify with labels and class names"
expect 0 "classify, folder classes, no class names, a list" -- bash -c "cd '$tmp/img' && printf 'p/img_a.png\np/img_b.png\np/img_c.png\nq/img_d.png\nq/img_gray.png\nq/img_wide.png\n' > list.txt && '$prime' classify --model '$data/classifier_list.pt' --images list.txt --size 32 --threads $tthreads --batch 4 --output '$tmp/on.csv'"
same "$tmp/on.csv" "$tmp/outcomes_num_want.csv" "classify: parent folders as labels, classes 0..3"
expect 0 "outcomes feed a search" -- "$prime" search --tags "$tmp/t05.csv" --outcomes "$tmp/o.csv" --min-size 1 --format json
# p: a right, b (indoor) wrong, c right; q: d (vehicle) wrong, gray right, wide (outdoor) wrong
grep -q '{"class": "p", "images": 3, "correct": 2,' "$tmp/out" && grep -q '{"class": "q", "images": 3, "correct": 1,' "$tmp/out" \
  && ok || bad "search over classify's outcomes: $(head -4 "$tmp/out")"
# class names may hold '|' (prime/torch.h): classify writes them as they are
sed 's/^/c|/' "$data/classes.txt" > "$tmp/classes_bar.txt"
sed 's/,animal/,c|animal/; s/,indoor/,c|indoor/; s/,vehicle/,c|vehicle/; s/,outdoor/,c|outdoor/' "$tmp/labels.csv" > "$tmp/labels_bar.csv"
expect 0 "classify with '|' in class names" -- "$prime" classify --model "$data/classifier.pt" --classes "$tmp/classes_bar.txt" --images "$tmp/img" --labels "$tmp/labels_bar.csv" --size 32 --output "$tmp/obar.csv"
sed '2,$ s/,\([a-z]*\),\([a-z]*\),/,c|\1,c|\2,/' "$tmp/outcomes_want.csv" > "$tmp/obar_want.csv"
same "$tmp/obar.csv" "$tmp/obar_want.csv" "classify with '|' in class names"
rm -f "$tmp/never.csv"
head -3 "$data/classes.txt" > "$tmp/classes3.txt"
expect 1 "classify with too few class names" -- "$prime" classify --model "$data/classifier.pt" --classes "$tmp/classes3.txt" --images "$tmp/img" --size 32 --output "$tmp/never.csv"
err_has "has 3 class names" "classify with too few class names"
[ ! -e "$tmp/never.csv" ] && ok || bad "classify: output written after an error"

# ---- prime eval --quality --text-model ----
qargs=(eval --quality --result "$tmp/q_result.json" --tags "$tmp/q_tags.csv" --image-embeddings "$tmp/q_img.f32" --dim 16 --format json)
expect 0 "quality from text embeddings" -- "$prime" "${qargs[@]}" --text-embeddings "$tmp/q_txt.f32" --output "$tmp/q_file.json"
expect 0 "quality from the text model" -- "$prime" "${qargs[@]}" --text-model "$data/text_encoder.pt" --bpe "$bpe" --output "$tmp/q_model.json"
python3 - "$tmp/q_file.json" "$tmp/q_model.json" <<'EOF' && ok || bad "quality --text-model differs from the Python text embeddings"
import json, math, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def walk(x, y, path):
    if isinstance(x, dict):
        assert isinstance(y, dict) and x.keys() == y.keys(), path
        for k in x:
            walk(x[k], y[k], path + "." + k)
    elif isinstance(x, list):
        assert isinstance(y, list) and len(x) == len(y), path
        for i, (u, v) in enumerate(zip(x, y)):
            walk(u, v, "%s[%d]" % (path, i))
    elif isinstance(x, float) or isinstance(y, float):
        assert abs(x - y) <= 1e-5, "%s: %r vs %r" % (path, x, y)
    else:
        assert x == y, "%s: %r vs %r" % (path, x, y)
walk(a, b, "")
assert a["groups"][0]["label"] == "a photo of a dog", a["groups"][0]
assert not math.isnan(a["groups"][0]["similarity"])
EOF
grep -q '"similarity": ' "$tmp/q_model.json" && ok || bad "quality --text-model: no similarity"
rm -f "$tmp/never.json"
expect 1 "quality, a text model of another dimension" -- "$prime" "${qargs[@]}" --text-model "$data/text_encoder_d8.pt" --bpe "$bpe" --output "$tmp/never.json"
[ ! -e "$tmp/never.json" ] && ok || bad "quality --text-model: output written after an error"

# ---- shards of the TorchScript tagger merge to the one-process store (issue 15) ----
unset PRIME_SHARD SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN \
      JOB_COMPLETION_INDEX PRIME_SHARD_COUNT OMPI_COMM_WORLD_RANK OMPI_COMM_WORLD_SIZE PMI_RANK PMI_SIZE
sargs=("${targs[@]}" --labels "$tmp/labels.csv" --top-k 3)
expect 0 "tag torch, one binary store" -- "$prime" "${sargs[@]}" --output "$tmp/one.prime"
for spec in "1 flag" "2 env" "3 slurm" "7 k8s" "7 flag"; do
  read -r k how <<<"$spec"
  dir="$tmp/torch-$k-$how.prmd"
  for ((i = 0; i < k; i++)); do
    case $how in
      flag) "$prime" "${sargs[@]}" --shard "$i/$k" --output "$dir" ;;
      env) PRIME_SHARD="$i/$k" "$prime" "${sargs[@]}" --output "$dir" ;;
      slurm) SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=$k "$prime" "${sargs[@]}" --output "$dir" ;;
      k8s) JOB_COMPLETION_INDEX=$i PRIME_SHARD_COUNT=$k "$prime" "${sargs[@]}" --output "$dir" ;;
    esac || bad "torch shard $i/$k ($how)"
  done
  "$prime" merge --output "$tmp/merged.prime" "$dir" && cmp -s "$tmp/merged.prime" "$tmp/one.prime" &&
    ok || bad "torch tagger, $k shards ($how): merged store differs"
done

# classify's binary outcomes, bound to the tag store: the same search as with its CSV
expect 0 "classify, binary outcomes" -- "$prime" classify --model "$data/classifier.pt" --classes "$data/classes.txt" --images "$tmp/img" --labels "$tmp/labels.csv" --size 32 --tags "$tmp/one.prime" --outcomes-format bits --output "$tmp/o.pro"
expect 0 "search, classify's binary outcomes" -- "$prime" search --tags "$tmp/one.prime" --outcomes "$tmp/o.pro" --min-size 1 --output "$tmp/rb.json"
expect 0 "search, classify's CSV outcomes" -- "$prime" search --tags "$tmp/one.prime" --outcomes "$tmp/o.csv" --min-size 1 --output "$tmp/rc.json"
cmp -s "$tmp/rb.json" "$tmp/rc.json" && ok || bad "classify: binary and CSV outcomes give different searches"
expect 2 "classify --outcomes-format without --tags" -- "$prime" classify --model "$data/classifier.pt" --images "$tmp/img" --size 32 --outcomes-format bits --output "$tmp/never.pro"
# --device/--dtype: cuda on this CPU-only libtorch is a clear error; bfloat16 runs
if ! "$prime" "${sargs[@]}" --device cuda --output "$tmp/never.prime" 2>"$tmp/err"; then
  grep -q "CUDA" "$tmp/err" && [ ! -e "$tmp/never.prime" ] && ok || bad "--device cuda: $(cat "$tmp/err")"
fi
expect 0 "tag torch --dtype bfloat16" -- "$prime" "${sargs[@]}" --dtype bfloat16 --output "$tmp/bf.prime"
expect 2 "tag torch --dtype half" -- "$prime" "${sargs[@]}" --dtype half --output "$tmp/never.prime"
expect 0 "classify --dtype bfloat16" -- "$prime" classify --model "$data/classifier.pt" --images "$tmp/img" --size 32 --device cpu --dtype bfloat16 --output "$tmp/obf.csv"
if ! "$prime" classify --model "$data/classifier.pt" --images "$tmp/img" --size 32 --device cuda --output "$tmp/never.csv" 2>"$tmp/err"; then
  grep -q "CUDA" "$tmp/err" && [ ! -e "$tmp/never.csv" ] && ok || bad "classify --device cuda: $(cat "$tmp/err")"
fi

# the zero-shot backend and eval --quality --text-model take --device/--dtype too
rm -f "$tmp/never.csv" "$tmp/never.json"
expect 0 "tag zeroshot --device cpu --dtype float32" -- "$prime" "${zargs[@]}" --vocab "$tmp/zs_vocab.txt" --threshold -1 --top-k 1 --device cpu --dtype float32 --output "$tmp/zdev.csv"
same "$tmp/zdev.csv" "$tmp/zs_top1.csv" "tag zeroshot --device cpu: the same tags"
if ! "$prime" "${zargs[@]}" --vocab "$tmp/zs_vocab.txt" --device cuda --output "$tmp/never.csv" 2>"$tmp/err"; then
  grep -q "device cuda: .*CUDA" "$tmp/err" && [ ! -e "$tmp/never.csv" ] && ok || bad "tag zeroshot --device cuda: $(cat "$tmp/err")"
fi
expect 2 "tag zeroshot --dtype half" -- "$prime" "${zargs[@]}" --vocab "$tmp/zs_vocab.txt" --dtype half --output "$tmp/never.csv"
expect 2 "tag properties --device" -- "$prime" tag --images "$tmp/img" --backend properties --device cpu --output "$tmp/never.csv"
expect 0 "quality --text-model --device cpu --dtype float32" -- "$prime" "${qargs[@]}" --text-model "$data/text_encoder.pt" --bpe "$bpe" --device cpu --dtype float32 --output "$tmp/q_dev.json"
cmp -s "$tmp/q_dev.json" "$tmp/q_model.json" && ok || bad "quality --device cpu differs from the default"
if ! "$prime" "${qargs[@]}" --text-model "$data/text_encoder.pt" --bpe "$bpe" --device cuda:0 --output "$tmp/never.json" 2>"$tmp/err"; then
  grep -q "device cuda:0: .*CUDA" "$tmp/err" && [ ! -e "$tmp/never.json" ] && ok || bad "quality --device cuda:0: $(cat "$tmp/err")"
fi
expect 2 "quality --device without --text-model" -- "$prime" "${qargs[@]}" --text-embeddings "$tmp/q_txt.f32" --device cpu --output "$tmp/never.json"
expect 2 "quality --dtype half" -- "$prime" "${qargs[@]}" --text-model "$data/text_encoder.pt" --bpe "$bpe" --dtype half --output "$tmp/never.json"
[ ! -e "$tmp/never.csv" ] && [ ! -e "$tmp/never.json" ] && ok || bad "zeroshot/eval --device: output written after an error"

# ---- the JPEG draft reaches the model (issue 17) ----
# channel_mean.pt returns the mean of each channel of its input; draft.jpg is
# 256 x 192, so a 32 x 32 input allows the draft at 1/4. The expected means
# come from the library's own batch path (prime_image_batch_load, through the
# Python package over ctypes, no torch) with the spec the command builds,
# with the draft and without it; thresholds (tag) and a mean offset
# (classify) between the two make the outputs differ, so the default must
# give the draft's output and --jpeg-draft off the full decode's.
mkdir -p "$tmp/draft/p"
cp "$data/draft.jpg" "$tmp/draft/p/photo.jpg"
printf 'r\ng\nb\n' > "$tmp/rgb.txt"
# A library built with ASan (the sanitizer pass of scripts/test.sh) loads
# only into a process that starts with its runtime: the interpreter gets the
# runtimes the library links preloaded, its own allocator off and no leak
# report (the interpreter's, not the library's, are what it would list).
# (ldd's output is read whole: 'ldd | grep -q' under pipefail fails when grep
# stops reading before ldd has written everything, as it did on a loaded CI)
py_env=()
sanitizers=
if [ -n "${PRIME_LIBRARY:-}" ]; then
  sanitizers=$(ldd "$PRIME_LIBRARY" 2>/dev/null | awk '/libasan|libubsan/ { printf "%s ", $3 }')
fi
if [[ $sanitizers == *libasan* ]]; then
  py_env=(LD_PRELOAD="$sanitizers"
          ASAN_OPTIONS=detect_leaks=0 PYTHONMALLOC=malloc)
fi
env "${py_env[@]}" PYTHONPATH="${PRIME_SOURCE_ROOT}/python" python3 - "$tmp" "$tmp/draft/p/photo.jpg" <<'EOF' || bad "could not derive the JPEG draft references"
import ctypes, sys
from libprime import _lib as L
lib = L.load()
tmp, path = sys.argv[1], sys.argv[2]

def means(preset, mode, side, draft):
    """Channel means of the batch tensor (32 x 32, mean 0, std 1): the spec
    that tools/prime/torch.c make_spec builds for --size 32."""
    spec = L.ImageSpecP()
    assert lib.prime_image_spec_create(preset, ctypes.byref(spec)) == L.PRIME_OK
    try:
        assert lib.prime_image_spec_set_resize(spec, mode, side, 32, 32) == L.PRIME_OK
        zero, one = (ctypes.c_double * 3)(0, 0, 0), (ctypes.c_double * 3)(1, 1, 1)
        assert lib.prime_image_spec_set_normalize(spec, zero, one) == L.PRIME_OK
        assert lib.prime_image_spec_set_jpeg_draft(spec, draft) == L.PRIME_OK
        paths = (ctypes.c_char_p * 1)(path.encode())
        batch = L.ImageBatchP()
        assert lib.prime_image_batch_load(paths, 1, spec, 1, ctypes.byref(batch)) == L.PRIME_OK
        try:
            assert lib.prime_image_batch_status(batch, 0) == L.PRIME_OK
            t = lib.prime_image_batch_tensor(batch)
            return [sum(t[c * 1024 + i] for i in range(1024)) / 1024 for c in range(3)]
        finally:
            lib.prime_image_batch_destroy(batch)
    finally:
        lib.prime_image_spec_destroy(spec)

# tag --backend torch: the RAM preset, 32 x 32 exactly; the scores are the
# means (--scores probabilities) and a tag is selected above its threshold
on = means(L.PRIME_IMAGE_PRESET_RAM, L.PRIME_RESIZE_EXACT, 0, 1)
off = means(L.PRIME_IMAGE_PRESET_RAM, L.PRIME_RESIZE_EXACT, 0, 0)
drafted = on != off  # False in a build without libjpeg-turbo: no draft
if drafted and min(abs(a - b) for a, b in zip(on, off)) < 5e-5:
    sys.exit("the draft moves a channel mean by under 5e-5: %s vs %s" % (on, off))
with open(tmp + "/draft_thresholds.txt", "w") as f:
    f.write("".join("%.9g\n" % ((a + b) / 2) for a, b in zip(on, off)))
for name, m in (("on", on), ("off", off)):
    tags = "|".join(t for t, v, a, b in zip("rgb", m, on, off) if v > (a + b) / 2)
    with open(tmp + "/draft_tag_%s_want.csv" % name, "w") as f:
        f.write("image,class,tags\np/photo.jpg,p,%s\n" % tags)
# classify: the ImageNet preset (shorter side 36, centre crop 32); with
# --mean K,0,1 --std 1,1,1 the scores are m_r - K, m_g, m_b - 1, and K
# between the draft's m_r - m_g and the full decode's splits the argmax
on = means(L.PRIME_IMAGE_PRESET_IMAGENET, L.PRIME_RESIZE_SHORTER_CROP, 36, 1)
off = means(L.PRIME_IMAGE_PRESET_IMAGENET, L.PRIME_RESIZE_SHORTER_CROP, 36, 0)
d_on, d_off = on[0] - on[1], off[0] - off[1]
if drafted and abs(d_on - d_off) < 1e-4:
    sys.exit("the draft moves m_r - m_g by under 1e-4: %g vs %g" % (d_on, d_off))
k = (d_on + d_off) / 2
with open(tmp + "/draft_mean.txt", "w") as f:
    f.write("%.17g,0,1\n" % k)
for name, m in (("on", on), ("off", off)):
    pred = "r" if m[0] - k > m[1] else "g"
    with open(tmp + "/draft_classify_%s_want.csv" % name, "w") as f:
        f.write("image,label,prediction,correct\np/photo.jpg,p,%s,0\n" % pred)
with open(tmp + "/drafted", "w") as f:
    f.write("1\n" if drafted else "0\n")
EOF
# jpeg_drafts WHAT OUT WANT ARGS...: prime ARGS with --jpeg-draft left out,
# on and off, into OUT_default.csv, OUT_on.csv and OUT_off.csv; the default
# and on give WANT_on_want.csv, off WANT_off_want.csv
jpeg_drafts() {
  local what=$1 out=$2 want=$3
  shift 3
  expect 0 "$what, JPEG draft by default" -- "$prime" "$@" --output "${out}_default.csv"
  expect 0 "$what --jpeg-draft on" -- "$prime" "$@" --jpeg-draft on --output "${out}_on.csv"
  expect 0 "$what --jpeg-draft off" -- "$prime" "$@" --jpeg-draft off --output "${out}_off.csv"
  same "${out}_default.csv" "${want}_on_want.csv" "$what: the default is the draft's output"
  same "${out}_on.csv" "${want}_on_want.csv" "$what --jpeg-draft on: the library's draft path"
  same "${out}_off.csv" "${want}_off_want.csv" "$what --jpeg-draft off: the library's full decode"
}
jpeg_drafts "tag torch" "$tmp/dt" "$tmp/draft_tag" tag --images "$tmp/draft" --backend torch --model "$data/channel_mean.pt" --vocab "$tmp/rgb.txt" --scores probabilities --size 32 --mean 0,0,0 --std 1,1,1 --thresholds "$tmp/draft_thresholds.txt"
jpeg_drafts classify "$tmp/dc" "$tmp/draft_classify" classify --model "$data/channel_mean.pt" --classes "$tmp/rgb.txt" --images "$tmp/draft" --size 32 --mean "$(cat "$tmp/draft_mean.txt")" --std 1,1,1
# with libjpeg-turbo (PRIME_TURBOJPEG=1, set by meson) the draft must change
# the library's tensor and the outputs; with stb_image alone it cannot
drafted=$(cat "$tmp/drafted" 2>/dev/null)
[ "$drafted" = "${PRIME_TURBOJPEG:-1}" ] && ok || bad "the library's draft path: drafted=$drafted, PRIME_TURBOJPEG=${PRIME_TURBOJPEG:-1}"
if [ "$drafted" = 1 ]; then
  ! cmp -s "$tmp/dt_on.csv" "$tmp/dt_off.csv" && ok || bad "tag torch: the draft changed nothing"
  ! cmp -s "$tmp/dc_on.csv" "$tmp/dc_off.csv" && ok || bad "classify: the draft changed nothing"
fi
# the draft is on by default with no spec option either: the backend's preset
# (RAM's 384 x 384, ImageNet's 256 then 224 x 224) gives its size, as the
# same preset given through --size does (the command once refused this)
nsargs=(--images "$tmp/draft" --model "$data/channel_mean.pt")
expect 0 "tag torch, draft by default, no spec option" -- "$prime" tag "${nsargs[@]}" --backend torch --vocab "$tmp/rgb.txt" --output "$tmp/dt_nospec.csv"
expect 0 "tag torch, draft by default, --size 384" -- "$prime" tag "${nsargs[@]}" --backend torch --vocab "$tmp/rgb.txt" --size 384 --output "$tmp/dt_384.csv"
same "$tmp/dt_nospec.csv" "$tmp/dt_384.csv" "tag torch without a spec option: RAM's preset"
expect 0 "classify, draft by default, no spec option" -- "$prime" classify "${nsargs[@]}" --output "$tmp/dc_nospec.csv"
expect 0 "classify, draft by default, --size 224" -- "$prime" classify "${nsargs[@]}" --size 224 --output "$tmp/dc_224.csv"
same "$tmp/dc_nospec.csv" "$tmp/dc_224.csv" "classify without a spec option: ImageNet's preset"

echo "cli_torch: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
