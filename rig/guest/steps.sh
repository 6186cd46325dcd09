# Step lines for the host (sourced): "RIG-STEP ok|FAIL name: detail" and
# "RIG-FIGURE name: value"; rig/host/report.sh counts them.
step() { # step NAME COMMAND... : runs it, the last line of its output is the detail
  name=$1; shift
  local t0=$SECONDS
  if out=$("$@" 2>&1); then echo "RIG-STEP ok $name: $(printf '%s' "$out" | tail -n 1) ($((SECONDS - t0)) s)"
  else echo "RIG-STEP FAIL $name: $(printf '%s' "$out" | tail -n 5 | tr '\n' ' ') ($((SECONDS - t0)) s)"; fi
}
figure() { echo "RIG-FIGURE $1: $2"; }
