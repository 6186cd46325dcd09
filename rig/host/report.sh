#!/usr/bin/env bash
# Prints the steps of each phase log (RIG-STEP / RIG-FIGURE / indented lines),
# a phase that did not reach its end as a failure, and "N passed, N failed";
# exits 1 on any failure.
set -uo pipefail
passed=0 failed=0
for log in "$@"; do
  phase=$(basename "$log" -steps.log)
  if [ ! -s "$log" ]; then echo "FAIL $phase: no step lines (see ${log%-steps.log}-console.log)"; failed=$((failed + 1)); continue; fi
  while IFS= read -r line; do
    line=${line%$'\r'}
    case "$line" in
      "RIG-STEP ok "*) echo "ok   ${line#RIG-STEP ok }"; passed=$((passed + 1)) ;;
      "RIG-STEP FAIL "*) echo "FAIL ${line#RIG-STEP FAIL }"; failed=$((failed + 1)) ;;
      "RIG-FIGURE "*) echo "     figure: ${line#RIG-FIGURE }" ;;
      "RIG-END "*) ;;
      "  "*) echo "  $line" ;;
    esac
  done < "$log"
  end=$(grep -a -m1 "^RIG-END $phase" "$log" | tr -d '\r')
  if [ -z "$end" ]; then
    echo "FAIL $phase: the phase did not finish (see ${log%-steps.log}-console.log)"; failed=$((failed + 1))
  elif [ "$end" != "RIG-END $phase rc=0" ]; then
    echo "FAIL $phase: its script broke off (${end#RIG-END }; see ${log%-steps.log}-console.log)"; failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
