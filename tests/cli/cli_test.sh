#!/usr/bin/env bash
# Golden and error tests of the `prime` command line (docs/formats.md).
# Usage: cli_test.sh PATH/TO/prime
set -uo pipefail
prime=$(realpath "${1:?usage: cli_test.sh PRIME}")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
# shellcheck source=checks.sh
. "$here/checks.sh"

args=(--min-size 2 --max-tags 2 --min-gain 0,0.1)
cd "$here"

# golden JSON, to a file and to a pipe
expect 0 "search json" -- "$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --output "$tmp/r.json"
same "$tmp/r.json" expected.json "search --output"
expect 0 "search json on a pipe" -- "$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}"
same "$tmp/out" expected.json "search to a pipe defaults to json"
expect 0 "search csv" -- "$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --format csv
same "$tmp/out" expected.csv "csv format"
expect 0 "search text" -- "$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --format=text
same "$tmp/out" expected.txt "text format"
expect 0 "threads do not change the result" -- "$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --threads 3
same "$tmp/out" expected.json "--threads 3"

# the same data as JSON Lines, as a binary store, and with outcomes in the tags file
expect 0 "jsonl" -- "$prime" search --tags tags.jsonl --outcomes outcomes.csv "${args[@]}"
same "$tmp/out" expected.json "JSON Lines input"
expect 0 "convert" -- "$prime" convert --tags tags.csv --output "$tmp/store.prime"
expect 0 "search a binary store" -- "$prime" search --tags "$tmp/store.prime" --outcomes outcomes.csv "${args[@]}"
same "$tmp/out" expected.json "binary store input"
expect 0 "outcomes in the tags file" -- "$prime" search --tags tags_correct.csv "${args[@]}"
same "$tmp/out" expected.json "correct column"
expect 0 "convert with outcomes" -- "$prime" convert --tags tags_correct.csv --output "$tmp/s2.prime" --outcomes-output "$tmp/o2.csv"
expect 0 "search converted store + outcomes" -- "$prime" search --tags "$tmp/s2.prime" --outcomes "$tmp/o2.csv" "${args[@]}"
same "$tmp/out" expected.json "convert --outcomes-output round trip"
expect 0 "info" -- "$prime" info "$tmp/store.prime"
grep -q "images: *11" "$tmp/out" && grep -q "classes: *2" "$tmp/out" && grep -q "tags: *4 distinct, 13 in all" "$tmp/out" && ok || bad "info output: $(cat "$tmp/out")"

# nothing found is success
expect 0 "nothing found" -- "$prime" search --tags tags.csv --outcomes outcomes.csv --min-size 50
grep -q '"failure_modes": \[\],' "$tmp/out" && grep -q '^ "candidates": 0}$' "$tmp/out" \
  && ok || bad "empty result (no set of 50 images: no candidate): $(cat "$tmp/out")"

# bad usage: exit 2
expect 2 "no command" -- "$prime"
expect 2 "unknown command" -- "$prime" frobnicate
expect 2 "no --tags" -- "$prime" search --outcomes outcomes.csv
err_has "--tags" "no --tags"
expect 2 "unknown option" -- "$prime" search --tags tags.csv --bogus 1
err_has "--bogus" "unknown option"
expect 2 "missing value" -- "$prime" search --tags
expect 2 "max-tags out of range" -- "$prime" search --tags tags.csv --max-tags 0
err_has "max_tags" "max-tags 0"
expect 2 "min-drop not a number" -- "$prime" search --tags tags.csv --min-drop abc
expect 2 "bad min-gain list" -- "$prime" search --tags tags.csv --min-gain 0,,1
expect 2 "bad format" -- "$prime" search --tags tags.csv --format xml
expect 0 "help" -- "$prime" --help

