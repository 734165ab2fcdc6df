#ifndef VIDEOSTACK_CARGON2_SHIM_H
#define VIDEOSTACK_CARGON2_SHIM_H
// libargon2's functions and error codes import as they are; its limits are macros over UINT32_C
// that Swift cannot import, so the Swift wrapper states the few it checks itself.
#include <argon2.h>
#endif
