#!/usr/bin/env bash
# mmdebstrap customize hook: the guest boots only what the phone and the rig
# need — no getty, no timers, the distribution's Kamailio off (the rig runs the
# lab exchange from the repository), the run disk mounted at /rig, the
# rig-stage unit enabled.
#   trim.sh ROOTFS
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
echo deskphone-rig > "$root/etc/hostname"
printf '127.0.0.1 localhost deskphone-rig\n::1 localhost\n' > "$root/etc/hosts"
printf '/dev/vda / ext4 rw,noatime 0 1\nLABEL=rigrun /rig ext4 rw,noatime 0 2\n' > "$root/etc/fstab"
mkdir -p "$root/rig"
install -m 644 "$here/rig-stage.service" "$here/rig-install.target" "$root/etc/systemd/system/"
install -m 755 "$here/rig-stage" "$root/usr/local/sbin/rig-stage"
chroot "$root" systemctl enable rig-stage.service >/dev/null 2>&1
chroot "$root" systemctl disable kamailio.service >/dev/null 2>&1 || true
for u in getty@tty1.service serial-getty@ttyS0.service serial-getty@ttyS1.service \
  apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
  man-db.timer dpkg-db-backup.timer logrotate.timer systemd-timesyncd.service \
  kamailio.service systemd-tmpfiles-clean.timer console-getty.service; do
  chroot "$root" systemctl mask "$u" >/dev/null 2>&1 || true
done
# The rig's own modules, loaded at boot (options in rig/guest, read per run).
printf 'snd-aloop\ni2c-stub\ni2c-dev\ngpio-sim\n' > "$root/etc/modules-load.d/rig.conf"
printf 'options snd-aloop index=0 id=Loopback pcm_substreams=8\noptions i2c-stub chip_addr=0x34,0x60\n' \
  > "$root/etc/modprobe.d/rig.conf"
