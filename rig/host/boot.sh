#!/usr/bin/env bash
# One boot of the guest under QEMU (software emulation: no KVM here): the
# cached kernel and initrd, the root file system through a copy-on-write
# overlay, the run disk second. Serial port 0 is the console transcript,
# serial port 1 the phase's step lines. Killed (by its PID) past the timeout.
# Serial port 2 takes the guest's journal at the end of the phase.
#   boot.sh GUEST_DIR OVERLAY RUN_IMG PHASE TIMEOUT_S CONSOLE_LOG STEPS_LOG [TARGET]
set -euo pipefail
guest=$1 overlay=$2 run_img=$3 phase=$4 timeout_s=$5 console=$6 steps=$7 target=${8:-}
append="console=ttyS0,115200 root=/dev/vda rw rig.phase=$phase panic=5 mitigations=off"
append+=" systemd.show_status=true loglevel=4 ${target:+systemd.unit=$target}"
qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp "${DESKPHONE_RIG_CPUS:-2}" -m 2048 \
  -display none -monitor none -no-reboot -nic none \
  -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" -append "$append" \
  -drive "file=$overlay,if=virtio,format=qcow2" \
  -drive "file=$run_img,if=virtio,format=raw" \
  -serial "file:$console" -serial "file:$steps" -serial "file:${steps%-steps.log}-journal.log" &
pid=$!
for ((i = 0; i < timeout_s; i++)); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
if kill -0 "$pid" 2>/dev/null; then
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  echo "RIG-STEP FAIL $phase boot: no power-off within ${timeout_s} s (QEMU $pid killed)" >> "$steps"
  exit 1
fi
wait "$pid"
