# Sourced by scripts/build-deb.sh (DESKPHONE_CROSS=image/cross-env.sh) to build
# the native parts for arm64 on an amd64 machine: Debian's gcc-aarch64-linux-gnu,
# Node's headers from the arm64 Node (node-gyp --arch=arm64 through npm_config_*),
# and libasound from an arm64 root file system (the image's own) to link against.
#   DESKPHONE_CROSS_SYSROOT  an arm64 root with usr/lib/aarch64-linux-gnu/libasound.so.2
#   DESKPHONE_CROSS_NODEDIR  the arm64 Node's directory (include/node)
: "${DESKPHONE_CROSS_SYSROOT:?the arm64 root to link against}" "${DESKPHONE_CROSS_NODEDIR:?the arm64 Node}"
cross_lib=$(mktemp -d)
cross_inc=$(mktemp -d)
ln -s "$DESKPHONE_CROSS_SYSROOT/usr/lib/aarch64-linux-gnu/libasound.so.2" "$cross_lib/libasound.so"
# libasound2-dev's headers are the same on every architecture (Multi-Arch: same).
ln -s /usr/include/alsa "$cross_inc/alsa"
export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar
export CFLAGS="-isystem $cross_inc" CXXFLAGS="-isystem $cross_inc"
export LDFLAGS="-L$cross_lib -Wl,-rpath-link,$DESKPHONE_CROSS_SYSROOT/usr/lib/aarch64-linux-gnu"
export npm_config_arch=arm64 npm_config_nodedir=$DESKPHONE_CROSS_NODEDIR
