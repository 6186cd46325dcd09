#!/bin/sh
# The phone's simulated body, before the phone starts (rig-hardware.service):
# a gpio-sim chip labelled like a Pi 4's (pinctrl-bcm2711, lines GPIO0…GPIO27,
# docs/wiring.md), the hook switch on GPIO17 pulled up (on-hook: the switch is
# open), the TCA8418's INT on GPIO4 pulled up (released: INT is open-drain,
# active-low), and the i2c-stub bus that holds the TCA8418 (0x34) and PCA9532 (0x60).
# Writes what it made to /run/rig/hardware.env.
set -eu
cfs=/sys/kernel/config/gpio-sim/phone
if [ ! -d "$cfs" ]; then
  mkdir "$cfs" "$cfs/gpio-bank0"
  echo 28 > "$cfs/gpio-bank0/num_lines"
  echo pinctrl-bcm2711 > "$cfs/gpio-bank0/label"
  i=0
  while [ $i -lt 28 ]; do
    mkdir "$cfs/gpio-bank0/line$i"
    echo "GPIO$i" > "$cfs/gpio-bank0/line$i/name"
    i=$((i + 1))
  done
  echo 1 > "$cfs/live"
fi
dev=$(cat "$cfs/dev_name")
chip=$(cat "$cfs/gpio-bank0/chip_name")
dir=/sys/devices/platform/$dev/$chip
echo pull-up > "$dir/sim_gpio17/pull"
echo pull-up > "$dir/sim_gpio4/pull"
bus=""
for d in /sys/bus/i2c/devices/i2c-*; do
  [ "$(cat "$d/name")" = "SMBus stub driver" ] && bus=${d##*/i2c-}
done
[ -n "$bus" ] || { echo "hardware: no i2c-stub bus" >&2; exit 1; }
mkdir -p /run/rig
cat > /run/rig/hardware.env <<ENV
RIG_GPIO_CHIP=pinctrl-bcm2711
RIG_GPIO_DEV=/dev/$chip
RIG_GPIO_SIM_DIR=$dir
RIG_I2C_BUS=$bus
ENV
# 60-rig-phone.rules give the gpio and i2c groups the devices (udev's event for them).
udevadm settle -t 20 || true
echo "hardware: $chip ($dir), i2c-stub on bus $bus"
