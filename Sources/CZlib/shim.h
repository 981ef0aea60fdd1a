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
// windowBits 15 + 32: a gzip or zlib stream, told apart by its header (a Content-Encoding body).
static inline int stampede_inflateInitAuto(z_streamp strm) {
    return inflateInit2(strm, 15 + 32);
}
#endif
