// The smallest shim Swift needs around libjpeg: libjpeg reports fatal errors by calling error_exit,
// which must not return, so it longjmps back into the shim function that called libjpeg; Swift cannot
// setjmp, hence the jump buffer and every libjpeg call live here.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "cjpeg.h"

int cjpeg_lib_version(void) { return JPEG_LIB_VERSION; }

struct cjpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr error;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    /// Which stage succeeded last, so calls made out of order fail cleanly instead of upsetting libjpeg.
    enum { STAGE_NEW, STAGE_HEADER, STAGE_STARTED, STAGE_DONE, STAGE_FAILED } stage;
    cjpeg_status failure;
    /// Scans a progressive file may have (set by cjpeg_start; CJPEG_MAX_SCANS until then).
    int max_scans;
    char message[JMSG_LENGTH_MAX];
};

/// Maps libjpeg's message code to the shim's status: what is well-formed but beyond this build versus
/// what is damaged.
static cjpeg_status status_for_code(int code) {
    switch (code) {
    case JWRN_JPEG_EOF:
        return CJPEG_TRUNCATED;
    case JERR_BAD_PRECISION:
    case JERR_ARITH_NOTIMPL:
    case JERR_SOF_UNSUPPORTED:
    case JERR_NOTIMPL:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_COMPONENT_COUNT:
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
    case JERR_EMPTY_IMAGE:
        return CJPEG_UNSUPPORTED;
    case JERR_OUT_OF_MEMORY:
    case JERR_NO_BACKING_STORE:  // what libjpeg raises once max_memory_to_use is exceeded
        return CJPEG_OUT_OF_MEMORY;
    default:
        return CJPEG_CORRUPT;
    }
}

/// Records libjpeg's formatted message and status, then abandons the current call.
static void fail_with_libjpeg_message(j_common_ptr cinfo) {
    struct cjpeg_decoder *decoder = (struct cjpeg_decoder *)cinfo;
    if (cinfo->err->msg_code == JERR_NO_BACKING_STORE) {
        // libjpeg's own text ("Backing store not supported") would mean nothing to a client.
        snprintf(decoder->message, sizeof decoder->message,
                 "a progressive or multi-scan file this large needs more than %ld bytes of coefficient memory",
                 cinfo->mem->max_memory_to_use);
        decoder->failure = CJPEG_OUT_OF_MEMORY;
        longjmp(decoder->jump, 1);
    }
    (*cinfo->err->format_message)(cinfo, decoder->message);
    decoder->failure = status_for_code(cinfo->err->msg_code);
    longjmp(decoder->jump, 1);
}

static void on_error_exit(j_common_ptr cinfo) { fail_with_libjpeg_message(cinfo); }

/// Level −1 is a warning about corrupt data (bad Huffman code, premature end, extraneous bytes): libjpeg
/// would carry on and hand back grey or garbage pixels, which must not reach the model, so it is fatal.
/// Levels ≥ 0 are trace messages and are dropped.
static void on_emit_message(j_common_ptr cinfo, int msg_level) {
    if (msg_level < 0) {
        fail_with_libjpeg_message(cinfo);
    }
}

/// Called between scans and row groups; refuses progressive files with an absurd number of scans.
static void on_progress(j_common_ptr cinfo) {
    struct cjpeg_decoder *decoder = (struct cjpeg_decoder *)cinfo;
    if (decoder->cinfo.input_scan_number > decoder->max_scans) {
        snprintf(decoder->message, sizeof decoder->message,
                 "Progressive JPEG has more than %d scans", decoder->max_scans);
        decoder->failure = CJPEG_TOO_MANY_SCANS;
        longjmp(decoder->jump, 1);
    }
}

cjpeg_decoder *cjpeg_decoder_create(void) {
    struct cjpeg_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) {
        return NULL;
    }
    decoder->cinfo.err = jpeg_std_error(&decoder->error);
    decoder->error.error_exit = on_error_exit;
    decoder->error.emit_message = on_emit_message;
    if (setjmp(decoder->jump)) {
        // jpeg_create_decompress only fails when libjpeg cannot allocate its first pool.
        jpeg_destroy_decompress(&decoder->cinfo);
        free(decoder);
        return NULL;
    }
    jpeg_create_decompress(&decoder->cinfo);
    decoder->progress.progress_monitor = on_progress;
    decoder->cinfo.progress = &decoder->progress;
    decoder->max_scans = CJPEG_MAX_SCANS;
    decoder->stage = STAGE_NEW;
    return decoder;
}

