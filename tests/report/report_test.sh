#!/usr/bin/env bash
# Browser test of `prime report` (suite 'report'): builds a report of the small
# data set tests/data/report (12 tiny PNGs, 2 classes), opens it in headless
# Chromium, checks the DOM it renders (mode count, image count, wrong marks,
# escaped names), measures its layout (layout_check.js: boxes visible, inside
# the viewport, not overlapping, text not clipped, plot points and bars where
# the figures put them; and that a deliberately broken layout is reported)
# and saves a screenshot to $PRIME_BUILD_ROOT/report_screenshot.png.
# Usage: report_test.sh PATH/TO/prime. Exit 77 (skipped) without chromium.
set -uo pipefail
prime=$(realpath "${1:?usage: report_test.sh PRIME}")
here=$(cd "$(dirname "$0")" && pwd)
data="$here/../data/report"
out_dir="${PRIME_BUILD_ROOT:-$(pwd)}"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "chromium is not installed (apt-get install chromium): skipped"
  exit 77
fi
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
chrome() { # chrome ARGS... URL: headless Chromium, no network, fresh profile
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --user-data-dir="$(mktemp -d -p "$tmp")" "$@" 2>>"$tmp/chrome.log"
}
count() { grep -o -- "$1" "$2" | wc -l; }

"$prime" search --tags "$data/tags.csv" --min-size 2 --max-tags 2 --min-drop 0.2 \
  --output "$tmp/r.json" || { echo "search failed"; exit 1; }
modes=$(grep -c '"description": ' "$tmp/r.json")
[ "$modes" -eq 4 ] && ok || bad "expected 4 failure modes in the result, got $modes"
# images expected per mode: min(size, per-mode)
want_images() {
  grep -o '"size": [0-9]*' "$tmp/r.json" | awk -v n="$1" '{ s += ($2 < n ? $2 : n) } END { print s + 0 }'
}

for per in 8 1; do
  html="$tmp/report_$per.html"
  "$prime" report --result "$tmp/r.json" --tags "$data/tags.csv" --images "$data/img" \
    --per-mode "$per" --seed 7 --output "$html" || { bad "report --per-mode $per failed"; continue; }
  chrome --dump-dom "file://$html" > "$tmp/dom_$per.html"
  dom="$tmp/dom_$per.html"
  [ -s "$dom" ] && ok || { bad "chromium produced no DOM: $(tail -5 "$tmp/chrome.log")"; continue; }
  got=$(count 'class="mode"' "$dom")
  [ "$got" -eq "$modes" ] && ok || bad "per-mode $per: $got modes in the DOM, wanted $modes"
  [ "$(count '<section class="class"' "$dom")" -eq 2 ] && ok || bad "per-mode $per: class sections"
  got=$(count '<figure class="img' "$dom")
  want=$(want_images "$per")
  [ "$got" -eq "$want" ] && ok || bad "per-mode $per: $got images in the DOM, wanted $want"
  got=$(count 'src="data:image/png;base64,' "$dom")
  [ "$got" -eq "$want" ] && ok || bad "per-mode $per: $got embedded PNGs, wanted $want"
  # every wrong image is marked, and only those
  wrong=$(count 'data-wrong="1"' "$dom")
  marked=$(count 'class="img wrong"' "$dom")
  [ "$wrong" -eq "$marked" ] && [ "$wrong" -gt 0 ] && ok || bad "per-mode $per: $wrong wrong, $marked marked"
done
dom="$tmp/dom_8.html"
# all images of the 'blurry + dark' mode are wrong (c1, c2): two red marks
grep -q 'cat/c1.png<br><span class="wronglabel">wrong</span>' "$dom" && ok || bad "c1 not marked wrong"
# names are escaped: the image "cat/c3 & <b>.png" shows as text, no <b> element
grep -qF 'cat/c3 &amp; &lt;b&gt;.png' "$dom" && ok || bad "escaped image name missing"
! grep -qF '<b>.png' "$dom" && ok || bad "image name not escaped"
grep -qF 'black&amp;white' "$dom" && ok || bad "escaped tag name missing"
# modes sorted by drop inside a class: blurry + dark (57.1%) before dark (32.1%) before blurry
order=$(grep -o '<h3>[^<]*</h3>' "$dom" | tr '\n' ' ')
[ "$order" = "<h3>blurry + dark</h3> <h3>dark</h3> <h3>blurry</h3> <h3>black&amp;white</h3> " ] \
  && ok || bad "mode order: $order"