# bad input: exit 1, a message with file and line, and no output file
bad_input() { # FILE EXPECTED-TEXT [OUTCOMES]
  local f=$1 text=$2 o=${3:-outcomes.csv}
  rm -f "$tmp/never.json"
  expect 1 "bad input $f" -- "$prime" search --tags "$f" --outcomes "$o" "${args[@]}" --output "$tmp/never.json"
  err_has "$text" "bad input $f"
  [ ! -e "$tmp/never.json" ] && ok || bad "$f: an output file was written"
}
bad_input bad/missing_column.csv "bad/missing_column.csv:1:"
bad_input bad/duplicate_image.csv "bad/duplicate_image.csv:4:"
bad_input bad/unterminated_quote.csv "bad/unterminated_quote.csv:3:"
bad_input bad/invalid_utf8.csv "bad/invalid_utf8.csv:2:"
bad_input bad/empty.csv "bad/empty.csv"
bad_input bad/wrong_field_count.csv "bad/wrong_field_count.csv:3:"
bad_input tags.csv "image \"a7\" of the tag store has no outcome" bad/outcomes_missing.csv
bad_input tags.csv "bad/outcomes_range.csv:3:" bad/outcomes_range.csv
bad_input tags.csv "bad/outcomes_duplicate.csv:4:" bad/outcomes_duplicate.csv
bad_input nonexistent.csv "nonexistent.csv"
bad_input bad/not_a_store.prime "bad/not_a_store.prime"
expect 1 "no outcomes anywhere" -- "$prime" search --tags tags.csv "${args[@]}"
err_has "outcomes" "no outcomes anywhere"

# ---- prime tokenize (CLIP tokenizer) ----
bpe="$PRIME_SOURCE_ROOT/data/clip/bpe_simple_vocab_16e6.txt.gz"
ram_tsv="$PRIME_TEST_DATA/clip/clip_tokens_ram_prompts.tsv"
if [ -f "$bpe" ] && [ -f "$ram_tsv" ]; then
  # every prompt of the reference table, in one run
  tail -n +2 "$ram_tsv" | cut -f1 | tr '\n' '\0' > "$tmp/texts"
  tail -n +2 "$ram_tsv" | cut -f2 > "$tmp/want"
  mapfile -d '' -t texts < "$tmp/texts"
  expect 0 "tokenize the RAM prompts" -- "$prime" tokenize --bpe "$bpe" "${texts[@]}"
  same "$tmp/out" "$tmp/want" "tokenize the RAM prompts"
  [ "$(wc -l < "$tmp/out")" -eq 4585 ] && ok || bad "tokenize: not 4585 lines"
  expect 0 "tokenize one" -- "$prime" tokenize --bpe="$bpe" "a photo of abacus"
  [ "$(cat "$tmp/out")" = "49406 320 1125 539 596 33710 49407" ] && ok || bad "tokenize one: $(cat "$tmp/out")"
  expect 0 "tokenize after --" -- "$prime" tokenize --bpe "$bpe" -- "--full" ""
  [ "$(cat "$tmp/out")" = "$(printf '49406 2432 1476 49407\n49406 49407')" ] && ok || bad "tokenize after --: $(cat "$tmp/out")"
  long=$(printf 'a %.0s' $(seq 100))
  expect 0 "tokenize truncates at 77" -- "$prime" tokenize --bpe "$bpe" "$long"
  [ "$(wc -w < "$tmp/out")" -eq 77 ] && [ "$(awk '{print $77}' "$tmp/out")" = 49407 ] && ok || bad "tokenize truncation: $(cat "$tmp/out")"
  expect 0 "tokenize --full" -- "$prime" tokenize --bpe "$bpe" --full "$long"
  [ "$(wc -w < "$tmp/out")" -eq 102 ] && ok || bad "tokenize --full: $(wc -w < "$tmp/out") ids"
  expect 1 "tokenize invalid UTF-8" -- "$prime" tokenize --bpe "$bpe" ok $'bad\xff'
  err_has "TEXT 2: tokenize: invalid UTF-8 at byte 3" "tokenize invalid UTF-8"
  expect 1 "tokenize missing bpe" -- "$prime" tokenize --bpe "$tmp/none.gz" hello
  err_has "$tmp/none.gz" "tokenize missing bpe"
  head -c 5000 "$bpe" > "$tmp/cut.gz"
  expect 1 "tokenize truncated bpe" -- "$prime" tokenize --bpe "$tmp/cut.gz" hello
  err_has "truncated gzip data" "tokenize truncated bpe"
  printf '#version: 0.2\ni n\nt h x\n' > "$tmp/bad.txt"
  expect 1 "tokenize bad merges" -- "$prime" tokenize --bpe "$tmp/bad.txt" hello
  err_has "bad.txt:3: a merge must be two symbols" "tokenize bad merges"
  # without --bpe: CLIP's in the data folder ($PRIME_DATA_DIR, else the
  # installed share/libprime; tests/install/install_test.sh checks that one)
  PRIME_DATA_DIR="$PRIME_SOURCE_ROOT/data" expect 0 "tokenize without --bpe" -- "$prime" tokenize "a photo of abacus"
  [ "$(cat "$tmp/out")" = "49406 320 1125 539 596 33710 49407" ] && ok || bad "tokenize without --bpe: $(cat "$tmp/out")"
  mkdir -p "$tmp/nodata"
  PRIME_DATA_DIR="$tmp/nodata" expect 1 "tokenize without --bpe nor data" -- "$prime" tokenize hello
  err_has "$tmp/nodata/clip/bpe_simple_vocab_16e6.txt.gz" "tokenize without --bpe nor data"
  # a relative --bpe that names no file here is looked for in the data folder
  (cd "$tmp" && PRIME_DATA_DIR="$PRIME_SOURCE_ROOT/data" "$prime" tokenize --bpe clip/bpe_simple_vocab_16e6.txt.gz "a photo of abacus" >"$tmp/out" 2>"$tmp/err") \
    && [ "$(cat "$tmp/out")" = "49406 320 1125 539 596 33710 49407" ] && ok || bad "tokenize --bpe in the data folder: $(cat "$tmp/out" "$tmp/err")"
  PRIME_DATA_DIR="$tmp/nodata" expect 1 "tokenize relative --bpe nowhere" -- "$prime" tokenize --bpe clip/none.gz hello
  err_has "clip/none.gz" "tokenize relative --bpe nowhere"
  expect 2 "tokenize without text" -- "$prime" tokenize --bpe "$bpe"
  expect 2 "tokenize unknown option" -- "$prime" tokenize --bpe "$bpe" --nope hi