void cjpeg_decoder_destroy(cjpeg_decoder *decoder) {
    if (decoder == NULL) {
        return;
    }
    jpeg_destroy_decompress(&decoder->cinfo);
    free(decoder);
}

const char *cjpeg_message(const cjpeg_decoder *decoder) { return decoder->message; }

static cjpeg_status misuse(struct cjpeg_decoder *decoder, const char *what) {
    snprintf(decoder->message, sizeof decoder->message, "%s", what);
    decoder->stage = STAGE_FAILED;
    return CJPEG_MISUSE;
}

/// The first APP1 segment carrying "Exif\0\0" (Pillow keeps the first one too), as the TIFF block after it.
static void find_exif(struct jpeg_decompress_struct *cinfo, cjpeg_header *header) {
    static const unsigned char signature[6] = {'E', 'x', 'i', 'f', 0, 0};
    for (jpeg_saved_marker_ptr marker = cinfo->marker_list; marker != NULL; marker = marker->next) {
        if (marker->marker == JPEG_APP0 + 1 && marker->data_length >= sizeof signature &&
            memcmp(marker->data, signature, sizeof signature) == 0) {
            header->exif = marker->data + sizeof signature;
            header->exif_length = marker->data_length - sizeof signature;
            return;
        }
    }
}

cjpeg_status cjpeg_read_header(cjpeg_decoder *decoder, const unsigned char *data, size_t length,
                               cjpeg_header *header) {
    if (decoder->stage != STAGE_NEW || data == NULL || header == NULL) {
        return misuse(decoder, "cjpeg_read_header called out of order or without data");
    }
    if (length == 0) {
        snprintf(decoder->message, sizeof decoder->message, "Empty input");
        decoder->stage = STAGE_FAILED;
        return CJPEG_CORRUPT;
    }
    memset(header, 0, sizeof *header);
    if (setjmp(decoder->jump)) {
        decoder->stage = STAGE_FAILED;
        return decoder->failure;
    }
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    jpeg_mem_src(cinfo, data, (unsigned long)length);
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);

    header->width = (int)cinfo->image_width;
    header->height = (int)cinfo->image_height;
    header->components = cinfo->num_components;
    header->progressive = cinfo->progressive_mode ? 1 : 0;
    find_exif(cinfo, header);
    switch (cinfo->num_components) {
    case 1:
        header->layout = CJPEG_LAYOUT_GRAY;
        break;
    case 3:
        header->layout = CJPEG_LAYOUT_RGB;
        break;
    case 4:
        header->layout = CJPEG_LAYOUT_CMYK;
        break;
    default:
        snprintf(decoder->message, sizeof decoder->message,
                 "Unsupported number of colour components: %d (expected 1, 3 or 4)", cinfo->num_components);
        decoder->stage = STAGE_FAILED;
        return CJPEG_UNSUPPORTED;
    }
    if (cinfo->num_components == 4 && cinfo->jpeg_color_space != JCS_CMYK &&
        cinfo->jpeg_color_space != JCS_YCCK) {
        snprintf(decoder->message, sizeof decoder->message,
                 "Unsupported 4-component colour space %d (expected CMYK or YCCK)", (int)cinfo->jpeg_color_space);
        decoder->stage = STAGE_FAILED;
        return CJPEG_UNSUPPORTED;
    }
    decoder->stage = STAGE_HEADER;
    return CJPEG_OK;
}

