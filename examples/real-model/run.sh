#!/usr/bin/env bash
# A real pretrained network through libprime, end to end (issue 17):
# nsfwjs's MobileNetV2 (npm) -> TorchScript (checked against TF.js on node)
# -> `prime classify` on a folder of real photos -> `prime tag` (model-free
# image properties) -> `prime search` -> `prime report`.
#
#   examples/real-model/run.sh [--build DIR] [--work DIR] [--photos DIR [--labels L.csv]]
#                              [--limit N] [--random N]
#
# --build   the build folder (default build): its tools/prime and shim/
# --work    where everything is written (default a new temporary folder, kept)
# --photos  a folder of images (classes: the parent folder's name, or
#           --labels L.csv with image,label; nsfwjs's classes are Drawing,
#           Hentai, Neutral, Porn, Sexy). Default: the sample photos Debian
#           ships in python3-skimage (skimage/data), labelled by photos.csv here
# --limit N only the first N photos (in name order)
# --random N pseudo-random images added to the TF.js check (default 4)
#
# Needs: node and the npm packages of package.json installed in this folder
# (`npm install --prefix examples/real-model`; scripts/deps.sh does it),
# /usr/bin/python3 with torch, numpy and PIL, and a build with libprime-torch.
# Exit status 77 (skip) when one of those is missing, with the reason.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$src/build work="" photos="" labels="" limit=0 nrandom=4
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "${2:?}" && pwd); shift ;;
    --work) work=${2:?}; shift ;;
    --photos) photos=$(cd "${2:?}" && pwd); shift ;;
    --labels) labels=$(realpath "${2:?}"); shift ;;
    --limit) limit=${2:?}; shift ;;
    --random) nrandom=${2:?}; shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
skip() { echo "real-model: SKIP: $*"; exit 77; }
command -v node >/dev/null || skip "node is not installed (apt-get install nodejs npm)"
[ -d "$here/node_modules/nsfwjs" ] && [ -d "$here/node_modules/@tensorflow/tfjs" ] ||
  skip "the npm packages are not installed: npm install --prefix examples/real-model (scripts/deps.sh does it)"
/usr/bin/python3 -c 'import torch, numpy, PIL' 2>/dev/null || skip "/usr/bin/python3 lacks torch, numpy or PIL (python3-torch python3-numpy python3-pil)"
prime=$build/tools/prime
shim=$(ls "$build"/shim/libprime-torch.so.[0-9]* 2>/dev/null | head -1 || true)
[ -x "$prime" ] || skip "no $prime (build first)"
[ -n "$shim" ] || skip "$build has no libprime-torch (libtorch not found at build time)"
export PRIME_TORCH_LIBRARY=$shim
# an ASan build (scripts/test.sh runs every suite in one): LeakSanitizer's
# tracer can crash at exit in processes that dlopen() libtorch (see
# tests/cli_torch/cli_torch_test.sh); ASan's other checks stay on
if [[ "$(ldd "$prime" 2>/dev/null)" == *libasan* ]]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
if [ -z "$photos" ]; then
  photos=/usr/lib/python3/dist-packages/skimage/data
  [ -d "$photos" ] || skip "no --photos and no $photos (apt-get install python3-skimage)"
  labels=$here/photos.csv
fi
[ -n "$work" ] || work=$(mktemp -d /tmp/prime-real-model.XXXXXX)
mkdir -p "$work"
work=$(cd "$work" && pwd)
echo "real-model: working in $work"

# 1. the photos: copied (those of the labels file, or every image of the folder)
rm -rf "$work/photos"
mkdir -p "$work/photos"
if [ -n "$labels" ]; then
  tail -n +2 "$labels" | cut -d, -f1 > "$work/names.txt"
else
  (cd "$photos" && find . -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) |
    sed 's|^\./||' | LC_ALL=C sort) > "$work/names.txt"
