#!/usr/bin/env bash
# Suite 'mpi' (issue 16): `mpirun -np K prime-mpi search` writes what
# `prime search` writes (cmp), per class and over the whole data set, for
# K = 1, 2, 3, 4, 7 ranks, on the demo data and on generated stores (0/1
# outcomes and scores; a tags CSV, a binary store, a sharded-store folder;
# per class from a binary store with binary outcomes, read class by class,
# sorted by class or shuffled, with its checkpoint);
# the errors (bad input, bad usage) leave no output; a rank killed in the
# middle of a run makes mpirun fail and leaves no output file, and a rerun
# with the same --checkpoint folder resumes and writes the result of an
# uninterrupted run, per class and over the whole data set (after the last
# level saved); a checkpoint folder of another run is refused.
#   mpi_test.sh PRIME_EXE PRIME_MPI_EXE MAKE_SHARDS_EXE
set -u
prime=${1:?usage: mpi_test.sh PRIME_EXE PRIME_MPI_EXE MAKE_SHARDS_EXE}
pmpi=${2:?}
make_shards=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
src=${PRIME_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
root=()
[ "$(id -u)" -ne 0 ] || root=(--allow-run-as-root)
# In an ASan build, LeakSanitizer reports Open MPI's own allocations at
# exit: MPI_Finalize dlclose()s its MCA components, so their blocks show as
# leaks from unknown modules that no suppression can name. Leak detection is
# off for these processes (ASan's other checks stay on), as for libtorch in
# cli_torch; prime-mpi's own paths were checked under valgrind.
# An ASan + UBSan build (-O0) runs the search about 50x slower: the whole-
# data-set runs below then take minutes on 2 cores, so the limits of one
# run and of the waits for a checkpoint grow by `slow`.
slow=1
if [[ "$(ldd "$pmpi" 2>/dev/null)" == *libasan* ]]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
  slow=4
fi
# one host, more ranks than cores; no output tag on the lines
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
# the launcher of the MPI that prime-mpi was built with: Open MPI's mpirun,
# or MPICH's mpiexec (Hydra: it runs more ranks than cores and runs as root
# without being asked); the variable that holds a rank's number
if ldd "$pmpi" 2>/dev/null | grep -q 'libmpich'; then
  launch=(mpiexec.mpich)
  rank_var=PMI_RANK
  echo "mpi: MPICH ($(command -v mpiexec.mpich))"
else
  launch=(mpirun "${root[@]}" --oversubscribe)
  rank_var=OMPI_COMM_WORLD_RANK
fi
mpi() { # NP ARGS...: prime-mpi search over NP ranks
  local np=$1
  shift
  timeout -k 10 $((300 * slow)) "${launch[@]}" -np "$np" "$pmpi" search "$@"
}
rank1_when() { # PID TICKS TEST: once TEST succeeds (checked every 10 ms, at most
  # TICKS x slow times), the pid of rank 1 among PID's descendants; "" if none
  local t p
  for t in $(seq 1 $(($2 * slow))); do
    if "$3"; then
      for p in $(descendants "$1"); do
        if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "$rank_var=1"; then
          echo "$p"
        fi
      done | tail -n 1
      return
    fi
    sleep 0.01
  done
}
descendants() { # PID: its children, their children, ...
  local c
  for c in $(pgrep -P "$1"); do
    echo "$c"
    descendants "$c"
  done
}
NPS=(1 2 3 4 7)

# ---- identity: prime-mpi search = prime search, byte for byte ----
# same NAME TAGS OUTCOMES NPS OPTIONS...: every NP, per class and whole
same() {
  local name=$1 tags=$2 outcomes=$3 nps=$4
  shift 4
  for whole in "" --whole-dataset; do
    "$prime" search --tags "$tags" --outcomes "$outcomes" $whole "$@" --output "$tmp/ref.json" ||
      { bad "$name $whole: prime search failed"; continue; }
    for np in $nps; do
      rm -f "$tmp/mpi.json"
      if mpi "$np" --tags "$tags" --outcomes "$outcomes" $whole "$@" --output "$tmp/mpi.json"; then
        cmp -s "$tmp/ref.json" "$tmp/mpi.json" && ok ||
          bad "$name $whole -np $np: differs from prime search"
      else
        bad "$name $whole -np $np: prime-mpi failed"
      fi
    done
  done
}

demo=$src/data/demo
same demo "$demo/tags.csv" "$demo/outcomes.csv" "${NPS[*]}"
same "demo min-size 20" "$demo/tags.csv" "$demo/outcomes.csv" "2 7" --min-size 20 --max-tags 3

# generated stores: 0/1 outcomes, then scores
python3 "$here/gen_store.py" "$tmp/g1" 1 12 300 60 8 || { echo "cannot generate"; exit 1; }
python3 "$here/gen_store.py" "$tmp/g2" 2 9 250 40 6 scores || { echo "cannot generate"; exit 1; }
"$prime" convert --tags "$tmp/g1/tags.csv" --output "$tmp/g1.prime" || bad "convert g1"
"$make_shards" "$tmp/g1.prime" 3 "$tmp/g1.prmd" || bad "make_shards g1"
"$make_shards" "$tmp/g2/tags.csv" 5 "$tmp/g2.prmd" || bad "make_shards g2"
# the helper's folder is the store (so the sharded runs compare with it)
"$prime" merge --output "$tmp/g1m.prime" "$tmp/g1.prmd" && cmp -s "$tmp/g1m.prime" "$tmp/g1.prime" &&
  ok || bad "make_shards: the merged folder is not the store"
same "g1 csv" "$tmp/g1/tags.csv" "$tmp/g1/outcomes.csv" "${NPS[*]}" --min-size 10
same "g1 sharded" "$tmp/g1.prmd" "$tmp/g1/outcomes.csv" "1 2 3 4 7" --min-size 10
same "g1 store" "$tmp/g1.prime" "$tmp/g1/outcomes.csv" "3" --min-size 10 --max-tags 3
same "g2 scores" "$tmp/g2/tags.csv" "$tmp/g2/outcomes.csv" "1 2 4 7" --min-size 8
same "g2 scores sharded" "$tmp/g2.prmd" "$tmp/g2/outcomes.csv" "3 7" --min-size 8
# binary outcomes bound to the store (every rank loads the whole store)
"$prime" convert --tags "$tmp/g1/tags.csv" --outcomes "$tmp/g1/outcomes.csv" \
  --outcomes-format bits --output "$tmp/g1b.prime" --outcomes-output "$tmp/g1.bits" &&
  cmp -s "$tmp/g1b.prime" "$tmp/g1.prime" && ok || bad "binary outcomes"
same "g1 sharded, binary outcomes" "$tmp/g1.prmd" "$tmp/g1.bits" "2 4" --min-size 10
# a binary store with binary outcomes (whole data set: each rank reads only
# its range of both files, prime_tagstore_open_part), bits and fixed point
same "g1 store, binary outcomes" "$tmp/g1.prime" "$tmp/g1.bits" "1 2 3 7" --min-size 10
"$prime" convert --tags "$tmp/g2/tags.csv" --outcomes "$tmp/g2/outcomes.csv" \
  --outcomes-format fixed --output "$tmp/g2.prime" --outcomes-output "$tmp/g2.fixed" &&
  ok || bad "convert g2"
same "g2 store, fixed-point outcomes" "$tmp/g2.prime" "$tmp/g2.fixed" "2 4 7" --min-size 8
same "g2 store, outcomes CSV" "$tmp/g2.prime" "$tmp/g2/outcomes.csv" "3" --min-size 8
# per class from a binary store with binary outcomes, each rank reads only
# the classes it searches (prime_mpi_search_file, prime_class_reader_read):
# a store sorted by class (one run a class) and one whose images are
# shuffled (the class index lists each class's images), bits and f64
same_classes() { # NAME TAGS OUTCOMES NPS OPTIONS...: per class only, every NP
  local name=$1 tags=$2 outcomes=$3 nps=$4
  shift 4
  "$prime" search --tags "$tags" --outcomes "$outcomes" "$@" --output "$tmp/ref.json" ||
    { bad "$name: prime search failed"; return; }
  for np in $nps; do
    rm -f "$tmp/mpi.json"
    if mpi "$np" --tags "$tags" --outcomes "$outcomes" "$@" --output "$tmp/mpi.json"; then
      cmp -s "$tmp/ref.json" "$tmp/mpi.json" && ok || bad "$name -np $np: differs from prime search"
    else
      bad "$name -np $np: prime-mpi failed"
    fi
  done
}
same_classes "g1 store by classes" "$tmp/g1.prime" "$tmp/g1.bits" "${NPS[*]}" --min-size 10
{ head -n 1 "$tmp/g1/tags.csv"; tail -n +2 "$tmp/g1/tags.csv" | shuf --random-source=<(yes); } \
  > "$tmp/g1s.csv"
"$prime" convert --tags "$tmp/g1s.csv" --outcomes "$tmp/g1/outcomes.csv" --outcomes-format f64 \
  --output "$tmp/g1s.prime" --outcomes-output "$tmp/g1s.f64" && ok || bad "convert shuffled g1"
same_classes "g1 shuffled store by classes" "$tmp/g1s.prime" "$tmp/g1s.f64" "${NPS[*]}" \
  --min-size 10 --max-tags 3
same_classes "g2 store by classes, scores" "$tmp/g2.prime" "$tmp/g2.fixed" "1 3 7" --min-size 8 \
  --threads 2
# its checkpoint: a rerun with other ranks resumes the classes saved (some
# removed as if the run had stopped) and writes the same result
co=(--tags "$tmp/g1s.prime" --outcomes "$tmp/g1s.f64" --min-size 10)
"$prime" search "${co[@]}" --output "$tmp/ref.json"
mpi 2 "${co[@]}" --checkpoint "$tmp/cck" --output "$tmp/c1.json" && cmp -s "$tmp/ref.json" "$tmp/c1.json" &&
  ok || bad "by classes with a checkpoint differs"
ls "$tmp/cck" | grep '^class-.*\.part$' | head -n 5 | while read -r f; do rm -f "$tmp/cck/$f"; done
mpi 3 "${co[@]}" --checkpoint "$tmp/cck" --progress --output "$tmp/c2.json" 2> "$tmp/err" &&
  cmp -s "$tmp/ref.json" "$tmp/c2.json" && grep -q 'classes resumed from' "$tmp/err" && ok ||
  bad "by classes: the resumed run differs or did not resume"
# the same files with other outcomes: the checkpoint is of another run
"$prime" convert --tags "$tmp/g1s.csv" --outcomes "$tmp/g1/outcomes.csv" --outcomes-format bits \
  --output "$tmp/g1s2.prime" --outcomes-output "$tmp/g1s.bits" && cmp -s "$tmp/g1s.prime" "$tmp/g1s2.prime" ||
  bad "convert shuffled g1 (bits)"
mpi 2 --tags "$tmp/g1s.prime" --outcomes "$tmp/g1s.bits" --min-size 10 --checkpoint "$tmp/cck" \
  --output "$tmp/none.json" 2> "$tmp/err"
[ $? -eq 0 ] && ok || bad "by classes: the same outcomes as bits refused" # the same values
sed 's/,1$/,X/; s/,0$/,1/; s/,X$/,0/' "$tmp/g1/outcomes.csv" > "$tmp/g1flip.csv"
"$prime" convert --tags "$tmp/g1s.csv" --outcomes "$tmp/g1flip.csv" --outcomes-format bits \
  --output "$tmp/g1s3.prime" --outcomes-output "$tmp/g1flip.bits" || bad "convert flipped"
rm -f "$tmp/none.json"
mpi 2 --tags "$tmp/g1s.prime" --outcomes "$tmp/g1flip.bits" --min-size 10 --checkpoint "$tmp/cck" \
  --output "$tmp/none.json" 2> "$tmp/err"
[ $? -ne 0 ] && [ ! -e "$tmp/none.json" ] && grep -q 'another run' "$tmp/err" && ok ||
  bad "by classes: a checkpoint of other outcomes was not refused"
# outcomes of another store: refused on every rank, no output (per class too)
mpi 3 --tags "$tmp/g2.prime" --outcomes "$tmp/g1.bits" --output "$tmp/none.json" 2> "$tmp/err"
[ $? -ne 0 ] && [ ! -e "$tmp/none.json" ] && grep -q 'another' "$tmp/err" && ok ||
  bad "by classes: binary outcomes of another store: refusal expected"
# outcomes of another store: refused on every rank, no output
mpi 3 --whole-dataset --tags "$tmp/g2.prime" --outcomes "$tmp/g1.bits" --output "$tmp/none.json" \
  2> "$tmp/err"
[ $? -ne 0 ] && [ ! -e "$tmp/none.json" ] && grep -q 'another' "$tmp/err" && ok ||
  bad "binary outcomes of another store: refusal expected"
# --fold-equal, per class and whole data set
same "g1 fold-equal" "$tmp/g1/tags.csv" "$tmp/g1/outcomes.csv" "2 4" --min-size 10 --fold-equal
# threads per rank, other formats, stdout
same "g1 threads 2" "$tmp/g1/tags.csv" "$tmp/g1/outcomes.csv" "2" --min-size 10 --threads 2
for fmt in csv text; do
  "$prime" search --tags "$tmp/g1/tags.csv" --outcomes "$tmp/g1/outcomes.csv" --min-size 10 \
    --format $fmt --output "$tmp/ref.$fmt"
  mpi 3 --tags "$tmp/g1/tags.csv" --outcomes "$tmp/g1/outcomes.csv" --min-size 10 \
    --format $fmt --output "$tmp/mpi.$fmt" && cmp -s "$tmp/ref.$fmt" "$tmp/mpi.$fmt" && ok ||
    bad "--format $fmt differs"
done
"$prime" search --tags "$demo/tags.csv" --outcomes "$demo/outcomes.csv" > "$tmp/ref.out"
mpi 4 --tags "$demo/tags.csv" --outcomes "$demo/outcomes.csv" > "$tmp/mpi.out" &&
  cmp -s "$tmp/ref.out" "$tmp/mpi.out" && ok || bad "stdout differs"

# ---- errors: a message from rank 0 only, the status, no output ----
rm -f "$tmp/none.json"
mpi 3 --tags "$tmp/missing.csv" --outcomes "$demo/outcomes.csv" --output "$tmp/none.json" \
  2> "$tmp/err"
rc=$?
[ $rc -ne 0 ] && [ ! -e "$tmp/none.json" ] && ok || bad "missing tags file: rc $rc"
[ "$(grep -c 'missing.csv' "$tmp/err")" -eq 1 ] && ok ||
  { bad "missing tags file: one message expected"; cat "$tmp/err"; }
printf 'image,correct\nimg0000001,1\n' > "$tmp/short.csv" # outcomes of one image only
mpi 2 --whole-dataset --tags "$tmp/g1.prmd" --outcomes "$tmp/short.csv" --output "$tmp/none.json" \
  2> "$tmp/err"
[ $? -ne 0 ] && [ ! -e "$tmp/none.json" ] && grep -q 'prime-mpi: ' "$tmp/err" && ok ||
  bad "outcomes missing in a sharded run: failure expected"
mpi 2 --tags "$demo/tags.csv" --outcomes "$demo/outcomes.csv" --bogus 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "Try 'prime-mpi --help'" "$tmp/err" && ok || bad "unknown option"
mpi 2 --tags "$demo/tags.csv" --outcomes "$demo/outcomes.csv" --min-size nope 2> "$tmp/err"
[ $? -eq 2 ] && ok || bad "bad usage: status 2 expected"
[ "$(grep -c 'min-size' "$tmp/err")" -eq 1 ] && ok || bad "bad usage: one message expected"
echo keep > "$tmp/kept.json"
mpi 2 --tags "$demo/tags.csv" --outcomes "$tmp/missing.csv" --output "$tmp/kept.json" 2>/dev/null
[ $? -ne 0 ] && [ "$(cat "$tmp/kept.json")" = keep ] && ok || bad "a failed run changed its output"
"$pmpi" --help | grep -q -- '--checkpoint' && ok || bad "--help"

# ---- a rank killed in the middle; the rerun resumes from the checkpoint ----
# a store whose per-class search takes a few seconds on one thread
python3 "$here/gen_store.py" "$tmp/big" 3 60 2000 150 26 || { echo "cannot generate"; exit 1; }
opts=(--tags "$tmp/big/tags.csv" --outcomes "$tmp/big/outcomes.csv" --min-size 10
      --min-gain 0,0.25,0.25,0.25 --threads 1)
"$prime" search "${opts[@]}" --output "$tmp/big-ref.json" || bad "prime search of big"
ck=$tmp/ck
"${launch[@]}" -np 3 "$pmpi" search "${opts[@]}" --checkpoint "$ck" \
  --output "$tmp/big.json" 2> "$tmp/kill.err" &
mp=$!
saved_classes() { [ "$(ls "$ck" 2>/dev/null | grep -c '^class-.*\.part$')" -ge 3 ]; }
victim=$(rank1_when "$mp" 3000 saved_classes) # up to 30 s: a few classes saved
if [ -n "$victim" ]; then
  kill -9 "$victim"
  wait "$mp"
  rc=$?
  [ $rc -ne 0 ] && ok || bad "a killed rank: mpirun exited 0"
  [ ! -e "$tmp/big.json" ] && ok || bad "a killed rank: an output was written"
  ls "$tmp" | grep -q '^big\.json.' && bad "a killed rank: a temporary output was left" || ok
  saved=$(ls "$ck" | grep -c '^class-.*\.part$')
  [ "$saved" -ge 3 ] && [ "$saved" -lt 60 ] && ok || bad "checkpoint: $saved classes saved"
  # the rerun resumes (another rank count is fine) and writes the uninterrupted result
  mpi 2 "${opts[@]}" --checkpoint "$ck" --progress --output "$tmp/big.json" 2> "$tmp/resume.err"
  [ $? -eq 0 ] && ok || { bad "rerun with the checkpoint failed"; cat "$tmp/resume.err"; }
  grep -q 'classes resumed from' "$tmp/resume.err" && ok || bad "the rerun did not resume"
  grep -q 'searched 60/60 classes' "$tmp/resume.err" && ok || bad "progress lines on rank 0"
  cmp -s "$tmp/big.json" "$tmp/big-ref.json" && ok || bad "the resumed run differs"
  # uninterrupted, no checkpoint: the same
  mpi 4 "${opts[@]}" --output "$tmp/big4.json" && cmp -s "$tmp/big4.json" "$tmp/big-ref.json" &&
    ok || bad "-np 4 on the big store differs"
  # a rerun once everything is saved searches nothing and gives the same
  mpi 3 "${opts[@]}" --checkpoint "$ck" --output "$tmp/big3.json" &&
    cmp -s "$tmp/big3.json" "$tmp/big-ref.json" && ok || bad "a complete checkpoint"
  # the folder of another run: other outcomes, other parameters
  sed 's/,1$/,X/; s/,0$/,1/; s/,X$/,0/' "$tmp/big/outcomes.csv" > "$tmp/flip.csv"
  mpi 2 --tags "$tmp/big/tags.csv" --outcomes "$tmp/flip.csv" --min-size 10 --checkpoint "$ck" \
    --output "$tmp/none.json" 2> "$tmp/err"
  [ $? -ne 0 ] && [ ! -e "$tmp/none.json" ] && grep -q 'another run' "$tmp/err" && ok ||
    bad "a checkpoint of other outcomes was not refused"
  mpi 2 --tags "$tmp/big/tags.csv" --outcomes "$tmp/big/outcomes.csv" --min-size 11 \
    --checkpoint "$ck" --output "$tmp/none.json" 2> "$tmp/err"
  [ $? -ne 0 ] && [ ! -e "$tmp/none.json" ] && ok ||
    bad "a checkpoint of other parameters was not refused"
else
  wait "$mp"
  bad "kill test: no rank to kill (the run ended before 3 classes were saved, or no pid)"
fi

# ---- whole data set: a rank killed after a level; the rerun resumes ----
wopts=(--tags "$tmp/big/tags.csv" --outcomes "$tmp/big/outcomes.csv" --whole-dataset
       --min-size 100 --max-tags 4 --threads 1)
"$prime" search "${wopts[@]}" --output "$tmp/wbig-ref.json" || bad "prime search of big, whole"
wck=$tmp/wck
"${launch[@]}" -np 3 "$pmpi" search "${wopts[@]}" --checkpoint "$wck" --output "$tmp/wbig.json" \
  2> "$tmp/wkill.err" &
mp=$!
state_saved() { [ -e "$wck/whole.state" ]; }
victim=$(rank1_when "$mp" 6000 state_saved) # up to 60 s: the state after level 1
if [ -n "$victim" ]; then
  kill -9 "$victim"
  wait "$mp"
  rc=$?
  [ $rc -ne 0 ] && ok || bad "whole, a killed rank: mpirun exited 0"
  [ ! -e "$tmp/wbig.json" ] && ok || bad "whole, a killed rank: an output was written"
  ls "$tmp" | grep -q '^wbig\.json.' && bad "whole, a killed rank: a temporary output was left" ||
    ok
  [ -s "$wck/whole.state" ] && ok || bad "whole: no state saved"
  ls "$wck" | grep -v '^whole\.state$' | grep -q . && bad "whole: a temporary state was left" ||
    ok
  # other parameters: the state is refused, nothing written
  mpi 2 "${wopts[@]}" --min-size 101 --checkpoint "$wck" --output "$tmp/none.json" 2> "$tmp/err"
  [ $? -ne 0 ] && [ ! -e "$tmp/none.json" ] && grep -q 'other parameters' "$tmp/err" && ok ||
    bad "whole: a state of other parameters was not refused"
  # the rerun (another rank count) resumes and writes the uninterrupted result
  mpi 2 "${wopts[@]}" --checkpoint "$wck" --progress --output "$tmp/wbig.json" \
    2> "$tmp/wresume.err"
  [ $? -eq 0 ] && ok || { bad "whole: rerun with the checkpoint failed"; cat "$tmp/wresume.err"; }
  grep -q 'resumed from' "$tmp/wresume.err" && ok || bad "whole: the rerun did not resume"
  cmp -s "$tmp/wbig.json" "$tmp/wbig-ref.json" && ok || bad "whole: the resumed run differs"
  # once complete: a rerun resumes after the last level, the same result
  mpi 3 "${wopts[@]}" --checkpoint "$wck" --output "$tmp/wbig3.json" &&
    cmp -s "$tmp/wbig3.json" "$tmp/wbig-ref.json" && ok || bad "whole: a complete checkpoint"
else
  wait "$mp"
  bad "whole kill test: no rank to kill (no state saved, or no pid)"
fi

echo "mpi: $passes passed, $fails failed"
[ $fails -eq 0 ]