cjpeg_status cjpeg_start(cjpeg_decoder *decoder, int scale_eighths, int max_scans, long max_memory,
                         int *out_width, int *out_height) {
    if (decoder->stage != STAGE_HEADER || scale_eighths < 1 || scale_eighths > 8 || max_scans < 1 || max_memory < 1) {
        return misuse(decoder, "cjpeg_start called out of order, with a scale outside 1...8, no scans or no memory");
    }
    decoder->cinfo.mem->max_memory_to_use = max_memory;
    decoder->max_scans = max_scans < CJPEG_MAX_SCANS ? max_scans : CJPEG_MAX_SCANS;
    if (setjmp(decoder->jump)) {
        decoder->stage = STAGE_FAILED;
        return decoder->failure;
    }
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    cinfo->scale_num = (unsigned int)scale_eighths;
    cinfo->scale_denom = 8;
    // libjpeg-turbo converts grayscale to RGB itself; CMYK/YCCK come out as (inverted) CMYK and are
    // converted row by row in cjpeg_read_rgb, as Pillow does.
    cinfo->out_color_space = cinfo->num_components == 4 ? JCS_CMYK : JCS_RGB;
    // Pillow's decoder settings (accurate integer IDCT, fancy upsampling), so full-scale pixels match it.
    cinfo->dct_method = JDCT_ISLOW;
    cinfo->do_fancy_upsampling = TRUE;
    jpeg_start_decompress(cinfo);
    if (cinfo->output_components != (cinfo->num_components == 4 ? 4 : 3)) {
        snprintf(decoder->message, sizeof decoder->message, "Unexpected output component count %d",
                 cinfo->output_components);
        decoder->stage = STAGE_FAILED;
        return CJPEG_UNSUPPORTED;
    }
    *out_width = (int)cinfo->output_width;
    *out_height = (int)cinfo->output_height;
    decoder->stage = STAGE_STARTED;
    return CJPEG_OK;
}

/// MULDIV255 from Pillow's ImagingUtils.h: a·b/255 rounded, without a division.
static inline unsigned muldiv255(unsigned a, unsigned b) {
    unsigned t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

static void cmyk_row_to_rgb(const JSAMPLE *cmyk, unsigned char *rgb, JDIMENSION width) {
    for (JDIMENSION x = 0; x < width; x++, cmyk += 4, rgb += 3) {
        unsigned k = cmyk[3]; // = 255 − K' after un-inverting: the "nk" of Pillow's cmyk2rgb
        rgb[0] = (unsigned char)(k - muldiv255(255u - cmyk[0], k));
        rgb[1] = (unsigned char)(k - muldiv255(255u - cmyk[1], k));
        rgb[2] = (unsigned char)(k - muldiv255(255u - cmyk[2], k));
    }
}

cjpeg_status cjpeg_read_rgb(cjpeg_decoder *decoder, unsigned char *pixels, size_t row_stride) {
    if (decoder->stage != STAGE_STARTED || pixels == NULL ||
        row_stride < (size_t)decoder->cinfo.output_width * 3) {
        return misuse(decoder, "cjpeg_read_rgb called out of order or with a short row stride");
    }
    if (setjmp(decoder->jump)) {
        decoder->stage = STAGE_FAILED;
        return decoder->failure;
    }
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    if (cinfo->out_color_space == JCS_CMYK) {
        // One CMYK row from libjpeg's image pool (freed with the decoder, even after a longjmp).
        JSAMPARRAY row = (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE,
                                                     cinfo->output_width * 4, 1);
        while (cinfo->output_scanline < cinfo->output_height) {
            unsigned char *target = pixels + (size_t)cinfo->output_scanline * row_stride;
            if (jpeg_read_scanlines(cinfo, row, 1) != 1) {
                break;
            }
            cmyk_row_to_rgb(row[0], target, cinfo->output_width);
        }
    } else {
        enum { BATCH = 16 };
        JSAMPROW rows[BATCH];
        while (cinfo->output_scanline < cinfo->output_height) {
            JDIMENSION first = cinfo->output_scanline;
            JDIMENSION count = cinfo->output_height - first;
            if (count > BATCH) {
                count = BATCH;
            }
            for (JDIMENSION i = 0; i < count; i++) {
                rows[i] = pixels + (size_t)(first + i) * row_stride;
            }
            if (jpeg_read_scanlines(cinfo, rows, count) == 0) {
                break;
            }
        }
    }
    if (cinfo->output_scanline < cinfo->output_height) {
        // Suspension cannot happen with a memory source; treat it as truncation rather than loop.
        snprintf(decoder->message, sizeof decoder->message, "Premature end of JPEG file");
        decoder->stage = STAGE_FAILED;
        return CJPEG_TRUNCATED;
    }
    // jpeg_finish_decompress is skipped on purpose: every pixel is in hand, and bytes after the last
    // scan (padding, vendor trailers) are as irrelevant to us as they are to Pillow.
    decoder->message[0] = 0;
    decoder->stage = STAGE_DONE;
    return CJPEG_OK;
}
