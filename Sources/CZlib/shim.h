#ifndef STAMPEDE_CZLIB_SHIM_H
#define STAMPEDE_CZLIB_SHIM_H
#include <zlib.h>

// deflateInit/inflateInit are macros that pass ZLIB_VERSION and sizeof(z_stream).
static inline int stampede_deflateInit(z_streamp strm, int level) {
    return deflateInit(strm, level);
}
static inline int stampede_inflateInit(z_streamp strm) {
    return inflateInit(strm);
}
#endif
