# Check helpers shared by tests/cli/cli_test.sh and tests/cli_torch/cli_torch_test.sh.
# Source it after setting $tmp (a scratch folder); it counts in $pass and $fail.
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect STATUS DESCRIPTION -- command...: runs the command, checks its exit status
expect() {
  local want=$1 what=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, wanted $want; stderr: $(cat "$tmp/err")"; fi
}
# err_has TEXT DESCRIPTION: the last command's stderr holds TEXT
err_has() {
  if grep -qF -- "$1" "$tmp/err"; then ok; else bad "$2: stderr lacks '$1': $(cat "$tmp/err")"; fi
}
same() { # same FILE1 FILE2 DESCRIPTION
  if cmp -s "$1" "$2"; then ok; else bad "$3: output differs"; diff "$1" "$2" | head -20; fi
}
