# Picky warnings for our own code (not for generated protobuf-c sources).
# ZOND_WERROR turns them into errors; CI sets it.  No -Wwrite-strings:
# protobuf-c message fields are `char *` and we fill them from literals.
set(ZOND_WARNINGS
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wformat=2 -Wformat-security -Wpointer-arith -Wcast-align
  -Wundef -Wvla -Wold-style-definition -Wnull-dereference -Wdouble-promotion
  -Wimplicit-fallthrough -Wmissing-declarations -Wredundant-decls
  -Wno-unused-parameter)
if(ZOND_WERROR)
  list(APPEND ZOND_WARNINGS -Werror)
endif()

# zond_target_warnings(target): apply the picky set to one target.
function(zond_target_warnings tgt)
  target_compile_options(${tgt} PRIVATE ${ZOND_WARNINGS})
endfunction()