grep -q 'Parents: <span class="parent">dark: 25.0% of 4</span>; <span class="parent">blurry: 33.3% of 3</span>' "$dom" \
  && ok || bad "parents of blurry + dark"
# the seed makes the sample reproducible
"$prime" report --result "$tmp/r.json" --tags "$data/tags.csv" --images "$data/img" \
  --per-mode 1 --seed 7 --output "$tmp/again.html"
cmp -s "$tmp/again.html" "$tmp/report_1.html" && ok || bad "same seed, different report"

# the overview (issue 13): every mode ranked by drop with a bar, one
# accuracy bar per class; no scatter plot when found and measured on the
# same data
[ "$(count 'class="rank"' "$dom")" -eq "$modes" ] && ok || bad "ranking rows"
[ "$(count 'class="spark"' "$dom")" -eq "$modes" ] && ok || bad "ranking bars"
[ "$(count 'class="classbar"' "$dom")" -eq 2 ] && ok || bad "class accuracy bars"
grep -q 'data-class="cat" data-accuracy="0.571429"' "$dom" && ok || bad "cat accuracy bar"
! grep -q 'id="scatter"' "$dom" && ok || bad "a scatter plot without held-out data"
# held out: found on 10 of the 12 images, measured on all 12: the scatter
# plot's points are the evaluation's train and test drops
head -n 1 "$data/tags.csv" > "$tmp/train.csv"
sed -n '2,5p;7,10p;12,13p' "$data/tags.csv" >> "$tmp/train.csv"
"$prime" search --tags "$tmp/train.csv" --min-size 2 --max-tags 2 --min-drop 0.2 \
  --output "$tmp/tr.json" || bad "search of the training split failed"
"$prime" eval --result "$tmp/tr.json" --tags "$data/tags.csv" --format json > "$tmp/ev.json" \
  || bad "eval of the training split failed"
"$prime" report --result "$tmp/tr.json" --tags "$data/tags.csv" --images "$data/img" \
  --output "$tmp/heldout.html" || bad "held-out report failed"
chrome --dump-dom "file://$tmp/heldout.html" > "$tmp/dom_heldout.html"
hd="$tmp/dom_heldout.html"
[ "$(count '<circle class="pt"' "$hd")" -eq 3 ] && ok || bad "scatter: $(count '<circle class="pt"' "$hd") points, wanted 3"
drops() { grep -o "\"$1\": {[^}]*}" "$tmp/ev.json" | grep -o '"drop": [-0-9.e]*' | awk '{ print $2 }'; }
want=$(paste -d ' ' <(drops train) <(drops test) | awk '{ printf "%.6f %.6f\n", $1, $2 }' | sort)
got=$(grep -o 'data-train="[-0-9.]*" data-test="[-0-9.]*"' "$hd" \
  | sed -E 's/data-train="([^"]*)" data-test="([^"]*)"/\1 \2/' | sort)
[ -n "$want" ] && [ "$want" = "$got" ] && ok || bad "scatter points $got, eval says $want"
pr=$(grep -o '"pearson": [-0-9.e]*' "$tmp/ev.json" | awk '{ printf "%.6f", $2 }')
grep -q "data-pearson=\"$pr\"" "$hd" && ok || bad "Pearson figure (eval: $pr)"
grep -q 'Pearson 0.347, Spearman 0.000 over 3 modes' "$hd" && ok || bad "correlation text"
# laid out and visible: a screenshot of the overview is not blank
chrome --screenshot="$tmp/overview.png" --window-size=900,900 "file://$tmp/heldout.html" >/dev/null
[ "$(stat -c %s "$tmp/overview.png" 2>/dev/null || echo 0)" -gt 20000 ] && ok \
  || bad "overview screenshot missing or blank"
