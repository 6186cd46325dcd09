#!/bin/sh
# image:boot, inside the emulated phone, once deskphone.service is up: checks
# the first boot, READY, the emergency ring on snd-aloop, then powers off.
# One "smoke: PASS|FAIL ..." line per check on the console.
s=/run/smoke
pass=0 fail=0
ok() { echo "smoke: PASS $*"; pass=$((pass + 1)); }
bad() { echo "smoke: FAIL $*"; fail=$((fail + 1)); }
check() { what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# What Node does here, for the transcript (not counted).
diag() { out=$("$@" 2>&1); rc=$?; echo "smoke: diag: $* -> rc=$rc $(echo "$out" | tail -3 | tr '\n' ' ')"; }
diag node -e 'console.log(process.arch, process.version)'
diag /usr/bin/deskphone --version
diag /usr/bin/deskphone check-config --config /etc/deskphone/config.yaml
cache=$(ls /usr/lib/deskphone/build/*.cache 2>/dev/null | head -1)
if [ -n "$cache" ]; then
  mv "$cache" /run/code.cache
  diag /usr/bin/deskphone check-config --config /etc/deskphone/config.yaml
  mv /run/code.cache "$cache"
fi
modes=$(stat -c '%U:%G %a' /etc/deskphone/config.yaml /etc/deskphone/password 2>/dev/null | tr '\n' ' ')
check "first boot: config and password moved from the boot partition ($modes)" \
  test "$modes" = "root:deskphone 640 deskphone:deskphone 600 " -a ! -e /boot/firmware/deskphone.yaml -a ! -e /boot/firmware/deskphone-password
check "first boot: hostname from the MAC ($(hostname))" sh -c 'hostname | grep -Eq "^deskphone-[0-9a-f]{6}$"'
check "first boot: check-config passed" sh -c 'journalctl -b -u deskphone-firstboot --no-pager | grep -q "config valid"'
check "SSH off (not asked for), no host keys" sh -c '! systemctl is-active -q ssh && ! ls /etc/ssh/ssh_host_* >/dev/null 2>&1'
check "no password to log in with (root locked)" sh -c 'passwd -S root | grep -q " L "'
check "root file system: ext4 data=journal" sh -c 'grep -q "^data=journal" /proc/fs/ext4/$(basename $(findmnt -no SOURCE /))/options'
state=$(systemctl show -p ActiveState --value deskphone)
status=$(systemctl show -p StatusText --value deskphone)
check "deskphone READY ($state: $status)" sh -c "[ '$state' = active ] && echo '$status' | grep -q registered"

rate=16000
arecord -q -D plughw:Loopback,1,0 -f S16_LE -r $rate -c 1 -t raw -d 9 /run/ring.raw &
rec=$!
sleep 1
node $s/invite.mjs 8 && ok "emergency INVITE rang the phone (180)" || bad "emergency INVITE rang the phone (180)"
wait $rec
c=$(node $s/cadence.mjs /run/ring.raw $rate) && ok "$c" || bad "$c"
journalctl -b -u deskphone --no-pager -o cat | grep -i -m3 "emergency" | sed 's/^/smoke: phone log: /'
[ "$fail" = 0 ] || journalctl -b -u deskphone -u deskphone-firstboot --no-pager -o cat | tail -25 | sed 's/^/smoke: journal: /'
echo "smoke: $pass passed, $fail failed"
echo "smoke: powering off"
systemctl poweroff