else
  bad "tokenize: $bpe or $ram_tsv missing"
fi

# prime eval: the modes of a result measured on a split (here the same one:
# test drops equal train drops, correlation 1, every mode still fails)
expect 0 "eval json" -- "$prime" eval --result expected.json --tags tags.csv --outcomes outcomes.csv
grep -q '"summary": {"modes": 2, "measured": 2, "pearson": 1, "spearman": 1, "still_failing": 2' "$tmp/out" \
  && ok || bad "eval summary: $(head -3 "$tmp/out")"
grep -q '"test": "fisher", "fdr": null' "$tmp/out" && ok || bad "eval params: $(head -1 "$tmp/out")"
expect 0 "eval text" -- "$prime" eval --result expected.json --tags tags.csv --outcomes outcomes.csv --format text
grep -q "2 still fail" "$tmp/out" && ok || bad "eval text: $(cat "$tmp/out")"
expect 0 "eval --fdr" -- "$prime" eval --result expected.json --tags tags_correct.csv --fdr 0.5 --hypotheses 10 --output "$tmp/ev.json"
grep -q '"fdr": 0.5, "hypotheses": 10' "$tmp/ev.json" && grep -q '"discoveries": ' "$tmp/ev.json" \
  && ok || bad "eval --fdr output: $(head -2 "$tmp/ev.json")"
# The candidate count of the search JSON, worked by hand: ape (7 images, 2
# wrong) visits {dark}, {tree}, {dark,tree} (each holds both wrong images);
# bee (4 images, 2 wrong, accuracy 0.5) needs 2 wrong images in a set of 2+
# for a drop of 0.3: {say "hi"} only ({wet} has 1, {say "hi",wet} 1 image).
[ "$(tail -n 1 "$tmp/r.json")" = ' "candidates": 4}' ] && ok \
  || bad "search json: last line '$(tail -n 1 "$tmp/r.json")', wanted the candidates key"
