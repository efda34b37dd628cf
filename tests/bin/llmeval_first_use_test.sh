#!/usr/bin/env bash
# bin/llmeval's first use, in a scratch checkout where bin/setup and bin/build are stand-ins (no
# apt, no CMake) that print a lot, as the real ones do, and succeed or fail:
#   - success: stderr has one line per step and nothing of the tools' output, which is in
#     build/first-use.log; stdout has only llmeval's output; stdin reaches llmeval untouched;
#   - later uses run the built binary at once: no step, no output of bin/llmeval's own, the
#     binary's exit code;
#   - a failing step: its exit code, the step marked failed, the log named with its last lines,
#     no later step, llmeval not run.
# Usage: tests/bin/llmeval_first_use_test.sh PROJECT_SOURCE_DIR
set -euo pipefail
src=${1:?usage: $0 PROJECT_SOURCE_DIR}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
expect_match() { # expect_match WHAT TEXT REGEX
  grep -Eq -- "$3" <<<"$2" || fail "$1: no line matches /$3/ in:"$'\n'"$2"
}
expect_no_match() {
  ! grep -Eq -- "$3" <<<"$2" || fail "$1: a line matches /$3/ in:"$'\n'"$2"
}
expect_equal() { # expect_equal WHAT ACTUAL EXPECTED
  [ "$2" = "$3" ] || fail "$1: got"$'\n'"$2"$'\n'"want"$'\n'"$3"
}

# checkout DIR SETUP_EXIT BUILD_EXIT: bin/llmeval as it is, and stand-in steps that record their
# calls in DIR/calls. The built "llmeval" prints its arguments and stdin, and exits $STUB_EXIT.
checkout() {
  local dir=$1
  mkdir -p "$dir/bin"
  cp "$src/bin/llmeval" "$dir/bin/llmeval"
  cat >"$dir/bin/setup" <<EOF
#!/usr/bin/env bash
echo setup >>"$dir/calls"
cat >/dev/null  # would swallow llmeval's stdin if the step got it
echo "Hit:1 http://deb.debian.org/debian bookworm InRelease"
for i in \$(seq 1 200); do echo "Setting up package-\$i (1.0-\$i) ..."; done
echo "bin/setup: all packages already installed" >&2
echo "setup: last line"
exit $2
EOF
  cat >"$dir/bin/build" <<EOF
#!/usr/bin/env bash
echo build >>"$dir/calls"
cd "$dir"
echo "-- The CXX compiler identification is GNU 12.2.0"
for i in \$(seq 1 300); do echo "[\$i/300] Building CXX object core/CMakeFiles/llmeval_core.dir/file_\$i.cpp.o"; done
if [ $3 -ne 0 ]; then
  echo "/src/core/runner/runner.cpp:42:7: error: expected ';' before '}' token" >&2
  echo "ninja: build stopped: subcommand failed." >&2
  exit $3
fi
mkdir -p build/cli
printf '%s\n' '#!/usr/bin/env bash' 'echo "llmeval-stub \$*"' 'echo "stdin: \$(cat)"' 'exit \${STUB_EXIT:-0}' >build/cli/llmeval
chmod +x build/cli/llmeval
EOF
  chmod +x "$dir/bin/setup" "$dir/bin/build"
}

run() { # run DIR ARGS...: sets out, err, status; stdin is "rows"
  local dir=$1
  shift
  status=0
  "$dir/bin/llmeval" "$@" <<<"rows" >"$scratch/out" 2>"$scratch/err" || status=$?
  out=$(cat "$scratch/out")
  err=$(cat "$scratch/err")
}

# --- first use, both steps succeed
ok="$scratch/ok"
checkout "$ok" 0 0
run "$ok" run data.jsonl -p sim
log="$ok/build/first-use.log"
expect_equal "first use: exit code" "$status" 0
expect_equal "first use: stdout (llmeval's output only)" "$out" "llmeval-stub run data.jsonl -p sim
stdin: rows"
expect_equal "first use: stderr, one line per step" "$(sed -E 's/\([0-9]+s\)$/(Ns)/' <<<"$err")" \
  "bin/llmeval: first use: installing what llmeval needs and building it (a few minutes; output in $log)
