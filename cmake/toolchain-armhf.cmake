# Cross build for 32-bit Raspberry Pi OS (armhf).
# Needs gcc-arm-linux-gnueabihf and the armhf -dev libraries
# (ops/cross-setup armhf installs them with dpkg --add-architecture).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
# "/" too: multiarch libraries live in /usr/lib/arm-linux-gnueabihf and
# ldns in /opt/zond-cross/armhf (ops/cross-setup)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} /opt/zond-cross/armhf/usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} /)
# No "-L /usr/arm-linux-gnueabihf": the binaries link the multiarch libraries
# (libc6 of the target architecture, /lib/arm-linux-gnueabihf), and the cross
# toolchain's loader in /usr/arm-linux-gnueabihf is another glibc build; mixed,
# the first pthread_create spins for ever under qemu-user.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm-static)