# --fdr takes m from it. Fisher p-values: ape {dark,tree} 5/35, bee {say "hi"}
# 1/6; Benjamini-Hochberg with m = 4 adjusts both to 1/3 (no discovery at
# 0.3), with m = 2 to 1/6 (two discoveries).
expect 0 "eval --fdr, m from the result" -- "$prime" eval --result expected.json --tags tags_correct.csv --fdr 0.3
grep -q '"fdr": 0.3, "hypotheses": 4, "candidates": 4}' "$tmp/out" && grep -q '"discoveries": 0}' "$tmp/out" \
  && grep -q '"p_adjusted": 0.33333333333333' "$tmp/out" && ok || bad "eval --fdr from candidates: $(head -2 "$tmp/out")"
expect 0 "eval --fdr, --hypotheses overrides" -- "$prime" eval --result expected.json --tags tags_correct.csv --fdr 0.3 --hypotheses 2
grep -q '"fdr": 0.3, "hypotheses": 2, "candidates": 4}' "$tmp/out" && grep -q '"discoveries": 2}' "$tmp/out" \
  && ok || bad "eval --hypotheses override: $(head -2 "$tmp/out")"
grep -v '"candidates"' expected.json | sed '$ s/,$/}/' > "$tmp/nocand.json"
expect 0 "eval --fdr, result without candidates" -- "$prime" eval --result "$tmp/nocand.json" --tags tags_correct.csv --fdr 0.3
grep -q '"fdr": 0.3, "hypotheses": 2, "candidates": null}' "$tmp/out" && grep -q '"discoveries": 2}' "$tmp/out" \
  && ok || bad "eval --fdr without candidates: $(head -2 "$tmp/out")"
expect 2 "eval without --result" -- "$prime" eval --tags tags.csv --outcomes outcomes.csv
err_has "--result" "eval without --result"
expect 2 "eval bad --fdr" -- "$prime" eval --result expected.json --tags tags.csv --outcomes outcomes.csv --fdr 2
expect 2 "eval csv format" -- "$prime" eval --result expected.json --tags tags.csv --outcomes outcomes.csv --format csv
expect 2 "eval --hypotheses alone" -- "$prime" eval --result expected.json --tags tags.csv --outcomes outcomes.csv --hypotheses 5
expect 1 "eval too few hypotheses" -- "$prime" eval --result expected.json --tags tags.csv --outcomes outcomes.csv --fdr 0.1 --hypotheses 1
err_has "fewer than the 2 modes with a p-value" "eval too few hypotheses"
head -c 300 expected.json > "$tmp/trunc.json"
rm -f "$tmp/never.json"
expect 1 "eval truncated result" -- "$prime" eval --result "$tmp/trunc.json" --tags tags.csv --outcomes outcomes.csv --output "$tmp/never.json"
err_has "$tmp/trunc.json:" "eval truncated result"
[ ! -e "$tmp/never.json" ] && ok || bad "eval: an output file was written for a bad result"
sed 's/"drop": [0-9.e-]*, //' expected.json > "$tmp/nodrop.json"
expect 1 "eval result without drop" -- "$prime" eval --result "$tmp/nodrop.json" --tags tags.csv --outcomes outcomes.csv
err_has "$tmp/nodrop.json:6: failure_modes[0]: missing key \"drop\"" "eval result without drop"
expect 1 "eval missing result" -- "$prime" eval --result "$tmp/none.json" --tags tags.csv --outcomes outcomes.csv
err_has "none.json" "eval missing result"

# ---- description quality (prime eval --quality; tests/data/quality, made by make.py) ----
qd="$here/../data/quality"
qargs=(eval --quality --result "$qd/result.json" --tags "$qd/tags.csv" --text-embeddings "$qd/text.npy")
expect 0 "quality json" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/img.npy" --output "$tmp/q.json"
grep -q '"label": "a photo of cat dark indoor", "class": "cat", "size": 3, "class_size": 8, "similarity": 0.2968227' "$tmp/q.json" \
  && grep -q '"specificity": 0.5, "coherency": -0.103544' "$tmp/q.json" \
  && grep -q '"overall": {"groups": 4, ' "$tmp/q.json" && ok || bad "quality json: $(cat "$tmp/q.json")"