bin/llmeval: installing packages (bin/setup)... done (Ns)
bin/llmeval: configuring and building (bin/build)... done (Ns)"
expect_equal "first use: steps run" "$(cat "$ok/calls")" "setup
build"
if [ -f "$log" ]; then
  logged=$(cat "$log")
  expect_match "first use: log" "$logged" '^==> bin/llmeval: installing packages \(bin/setup\): '
  expect_match "first use: log" "$logged" '^Setting up package-200 '
  expect_match "first use: log" "$logged" '^bin/setup: all packages already installed$'
  expect_match "first use: log" "$logged" '^==> bin/llmeval: configuring and building \(bin/build\): '
  expect_match "first use: log" "$logged" '^\[300/300\] Building CXX'
else
  fail "first use: no log at $log"
fi

# --- later uses: the binary at once
run "$ok" report results.jsonl
expect_equal "later use: exit code" "$status" 0
expect_equal "later use: stderr" "$err" ""
expect_equal "later use: stdout" "$out" "llmeval-stub report results.jsonl
stdin: rows"
expect_equal "later use: steps run" "$(cat "$ok/calls")" "setup
build"
STUB_EXIT=3 run "$ok" run missing.jsonl
expect_equal "later use: llmeval's exit code" "$status" 3

# --- bin/build fails
bad="$scratch/bad-build"
checkout "$bad" 0 2
run "$bad" run data.jsonl
log="$bad/build/first-use.log"
expect_equal "failed build: exit code" "$status" 2
expect_equal "failed build: stdout" "$out" ""
expect_match "failed build" "$err" '^bin/llmeval: installing packages \(bin/setup\)\.\.\. done \([0-9]+s\)$'
expect_match "failed build" "$err" '^bin/llmeval: configuring and building \(bin/build\)\.\.\. failed \(exit 2, after [0-9]+s\)$'
expect_match "failed build: names the log" "$err" "^bin/llmeval: the full output is in $log; its last 25 lines:\$"
expect_match "failed build: the log's tail" "$err" "^  /src/core/runner/runner.cpp:42:7: error: expected ';' before '}' token\$"
expect_match "failed build: the log's tail" "$err" '^  ninja: build stopped: subcommand failed\.$'
expect_match "failed build: the log's tail" "$err" '^  \[300/300\] Building CXX'
expect_no_match "failed build: only the tail" "$err" '\[200/300\]|Setting up'
expect_equal "failed build: steps run" "$(cat "$bad/calls")" "setup
build"
expect_equal "failed build: lines on stderr" "$(wc -l <<<"$err")" 29

# --- bin/setup fails: no build
bad="$scratch/bad-setup"
checkout "$bad" 100 0
run "$bad" run data.jsonl
log="$bad/build/first-use.log"
expect_equal "failed setup: exit code" "$status" 100
expect_equal "failed setup: stdout" "$out" ""
expect_match "failed setup" "$err" '^bin/llmeval: installing packages \(bin/setup\)\.\.\. failed \(exit 100, after [0-9]+s\)$'
expect_match "failed setup: names the log" "$err" "^bin/llmeval: the full output is in $log; its last 25 lines:\$"
expect_match "failed setup: the log's tail" "$err" '^  setup: last line$'
expect_no_match "failed setup: no build" "$err" 'configuring and building'
expect_equal "failed setup: steps run" "$(cat "$bad/calls")" "setup"

# --- after a failure, the next use starts over: the steps run again, with a fresh log
checkout "$bad" 0 0
run "$bad" run data.jsonl
expect_equal "retry after a failure: exit code" "$status" 0
expect_equal "retry after a failure: a fresh log" "$(grep -c '^==> bin/llmeval: installing packages' "$log")" 1
expect_equal "retry after a failure: steps run" "$(cat "$bad/calls")" "setup
setup
build"

if [ "$failures" -ne 0 ]; then
  echo "llmeval_first_use: $failures check(s) failed" >&2
  exit 1
fi
echo "llmeval_first_use: all checks passed"
