#ifndef CJPEG_H
#define CJPEG_H

#include <stddef.h>

/// The libjpeg(-turbo) API version this shim was compiled against (e.g. 62 or 80).
int cjpeg_lib_version(void);

/// Outcome of every shim call; anything but CJPEG_OK leaves a human-readable text in cjpeg_message().
typedef enum {
    CJPEG_OK = 0,
    /// libjpeg rejected the data, or warned about corrupt data (which this shim treats as fatal).
    CJPEG_CORRUPT = 1,
    /// The data ends before the image does ("Premature end of JPEG file").
    CJPEG_TRUNCATED = 2,
    /// A well-formed JPEG libjpeg cannot decode here: 12-bit, lossless, hierarchical, odd component counts.
    CJPEG_UNSUPPORTED = 3,
    /// libjpeg could not allocate its working memory.
    CJPEG_OUT_OF_MEMORY = 4,
    /// A progressive file with more scans than allowed (a known decode-time amplification attack).
    CJPEG_TOO_MANY_SCANS = 5,
    /// The shim was called out of order or with an invalid argument (a programming error, not bad data).
    CJPEG_MISUSE = 6,
} cjpeg_status;

/// Absolute cap on progressive scans: each scan re-walks the whole coefficient buffer, so a small file
/// with hundreds of scans can pin a core (libjpeg-turbo advisory LJT-01-004). Real encoders write about
/// 10; jpegtran scripts rarely exceed 100. Callers pass a lower cap for large frames (cjpeg_start).
#define CJPEG_MAX_SCANS 256

/// Which pixel layout libjpeg will deliver; the shim always converts it to RGB8.
typedef enum {
    CJPEG_LAYOUT_GRAY = 1,
    CJPEG_LAYOUT_RGB = 3,
    CJPEG_LAYOUT_CMYK = 4,
} cjpeg_layout;

/// What the frame header says, read before any pixel memory is allocated.
typedef struct {
    /// Frame size in pixels as stored (before EXIF orientation); at most 65500 each.
    int width;
    int height;
    /// Number of colour components in the frame (1, 3 or 4 once accepted).
    int components;
    /// How the components will be turned into RGB.
    cjpeg_layout layout;
    /// Non-zero for progressive (SOF2) files.
    int progressive;
    /// The TIFF block of the first APP1 "Exif\0\0" segment (starting at the byte order mark), or NULL.
    /// Points into the decoder's memory: valid until cjpeg_decoder_destroy.
    const unsigned char *exif;
    size_t exif_length;
} cjpeg_header;

/// One decode in flight: libjpeg state, error manager and jump buffer. Not shareable between threads;
/// create one per decode (they are cheap) so decodes on different threads never share state.
typedef struct cjpeg_decoder cjpeg_decoder;

/// A fresh decoder, or NULL when out of memory.
cjpeg_decoder *cjpeg_decoder_create(void);

/// Releases the decoder and everything libjpeg allocated for it; safe after any failure, and on NULL.
void cjpeg_decoder_destroy(cjpeg_decoder *decoder);

/// Reads markers up to the first scan from `data` (which must stay valid and unchanged until the decoder
/// is destroyed) and fills `header`. Allocates only libjpeg's small per-component tables.
cjpeg_status cjpeg_read_header(cjpeg_decoder *decoder, const unsigned char *data, size_t length,
                               cjpeg_header *header);

/// Chooses the DCT scale `scale_eighths`/8 (1...8) and starts decompression; reports the output size.
/// For progressive files this consumes every scan, so corrupt or truncated scans fail here, and a file
/// with more than `max_scans` scans (at most CJPEG_MAX_SCANS) fails with CJPEG_TOO_MANY_SCANS. libjpeg may
/// use at most `max_memory` bytes for its buffers (libjpeg's max_memory_to_use; a progressive or multi-scan file
/// keeps every DCT coefficient of the full-size image, whatever the scale); beyond, CJPEG_OUT_OF_MEMORY.
cjpeg_status cjpeg_start(cjpeg_decoder *decoder, int scale_eighths, int max_scans, long max_memory,
                         int *out_width, int *out_height);

/// Decodes every row as interleaved RGB8 into `pixels` (`out_height` rows of `row_stride` bytes, each
/// at least 3 × `out_width`). Grayscale is replicated. CMYK/YCCK is taken as Adobe stores it (inverted)
/// and converted exactly as Pillow's "CMYK;I" unpacker + cmyk2rgb do: with stored bytes c and k,
/// R = k − MULDIV255(255 − c, k), where MULDIV255(a, b) = ((a·b + 128) >> 8 + a·b + 128) >> 8.
cjpeg_status cjpeg_read_rgb(cjpeg_decoder *decoder, unsigned char *pixels, size_t row_stride);

/// The message behind the last failure (libjpeg's own text for data errors); empty after success.
const char *cjpeg_message(const cjpeg_decoder *decoder);

#endif