expect 0 "quality keyed by image ids" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/img_keyed.npy" --image-ids "$qd/img_keyed.ids" --format json
same "$tmp/out" "$tmp/q.json" "quality keyed = quality in store order"
expect 0 "quality raw float32" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/img.f32" --dim 4 --format json
same "$tmp/out" "$tmp/q.json" "quality raw = quality npy"
expect 0 "quality text" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/img.npy" --format text
grep -q "0.2968      0.5000     -0.1035  cat: a photo of cat dark indoor" "$tmp/out" && grep -q "(overall)" "$tmp/out" \
  && ok || bad "quality text: $(cat "$tmp/out")"
expect 1 "quality NaN embeddings" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/bad_nan.npy" --output "$tmp/qnever.json"
err_has "bad_nan.npy: row 2, column 1: value is NaN" "quality NaN embeddings"
[ ! -e "$tmp/qnever.json" ] && ok || bad "quality: an output file was written for bad embeddings"
expect 1 "quality wrong row count" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/bad_rows.npy"
err_has "10 rows, the store holds 12 images" "quality wrong row count"
expect 1 "quality Fortran order" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/bad_fortran.npy"
err_has "Fortran-order" "quality Fortran order"
expect 1 "quality raw wrong size" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/bad_size.f32" --dim 5
err_has "not a multiple of 4 x 5" "quality raw wrong size"
expect 1 "quality raw without --dim" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/img.f32"
err_has "need a dimension" "quality raw without --dim"
expect 1 "quality duplicate id" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/img_keyed.npy" --image-ids "$qd/bad_dup.ids"
err_has "bad_dup.ids:13: image 'c0' named twice" "quality duplicate id"
expect 1 "quality text rows" -- "$prime" eval --quality --result "$qd/result.json" --tags "$qd/tags.csv" --image-embeddings "$qd/img.npy" --text-embeddings "$qd/img.npy"
err_has "text embeddings have 12 rows, the result has 4 modes" "quality text rows"
# --text-model loads libprime-torch at run time; here it cannot be found
# (the model runs in suite cli_torch)
rm -f "$tmp/never.json"
PRIME_TORCH_LIBRARY="$tmp/no/libprime-torch.so.1" expect 1 "quality --text-model without the shim" -- "$prime" eval --quality --result "$qd/result.json" --tags "$qd/tags.csv" --image-embeddings "$qd/img.npy" --text-model clip_text.pt --bpe bpe.txt.gz --output "$tmp/never.json"
err_has "prime: --text-model needs libprime-torch: $tmp/no/libprime-torch.so.1: cannot open shared object file" "quality --text-model without the shim"
[ ! -e "$tmp/never.json" ] && ok || bad "quality --text-model: output written without the shim"
# without --bpe: CLIP's in the data folder (the shim is still missing here)
PRIME_TORCH_LIBRARY="$tmp/no/libprime-torch.so.1" expect 1 "quality --text-model without --bpe" -- "$prime" eval --quality --result "$qd/result.json" --tags "$qd/tags.csv" --image-embeddings "$qd/img.npy" --text-model clip_text.pt
err_has "prime: --text-model needs libprime-torch" "quality --text-model without --bpe"
expect 2 "quality --bpe without --text-model" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/img.npy" --bpe bpe.txt.gz
err_has "--bpe goes with --text-model" "quality --bpe without --text-model"
expect 2 "quality both text sources" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/img.npy" --text-model clip_text.pt --bpe bpe.txt.gz
err_has "not both" "quality both text sources"
expect 2 "quality without text embeddings" -- "$prime" eval --quality --result "$qd/result.json" --tags "$qd/tags.csv" --image-embeddings "$qd/img.npy"
err_has "--text-embeddings" "quality without text embeddings"
expect 2 "quality without image embeddings" -- "$prime" eval --quality --result "$qd/result.json" --tags "$qd/tags.csv" --text-embeddings "$qd/text.npy"
expect 2 "quality bad --dim" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/img.f32" --dim 0
expect 2 "quality csv format" -- "$prime" "${qargs[@]}" --image-embeddings "$qd/img.npy" --format csv

