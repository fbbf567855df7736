# Cross build for 64-bit Raspberry Pi OS / Debian arm64.
# Needs gcc-aarch64-linux-gnu and the arm64 -dev libraries
# (ops/cross-setup arm64 installs them with dpkg --add-architecture).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# "/" too: multiarch libraries live in /usr/lib/aarch64-linux-gnu and ldns
# in /opt/zond-cross/arm64 (ops/cross-setup)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} /opt/zond-cross/arm64/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} /)
# No "-L /usr/aarch64-linux-gnu": the binaries link the multiarch libraries
# (libc6 of the target architecture, /lib/aarch64-linux-gnu), and the cross
# toolchain's loader in /usr/aarch64-linux-gnu is another glibc build; mixed,
# the first pthread_create spins for ever under qemu-user.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
