#!/bin/bash
# The install boot (rig.phase=install, rig-install.target): deskphone's .deb
# installed as docs/install.md says (apt on the package file, systemd running),
# the rig's sound config, udev rules and units; then the HAL contract suite
# against gpio-sim and i2c-stub, while no phone holds the lines.
. /rig/repo/rig/guest/steps.sh
exec 3>&1  # lines a step shows besides its own
figure "install boot" "phase started $(cut -d' ' -f1 /proc/uptime) s after the kernel"
guest=/rig/repo/rig/guest
install_deb() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q /rig/debs/deskphone_*.deb >/tmp/apt.log 2>&1 \
    || { cat /tmp/apt.log; return 1; }
  dpkg-query -W -f='${Package} ${Version} ${db:Status-Status}\n' deskphone
}
step "install the .deb (apt install ./deskphone_*.deb)" install_deb
enabled() { [ "$(systemctl is-enabled deskphone.service)" = enabled ] && echo "deskphone.service enabled by the package"; }
step "the package enabled its unit" enabled
rig_config() {
  install -m 644 "$guest/asound.conf" /etc/asound.conf
  install -m 644 "$guest/60-rig-phone.rules" /etc/udev/rules.d/
  install -m 644 "$guest"/units/*.service /etc/systemd/system/
  install -D -m 644 "$guest/units/deskphone.service.d/rig-emulation.conf" \
    /etc/systemd/system/deskphone.service.d/rig-emulation.conf
  systemctl daemon-reload
  systemctl enable rig-hardware.service rig-exchange.service 2>&1
  udevadm control --reload
  udevadm trigger --subsystem-match=gpio --subsystem-match=i2c-dev
  udevadm settle
  echo "asound.conf, udev rules, rig-hardware and rig-exchange in place"
}
step "rig configuration" rig_config
hal_suite() {
  systemctl start rig-hardware.service || return 1
  . /run/rig/hardware.env
  cd /rig/repo && DESKPHONE_GPIO_SIM_CHIP=$RIG_GPIO_CHIP DESKPHONE_GPIO_SIM_DIR=$RIG_GPIO_SIM_DIR \
    DESKPHONE_GPIO_SIM_HOOK=GPIO17 DESKPHONE_I2C_STUB_BUS=$RIG_I2C_BUS \
    node node_modules/vitest/vitest.mjs run --config rig/guest/vitest.rig.config.ts --reporter=verbose > /tmp/hal.log 2>&1
  rc=$?
  sed 's/\x1b\[[0-9;]*m//g' /tmp/hal.log > /tmp/hal.txt
  grep -E '✓|×|↓|skipped|Tests ' /tmp/hal.txt | sed 's/^/  /' >&3
  [ $rc -eq 0 ] || grep -v '^\s*$' /tmp/hal.txt | tail -n 25 | sed 's/^/  | /' >&3
  # Every test ran: none skipped for want of the simulated hardware.
  [ $rc -eq 0 ] && ! grep -E 'Tests .*(skipped|todo)' /tmp/hal.txt && grep 'Tests ' /tmp/hal.txt
}
step "HAL contract suite on gpio-sim and i2c-stub (test/hal/kernel-sim.test.ts)" hal_suite
journalctl -b --no-pager -o short-monotonic > /dev/ttyS2 2>&1