# prime tag: the model-free image-property backend over tests/data/tag
# (tiny PNGs: cat/a.png 8x4 black, "cat/b b.png" 4x8 white, dog/c.png 6x6 red)
tagdata="$here/../data/tag"
expect 0 "tag a folder" -- "$prime" tag --images "$tagdata" --backend properties --output "$tmp/tags_out.csv"
printf '%s\n' 'image,class,tags' \
  'cat/a.png,cat,dark|low-contrast|grayscale|landscape|black' \
  'cat/b b.png,cat,bright|low-contrast|grayscale|portrait|white' \
  'dog/c.png,dog,low-contrast|saturated|square|red' > "$tmp/tags_want.csv"
same "$tmp/tags_out.csv" "$tmp/tags_want.csv" "tag: classes from the parent folders"
expect 0 "tagged file loads" -- "$prime" info "$tmp/tags_out.csv"
grep -q "images: *3" "$tmp/out" && ok || bad "tag output info: $(cat "$tmp/out")"
expect 0 "tag with labels and threads" -- "$prime" tag --images "$tagdata" --backend properties --labels "$tagdata/labels.csv" --threads 3 --batch 2 --output "$tmp/tags_lab.csv"
grep -q '^dog/c.png,canine,low-contrast|saturated|square|red$' "$tmp/tags_lab.csv" && ok || bad "tag --labels: $(cat "$tmp/tags_lab.csv")"
mkdir -p "$tmp/list/cat" && cp "$tagdata/cat/a.png" "$tmp/list/cat/" && printf 'cat/a.png\n# a comment\n\n' > "$tmp/list/l.txt"
expect 0 "tag a list" -- "$prime" tag --images "$tmp/list/l.txt" --backend properties --output "$tmp/tags_list.csv"
grep -q '^cat/a.png,cat,dark|' "$tmp/tags_list.csv" && ok || bad "tag a list: $(cat "$tmp/tags_list.csv")"
expect 0 "tag top-k" -- "$prime" tag --images "$tagdata" --backend properties --top-k 1 --output "$tmp/tags_k.csv"
[ "$(awk -F, 'NR > 1 && $3 ~ /\|/' "$tmp/tags_k.csv" | wc -l)" -eq 0 ] && ok || bad "tag --top-k 1: $(cat "$tmp/tags_k.csv")"
# --rule: the property scores are 0 or 1, so at threshold 1 'at-least' keeps every tag, 'above' none
expect 0 "tag --rule at-least" -- "$prime" tag --images "$tagdata" --backend properties --threshold 1 --rule at-least --output "$tmp/tags_ge.csv"
same "$tmp/tags_ge.csv" "$tmp/tags_want.csv" "tag --rule at-least at threshold 1"
expect 0 "tag --rule above" -- "$prime" tag --images "$tagdata" --backend properties --threshold 1 --rule above --output "$tmp/tags_gt.csv"
[ "$(awk -F, 'NR > 1 && $3 != ""' "$tmp/tags_gt.csv" | wc -l)" -eq 0 ] && ok || bad "tag --rule above: $(cat "$tmp/tags_gt.csv")"
expect 2 "tag --rule of another name" -- "$prime" tag --images "$tagdata" --backend properties --rule greater --output "$tmp/never.csv"
err_has "--rule must be above or at-least, not 'greater'" "tag --rule greater"
cp -r "$tagdata" "$tmp/badtag" && echo "not a picture" > "$tmp/badtag/dog/broken.jpg"
rm -f "$tmp/never.csv"
expect 1 "tag a bad image" -- "$prime" tag --images "$tmp/badtag" --backend properties --output "$tmp/never.csv"
err_has "dog/broken.jpg: not a supported image" "tag a bad image"
[ ! -e "$tmp/never.csv" ] && ok || bad "tag: output written despite a bad image"
printf 'image,label\ncat/a.png,x\n' > "$tmp/short_labels.csv"
expect 1 "tag label missing" -- "$prime" tag --images "$tagdata" --backend properties --labels "$tmp/short_labels.csv" --output "$tmp/never.csv"
err_has "has no label" "tag label missing"
expect 1 "tag bad thresholds" -- "$prime" tag --images "$tagdata" --backend properties --thresholds "$tmp/short_labels.csv" --output "$tmp/never.csv"
err_has "short_labels.csv:1: not a number" "tag bad thresholds"
[ ! -e "$tmp/never.csv" ] && ok || bad "tag: output written after an error"
# torch, zeroshot and classify dlopen() libprime-torch: without it, exit 1,
# a message naming the library and the loader's reason, no output
nolib="$tmp/no/libprime-torch.so.1"
rm -f "$tmp/never.csv"
PRIME_TORCH_LIBRARY="$nolib" expect 1 "tag torch without the shim" -- "$prime" tag --images "$tagdata" --backend torch --model m.pt --vocab v.txt --output "$tmp/never.csv"
err_has "prime: backend 'torch' needs libprime-torch: $nolib: cannot open shared object file" "tag torch without the shim"
PRIME_TORCH_LIBRARY="$nolib" expect 1 "tag zeroshot without the shim" -- "$prime" tag --images "$tagdata" --backend zeroshot --image-model i.pt --text-model t.pt --bpe b.gz --vocab v.txt --output "$tmp/never.csv"
err_has "prime: backend 'zeroshot' needs libprime-torch: $nolib" "tag zeroshot without the shim"
PRIME_TORCH_LIBRARY="$nolib" expect 1 "classify without the shim" -- "$prime" classify --model m.pt --images "$tagdata" --output "$tmp/never.csv"
err_has "prime: classify needs libprime-torch: $nolib" "classify without the shim"
# a library that is not the shim: the missing function is named
PRIME_TORCH_LIBRARY="libz.so.1" expect 1 "tag torch with a library that is not the shim" -- "$prime" tag --images "$tagdata" --backend torch --model m.pt --vocab v.txt --output "$tmp/never.csv"
err_has "needs libprime-torch: " "not the shim" && err_has "prime_torch_version" "not the shim names the function"
[ ! -e "$tmp/never.csv" ] && ok || bad "tag/classify: output written without the shim"
# option checks come before the library is loaded (exit 2)
expect 2 "tag torch without --model" -- "$prime" tag --images "$tagdata" --backend torch --vocab v.txt --output "$tmp/never.csv"
err_has "backend 'torch' needs --model M.pt and --vocab V.txt" "tag torch without --model"
expect 2 "tag zeroshot without --vocab" -- "$prime" tag --images "$tagdata" --backend zeroshot --image-model i.pt --text-model t.pt --output "$tmp/never.csv"
err_has "backend 'zeroshot' needs --image-model, --text-model and --vocab" "tag zeroshot without --vocab"
expect 2 "tag properties with --model" -- "$prime" tag --images "$tagdata" --backend properties --model m.pt --output "$tmp/never.csv"
err_has "--model does not apply to backend 'properties'" "tag properties with --model"
expect 2 "tag properties with --jpeg-draft" -- "$prime" tag --images "$tagdata" --backend properties --jpeg-draft off --output "$tmp/never.csv"
err_has "--jpeg-draft does not apply to backend 'properties'" "tag properties with --jpeg-draft"
expect 2 "tag bad --jpeg-draft" -- "$prime" tag --images "$tagdata" --backend torch --model m.pt --vocab v.txt --jpeg-draft yes --output "$tmp/never.csv"
err_has "--jpeg-draft must be on or off, not 'yes'" "tag bad --jpeg-draft"
expect 2 "classify bad --jpeg-draft" -- "$prime" classify --model m.pt --images "$tagdata" --jpeg-draft 1 --output "$tmp/never.csv"
err_has "--jpeg-draft must be on or off, not '1'" "classify bad --jpeg-draft"
expect 2 "tag torch with --prompt" -- "$prime" tag --images "$tagdata" --backend torch --model m.pt --vocab v.txt --prompt '{}' --output "$tmp/never.csv"
err_has "--prompt does not apply to backend 'torch'" "tag torch with --prompt"
expect 2 "tag bad --scores" -- "$prime" tag --images "$tagdata" --backend torch --model m.pt --vocab v.txt --scores odds --output "$tmp/never.csv"
err_has "--scores must be logits or probabilities" "tag bad --scores"
expect 2 "tag bad --mean" -- "$prime" tag --images "$tagdata" --backend torch --model m.pt --vocab v.txt --mean 0.5,0.5 --output "$tmp/never.csv"
err_has "--mean must be three numbers" "tag bad --mean"
expect 2 "tag bad --std" -- "$prime" tag --images "$tagdata" --backend torch --model m.pt --vocab v.txt --std 0.5,0,0.5 --output "$tmp/never.csv"
err_has "(each > 0)" "tag bad --std"
expect 2 "tag bad --size" -- "$prime" tag --images "$tagdata" --backend torch --model m.pt --vocab v.txt --size 0 --output "$tmp/never.csv"
expect 2 "classify without --model" -- "$prime" classify --images "$tagdata" --output "$tmp/never.csv"
err_has "classify needs --model M.pt" "classify without --model"
expect 2 "classify with a tag option" -- "$prime" classify --model m.pt --images "$tagdata" --top-k 1 --output "$tmp/never.csv"
err_has "unknown option '--top-k' for classify" "classify with a tag option"
expect 2 "tag unknown backend" -- "$prime" tag --images "$tagdata" --backend magic --output "$tmp/never.csv"
err_has "unknown backend 'magic' (properties, torch or zeroshot)" "tag unknown backend"
expect 2 "tag without --output" -- "$prime" tag --images "$tagdata" --backend properties
expect 1 "tag missing folder" -- "$prime" tag --images "$tmp/nowhere" --backend properties --output "$tmp/never.csv"
err_has "nowhere" "tag missing folder"