cp "$tmp/overview.png" "$out_dir/report_overview.png" 2>/dev/null || true

# a mode whose images are exactly a smaller mode's is marked (issue 13):
# x and y always go together, so x + y adds nothing to x
cat > "$tmp/same.csv" <<'CSV'
image,class,tags,correct
"cat/c1.png",cat,x|y,0
"cat/c2.png",cat,x|y,0
"cat/c4.png",cat,z,1
"cat/c5.png",cat,z,1
"cat/c7.png",cat,z,1
CSV
"$prime" search --tags "$tmp/same.csv" --min-size 2 --max-tags 2 --min-drop 0.2 \
  --min-gain -1 --output "$tmp/same.json" || bad "search of the x/y data failed"
"$prime" report --result "$tmp/same.json" --tags "$tmp/same.csv" --images "$data/img" \
  --output "$tmp/same.html" || bad "report of the x/y data failed"
chrome --dump-dom "file://$tmp/same.html" > "$tmp/dom_same.html"
[ "$(count 'class="same"' "$tmp/dom_same.html")" -eq 1 ] && ok || bad "x + y not marked once"
grep -q 'data-same="[0-9]*">Same images as the smaller mode <q>a photo of cat [xy]</q>' \
  "$tmp/dom_same.html" && ok || bad "the mark does not name the one-tag mode"

# the layout, measured in the browser (tests/report/layout_check.js): every
# element visible and inside the viewport's width, no two boxes of one
# layout overlapping, no text clipped, the scatter points inside the plot
# and the ranking bars as long as their figures
layout() { # layout PAGE WIDTH,HEIGHT [CSS]: the check's lines for PAGE (+ CSS)
  local page="$tmp/layout_$RANDOM.html"
  { if [ -n "${3:-}" ]; then awk -v css="$3" '{ sub("</style>", css "</style>") } 1' "$1"
    else cat "$1"; fi
    echo "<script>"; cat "$here/layout_check.js"; echo "</script>"; } > "$page"
  chrome --window-size="$2" --dump-dom "file://$page" \
    | awk '/<\/script><pre id="layout-check">/ { f = 1 } f { print } /<\/pre>/ { if (f) exit }' \
    | sed 's/<[^>]*>//g'
}
for spec in "heldout.html 900,900" "heldout.html 1400,900" "report_8.html 1200,2000" \
            "report_1.html 700,1200" "same.html 900,900"; do
  set -- $spec
  got=$(layout "$tmp/$1" "$2")
  case "$got" in
    "LAYOUT OK "*) ok ;;
    *) bad "layout of $1 at $2: ${got:-no result}" ;;
  esac
done
# ... and the check finds a broken layout (CSS added to the overview page)
broken() { # broken KIND CSS
  got=$(layout "$tmp/heldout.html" 900,900 "$2")
  grep -q "^LAYOUT PROBLEM $1: " <<< "$got" && ok \
    || bad "broken layout ($2) not reported as $1: ${got:-no result}"
}
broken overlap '.mode{margin-top:-120px}'
broken overlap '#class-bars .classbar{margin-top:-12px}'
broken overflow 'body{min-width:1600px}'
broken overflow '#scatter{margin-left:700px}'
broken clipped 'h3{height:4px;overflow:hidden}'
broken clipped 'figcaption{white-space:nowrap;overflow:hidden;width:30px}'
broken hidden '.thumbs{display:none}'
broken plot '.spark span{width:10% !important}'
broken plot '#scatter circle{transform:translate(330px,0)}'

# screenshot (looked at by hand; kept in the build folder)
shot="$out_dir/report_screenshot.png"
rm -f "$shot"
chrome --screenshot="$shot" --window-size=1200,2000 "file://$tmp/report_8.html" >/dev/null
[ -s "$shot" ] && ok || bad "no screenshot: $(tail -5 "$tmp/chrome.log")"
echo "screenshot: $shot"

echo "report: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