fi
[ "$limit" -gt 0 ] && { head -n "$limit" "$work/names.txt" > "$work/n" && mv "$work/n" "$work/names.txt"; }
[ -s "$work/names.txt" ] || { echo "real-model: no images in $photos" >&2; exit 1; }
while read -r name; do
  mkdir -p "$work/photos/$(dirname "$name")"
  cp "$photos/$name" "$work/photos/$name"
done < "$work/names.txt"
lab=()
if [ -n "$labels" ]; then
  awk -F, 'NR==FNR {want[$1]=1; next} FNR==1 || ($1 in want)' "$work/names.txt" "$labels" > "$work/labels.csv"
  lab=(--labels "$work/labels.csv")
fi
echo "real-model: $(wc -l < "$work/names.txt") photos from $photos"

# 2. nsfwjs's model out of its npm bundle, as TF.js decodes it
node "$here/export_nsfwjs.cjs" "$work/model" 2>&1 | grep -v -e '^====' -e 'Hi, looks like' -e 'tfjs-node' -e '^$' || true
[ -s "$work/model/weights.f32" ] || { echo "real-model: export failed" >&2; exit 1; }

# 3. TorchScript, checked against TF.js (pure-JS CPU backend) on the same
#    floats: N random images and the photos as nsfwjs preprocesses them
mapfile -t paths < <(sed "s|^|$work/photos/|" "$work/names.txt")
/usr/bin/python3 "$here/convert_nsfwjs.py" "$work/model" --check "$nrandom" "${paths[@]}"
m=$((nrandom + ${#paths[@]}))
node "$here/export_nsfwjs.cjs" "$work/model" --reference "$work/model/check_in.f32" "$m" 2>&1 |
  grep -v -e '^====' -e 'Hi, looks like' -e 'tfjs-node' -e '^$' || true
/usr/bin/python3 "$here/convert_nsfwjs.py" "$work/model" --check "$nrandom" "${paths[@]}" | tee "$work/check.txt"

# 4. libprime: classify (shorter side to 224, centre crop, pixels / 255),
#    tag with the image properties, search, report
spec=(--size 224 --resize 224 --mean 0,0,0 --std 1,1,1)
"$prime" classify --model "$work/model/mobilenet_v2.pt" --classes "$work/model/classes.txt" \
  --images "$work/photos" "${lab[@]}" "${spec[@]}" --batch 8 --output "$work/outcomes.csv"
"$prime" tag --images "$work/photos" "${lab[@]}" --backend properties --output "$work/tags.csv"
"$prime" search --tags "$work/tags.csv" --outcomes "$work/outcomes.csv" --min-size 2 \
  --min-drop 0.2 --format json --output "$work/result.json"
"$prime" search --tags "$work/tags.csv" --outcomes "$work/outcomes.csv" --min-size 2 \
  --min-drop 0.2 --format text
"$prime" report --result "$work/result.json" --tags "$work/tags.csv" \
  --outcomes "$work/outcomes.csv" --images "$work/photos" --output "$work/report.html"

# 5. the same predictions from Python (PIL + torch, the same preprocessing)
/usr/bin/python3 "$here/predict.py" "$work/model/mobilenet_v2.pt" "$work/model/classes.txt" \
  "$work/photos" "$work/outcomes.csv" | tee "$work/agreement.txt"
# 6. what a test checks besides the two comparisons above
[ "$(tail -n +2 "$work/outcomes.csv" | wc -l)" -eq "$(wc -l < "$work/names.txt")" ] ||
  { echo "real-model: outcomes.csv lacks images" >&2; exit 1; }
grep -q '"failure_modes"' "$work/result.json" || { echo "real-model: no search result" >&2; exit 1; }
grep -qi '<html' "$work/report.html" || { echo "real-model: no report" >&2; exit 1; }
echo "real-model: outcomes $work/outcomes.csv, result $work/result.json, report $work/report.html"