# ---- report (issue 4): errors leave no output file (the page itself: suite 'report') ----
repdata="$here/../data/report"
expect 0 "report: search" -- "$prime" search --tags "$repdata/tags.csv" --min-size 2 --max-tags 2 --min-drop 0.2 --output "$tmp/rep_r.json"
expect 0 "report" -- "$prime" report --result "$tmp/rep_r.json" --tags "$repdata/tags.csv" --images "$repdata/img" --output "$tmp/rep.html"
[ "$(grep -c 'class="mode"' "$tmp/rep.html")" -eq 4 ] && ok || bad "report: 4 modes expected"
rm -f "$tmp/never.html"
expect 1 "report missing images dir" -- "$prime" report --result "$tmp/rep_r.json" --tags "$repdata/tags.csv" --images "$tmp/noimages" --output "$tmp/never.html"
err_has "noimages: images folder not found" "report missing images dir"
[ ! -e "$tmp/never.html" ] && ok || bad "report: output written without an images folder"
cp -r "$repdata/img" "$tmp/repimg" && rm "$tmp/repimg/cat/c1.png"
expect 1 "report missing image" -- "$prime" report --result "$tmp/rep_r.json" --tags "$repdata/tags.csv" --images "$tmp/repimg" --output "$tmp/never.html"
err_has "repimg/cat/c1.png: image of" "report missing image"
[ ! -e "$tmp/never.html" ] && ok || bad "report: output written despite a missing image"
[ -z "$(ls "$tmp" | grep 'never.html')" ] && ok || bad "report: temporary file left behind"
echo "not a picture" > "$tmp/repimg/cat/c1.png"
expect 1 "report bad image" -- "$prime" report --result "$tmp/rep_r.json" --tags "$repdata/tags.csv" --images "$tmp/repimg" --output "$tmp/never.html"
err_has "c1.png: not a supported image" "report bad image"
[ ! -e "$tmp/never.html" ] && ok || bad "report: output written despite a bad image"
cp "$tmp/rep.html" "$tmp/keep.html"
expect 1 "report missing image keeps an old output" -- "$prime" report --result "$tmp/rep_r.json" --tags "$repdata/tags.csv" --images "$tmp/repimg" --output "$tmp/keep.html"
same "$tmp/keep.html" "$tmp/rep.html" "report: a failed report leaves the old file alone"
expect 1 "report missing result" -- "$prime" report --result "$tmp/nothing.json" --tags "$repdata/tags.csv" --images "$repdata/img" --output "$tmp/never.html"
err_has "nothing.json" "report missing result"
[ ! -e "$tmp/never.html" ] && ok || bad "report: output written without a result"
expect 2 "report without --images" -- "$prime" report --result "$tmp/rep_r.json" --tags "$repdata/tags.csv" --output "$tmp/never.html"
expect 2 "report bad --per-mode" -- "$prime" report --result "$tmp/rep_r.json" --tags "$repdata/tags.csv" --images "$repdata/img" --per-mode x --output "$tmp/never.html"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
