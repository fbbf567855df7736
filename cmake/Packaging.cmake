# Install rules and the Debian packages (CPack DEB, one package per
# program): zond-agent (every architecture), zond-aggregator, zond-helper
# and zondctl (not with ZOND_AGENT_ONLY).  ops/package ARCH OUTDIR drives
# it.  Maintainer scripts, units and config templates live in packaging/;
# README "Packages" and docs/OPERATIONS.md "Packages and services" say what
# each package holds and does.
include(GNUInstallDirs)
set(ZOND_PKG ${CMAKE_SOURCE_DIR}/packaging)
# bookworm's systemd and lintian expect units in /lib, not /usr/lib
set(ZOND_UNITDIR /lib/systemd/system)

# Version: project VERSION, then the commit count and git describe, so a
# later commit always sorts higher for dpkg ("0.1.0+git271.g2aacaa3").
# ops/package may pass ZOND_PKG_VERSION to override (the upgrade test).
execute_process(COMMAND git rev-list --count HEAD
                WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE _zcount OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
execute_process(COMMAND git describe --always --dirty --abbrev=7
                WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE _zdesc OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(_zcount AND _zdesc)
  string(REPLACE "-" "." _zdesc "${_zdesc}")
  set(_zver "${PROJECT_VERSION}+git${_zcount}.g${_zdesc}")
else()
  set(_zver "${PROJECT_VERSION}")
endif()
set(ZOND_PKG_VERSION "${_zver}" CACHE STRING "Debian package version")
if(NOT ZOND_PKG_VERSION MATCHES "^[0-9][A-Za-z0-9.+~]*$")
  message(FATAL_ERROR "ZOND_PKG_VERSION '${ZOND_PKG_VERSION}' is not a "
          "Debian native version (digits first, then letters, digits, . + ~)")
endif()
set(ZOND_MAINTAINER "Zond maintainers <zond@example.org>" CACHE STRING
    "Maintainer field of the Debian packages")

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(ZOND_DEB_ARCH arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(ZOND_DEB_ARCH armhf)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|amd64|AMD64)$")
  set(ZOND_DEB_ARCH amd64)
else()
  set(ZOND_DEB_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

# Debian changelog (native package: changelog.gz) and copyright per
# package, made at build time; the date is the commit's, so two builds of
# one commit give the same file.
execute_process(COMMAND git log -1 --format=%aD
                WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE _zdate OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT _zdate)
  set(_zdate "Thu, 01 Jan 1970 00:00:00 +0000")
endif()
set(ZOND_PKGGEN ${CMAKE_BINARY_DIR}/pkg)
file(WRITE ${ZOND_PKGGEN}/changelog
"zond (${ZOND_PKG_VERSION}) unstable; urgency=medium\n\n"
"  * Built from the Zond tree at ${ZOND_GIT}.\n\n"
" -- ${ZOND_MAINTAINER}  ${_zdate}\n")
add_custom_command(OUTPUT ${ZOND_PKGGEN}/changelog.gz
  COMMAND gzip -9nc ${ZOND_PKGGEN}/changelog > ${ZOND_PKGGEN}/changelog.gz
  DEPENDS ${ZOND_PKGGEN}/changelog)
add_custom_target(zond-changelog ALL DEPENDS ${ZOND_PKGGEN}/changelog.gz)

# zond_package(COMP NAME SECTION SUMMARY DESCRIPTION): control fields, the
# maintainer scripts and conffiles of packaging/debian/NAME, doc files.
# One component = one package NAME; scripts from packaging/debian/NAME.
macro(zond_package comp name section summary desc)
  string(TOUPPER ${comp} _c)
  set(CPACK_DEBIAN_${_c}_PACKAGE_NAME ${name})
  set(CPACK_DEBIAN_${_c}_PACKAGE_SECTION ${section})
  set(CPACK_COMPONENT_${_c}_DESCRIPTION "${summary}\n${desc}")
  set(_extra)
  foreach(s postinst prerm postrm)
    if(EXISTS ${ZOND_PKG}/debian/${name}/${s})
      list(APPEND _extra ${ZOND_PKG}/debian/${name}/${s})
    endif()
  endforeach()
  if(EXISTS ${ZOND_PKG}/debian/${name}/conffiles)
    list(APPEND _extra ${ZOND_PKG}/debian/${name}/conffiles)
  endif()
  set(CPACK_DEBIAN_${_c}_PACKAGE_CONTROL_EXTRA "${_extra}")
  install(FILES ${ZOND_PKG}/copyright ${ZOND_PKGGEN}/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${name} COMPONENT ${comp})
endmacro()

# --- zond-agent -------------------------------------------------------
install(TARGETS zond-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        COMPONENT agent)
install(PROGRAMS ${ZOND_PKG}/zond-enroll DESTINATION ${CMAKE_INSTALL_SBINDIR}
        COMPONENT agent)
install(FILES ${ZOND_PKG}/systemd/zond-agent.service DESTINATION ${ZOND_UNITDIR}
        COMPONENT agent)
install(FILES ${CMAKE_SOURCE_DIR}/ops/targets/ru-endpoints.csv
              ${CMAKE_SOURCE_DIR}/ops/targets/ru-urls.csv
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zond COMPONENT agent)
# what --notice and zond-enroll point volunteers to
install(FILES ${CMAKE_SOURCE_DIR}/docs/VOLUNTEERS.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/zond-agent COMPONENT agent)
zond_package(agent zond-agent net
  "Zond censorship measurement agent"
  "zond-agent runs scheduled reachability tests (DNS, TCP, TLS, HTTP, QUIC,\ncall and VPN shapes) from a volunteer's network, signs every result with\nits own Ed25519 key and sends it over CurveZMQ to a Zond aggregator.\nzond-enroll TOKEN sets it up with one enrollment token.")
set(CPACK_COMPONENTS_ALL agent)

if(NOT ZOND_AGENT_ONLY)
  # --- zond-aggregator ------------------------------------------------
  install(TARGETS zond-aggregator RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          COMPONENT aggregator)
  install(FILES ${ZOND_PKG}/systemd/zond-aggregator.service
          DESTINATION ${ZOND_UNITDIR} COMPONENT aggregator)
  install(FILES ${ZOND_PKG}/etc/aggregator.conf DESTINATION /etc/zond
          COMPONENT aggregator)
  # the page and its vendored libraries (ops/vendor-dashboard), not npm's
  # working files
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/dashboards/
          DESTINATION ${CMAKE_INSTALL_DATADIR}/zond/dashboards
          COMPONENT aggregator
          PATTERN node_modules EXCLUDE
          PATTERN package.json EXCLUDE
          PATTERN package-lock.json EXCLUDE)
  zond_package(aggregator zond-aggregator net
    "Zond aggregator: stores and judges censorship measurements"
    "zond-aggregator receives signed measurements from Zond agents over\nCurveZMQ, stores them in LMDB, judges them against control vantage\npoints and serves blocking maps per region and ISP over HTTP.")
  set(CPACK_DEBIAN_AGGREGATOR_PACKAGE_DEPENDS "zondctl (= ${ZOND_PKG_VERSION})")

  # --- zond-helper ----------------------------------------------------
  install(TARGETS zond-helper RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          COMPONENT helper)
  install(FILES ${ZOND_PKG}/systemd/zond-helper.service
          DESTINATION ${ZOND_UNITDIR} COMPONENT helper)
  install(FILES ${ZOND_PKG}/etc/helper.conf DESTINATION /etc/zond
          COMPONENT helper)
  zond_package(helper zond-helper net
    "Zond helper: echo and test server for Zond agents"
    "zond-helper answers the agents' STUN, QUIC, WireGuard- and OpenVPN-shaped\nprobes and serves bulk data for throughput tests, so an agent can tell\na blocked protocol from a dead server.")

  # --- zondctl --------------------------------------------------------
  install(TARGETS zondctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          COMPONENT zondctl)
  zond_package(zondctl zondctl net
    "Zond operator and analyst tool"
    "zondctl makes identities, admits agents, exports and verifies signed\ndatasets and prints blocking maps from a Zond aggregator's store.")
  list(APPEND CPACK_COMPONENTS_ALL aggregator helper zondctl)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME zond)
set(CPACK_PACKAGE_VERSION ${ZOND_PKG_VERSION})
set(CPACK_PACKAGE_CONTACT "${ZOND_MAINTAINER}")
set(CPACK_PACKAGE_VENDOR "Zond")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${ZOND_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ZOND_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR}/packages)
include(CPack)
