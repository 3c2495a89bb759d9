#!/usr/bin/env bash
# Checks that every tracked C++ file (*.cc, *.h) is formatted as
# .clang-format says (clang-format 14, Debian's clang-format-14); prints the
# files that are not and fails. With --fix, formats them in place instead
# (all of them, or those under the given paths).
# Usage: scripts/format_check.sh [--fix [PATH...]]
set -euo pipefail
cd "$(dirname "$0")/.."
fix=0
case "${1:-}" in
  "") ;;
  --fix) fix=1; shift ;;
  *) echo "usage: $0 [--fix [PATH...]]" >&2; exit 2 ;;
esac

clang_format=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$clang_format" ]; then
  echo "format_check: clang-format-14 not found (scripts/bootstrap.sh)" >&2
  exit 2
fi

mapfile -d '' files < <(git ls-files -z -- "${@:-.}" |
  grep -z -E '\.(cc|h)$')
if [ "$fix" -eq 1 ]; then
  printf '%s\0' "${files[@]}" | xargs -0 -r -n 50 "$clang_format" -i
  exit 0
fi

# One clang-format for all files: it reports each badly formatted place as
# "FILE:LINE:COL: error: code should be clang-formatted".
report=$(printf '%s\0' "${files[@]}" |
  xargs -0 -r "$clang_format" --dry-run -Werror 2>&1 >/dev/null) || true
mapfile -t bad < <(grep -E '^[^ :]+:[0-9]+:[0-9]+: error:' <<<"$report" |
  cut -d: -f1 | sort -u)
if [ ${#bad[@]} -eq 0 ] && [ -n "$report" ]; then
  echo "$report" >&2  # clang-format failed for another reason
  exit 2
fi
if [ ${#bad[@]} -ne 0 ]; then
  echo "format_check: ${#bad[@]} file(s) not formatted as .clang-format says:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "format_check: run scripts/format_check.sh --fix" >&2
  exit 1
fi
echo "format_check: ${#files[@]} files formatted"
