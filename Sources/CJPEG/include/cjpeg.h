#ifndef CJPEG_H
#define CJPEG_H
/// The libjpeg(-turbo) API version this shim was compiled against (e.g. 62 or 80).
int cjpeg_lib_version(void);
#endif
