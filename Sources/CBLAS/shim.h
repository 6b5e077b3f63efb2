// OpenBLAS's own cblas.h (Debian: libopenblas-dev), which also declares openblas_set_num_threads.
#include <openblas-pthread/cblas.h>
