// The products alone, one thread: each table's packed GEMM on the shapes SE-ResNet-50's convolutions give it (M output
// channels, K = input channels × taps, N = output pixels × images), as multiply-adds per second; then Winograd's input
// and output transforms of one image's map per layer, in microseconds. Tables alternate within each round; medians over
// the rounds. With `cold` the products rotate through copies of their packed weights and outputs (≥ 64 MiB in all,
// more than an L3), so each call's weights come from DRAM and its stores go to lines not in cache, as in the network,
// where an output was last touched a layer ago.
// Built and run by bench-gemm.sh; nothing here is used by the service.
#include "ckernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const char *name;
    int m, k, n;
} shape;

static int cold;

typedef struct {
    const char *name;
    const ck_kernels *table;
} table;

// Multiply-adds per second of `t` on shape `s`, repeated for at least `seconds`.
static double rate(const ck_kernels *t, shape s, double seconds) {
    size_t packed_size = t->gemm_packed_size(s.m, s.k) + 16, c_size = (size_t)s.m * s.n + 16;
    // Copies of the packed weights and of C: one hot, or enough to pass 64 MiB (cold).
    size_t copies = cold ? (64u << 20) / ((packed_size + c_size) * 4) + 2 : 1;
    float *a = malloc((size_t)s.m * s.k * 4), *b = malloc((size_t)s.k * s.n * 4), *packed = malloc(packed_size * 4 * copies);
    float *operand = malloc((size_t)(s.k + 3) * s.n * 4), *c = malloc(c_size * 4 * copies);
    float *bias = calloc((size_t)(s.m + 64), 4), *scratch = malloc(CK_GEMM_SCRATCH_FLOATS * 4);
    srand(7);
    for (long i = 0; i < (long)s.m * s.k; i++) a[i] = (float)((double)rand() / RAND_MAX) - 0.5f;
    for (long i = 0; i < (long)s.k * s.n; i++) b[i] = (float)((double)rand() / RAND_MAX);
    memset(c, 0, c_size * 4 * copies);
    const float *operand_in = b;
    for (size_t i = 0; i < copies; i++) {
        if (t->precision == CK_INT8)
            t->gemm_pack_int8(s.m, s.k, a, s.k, 1.0f / 255, packed + i * packed_size);
        else
            t->gemm_pack(s.m, s.k, a, s.k, packed + i * packed_size);
    }
    if (t->precision == CK_INT8) {
        t->operand_quantize(b, s.k, s.n, s.n, 1.0f / 255, operand, s.n);
        operand_in = operand;
    } else if (t->operand_pack) {
        t->operand_pack(b, s.k, s.n, s.n, operand, s.n);
        operand_in = operand;
    }
    int panels = (s.m + t->gemm_mr - 1) / t->gemm_mr;
    long runs = 0;
    double start = now(), elapsed = 0;
    while (elapsed < seconds) {
        size_t i = (size_t)runs % copies;
        t->gemm(packed + i * packed_size, s.m, s.k, 0, panels, s.n, operand_in, s.n, c + i * c_size, s.n, bias, 1, scratch, 0);
        runs++;
        elapsed = now() - start;
    }
    free(a), free(b), free(packed), free(operand), free(c), free(bias), free(scratch);
    return (double)runs * s.m * s.k * s.n / elapsed;
}

typedef struct {
    const char *name;
    int tile, channels, side;
} transform_shape;

// Seconds per call of `t`'s Winograd output transform over a whole `side`² map.
static double output_seconds(const ck_kernels *t, transform_shape s, double seconds) {
    int tiles_side = (s.side + s.tile - 1) / s.tile, alpha = s.tile + 2, tiles = tiles_side * tiles_side;
    float *m = malloc((size_t)alpha * alpha * s.channels * tiles * 4), *out = malloc((size_t)s.channels * s.side * s.side * 4);
    float *bias = calloc((size_t)s.channels, 4), *scratch = malloc(t->winograd_output_scratch_size(s.tile, s.side) * 4);
    srand(7);
    for (long i = 0; i < (long)alpha * alpha * s.channels * tiles; i++) m[i] = (float)((double)rand() / RAND_MAX) - 0.5f;
    long runs = 0;
    double start = now(), elapsed = 0;
    while (elapsed < seconds) {
        t->winograd_output(s.tile, m, (size_t)s.channels * tiles, tiles, bias, s.side, s.side, 0, tiles_side, 0, s.channels, out,
                           (long)s.side * s.side, scratch);
        runs++;
        elapsed = now() - start;
    }
    free(m), free(out), free(bias), free(scratch);
    return elapsed / (double)runs;
}

// Seconds per call of `t`'s Winograd input transform over a whole `side`² map (fp32 rows, or bf16 pairs).
static double transform_seconds(const ck_kernels *t, transform_shape s, int pairs, double seconds) {
    int tiles_side = (s.side + s.tile - 1) / s.tile, alpha = s.tile + 2, tiles = tiles_side * tiles_side;
    float *x = malloc((size_t)s.channels * s.side * s.side * 4), *v = malloc((size_t)alpha * alpha * s.channels * tiles * 4);
    float *scratch = malloc(t->winograd_input_scratch_size(s.tile, s.side, tiles_side) * 4);
    srand(7);
    for (long i = 0; i < (long)s.channels * s.side * s.side; i++) x[i] = (float)((double)rand() / RAND_MAX) - 0.5f;
    long runs = 0;
    double start = now(), elapsed = 0;
    while (elapsed < seconds) {
        t->winograd_input(s.tile, x, (long)s.side * s.side, s.side, s.side, 0, tiles_side, 0, s.channels, pairs, v,
                          (size_t)s.channels * tiles, tiles, scratch);
        runs++;
        elapsed = now() - start;
    }
    free(x), free(v), free(scratch);
    return elapsed / (double)runs;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    cold = argc > 2 && strcmp(argv[2], "cold") == 0;
    shape shapes[] = {
        {"layer1 3x3 (unfolded), batch 1", 64, 576, 3136},
        {"layer1 1x1 conv3, a column chunk", 256, 64, 224},
        {"layer2 1x1 conv3, batch 1", 512, 128, 784},
        {"layer3 1x1 conv1, batch 1", 256, 1024, 196},
        {"layer3 1x1 conv3, batch 1", 1024, 256, 196},
        {"layer3 3x3 (unfolded), batch 1", 256, 2304, 196},
        {"layer4 3x3 (unfolded), batch 1", 512, 4608, 49},
        {"layer4 1x1 conv3, batch 8", 2048, 512, 392},
        {"classifier, batch 1", 1000, 2048, 1},
    };
    table tables[] = {
        {"fp32 avx2", ck_kernels_for(CK_ISA_AVX2, CK_FP32)},
        // VPMADDUBSW, or AVX-VNNI's VPDPBUSD where the CPU has it.
        {ck_has_avx_vnni() ? "int8 avx-vnni" : "int8 avx2", ck_kernels_for(CK_ISA_AVX2, CK_INT8)},
        {"fp32 avx512", ck_kernels_for(CK_ISA_AVX512, CK_FP32)},
        {"bf16 avx512", ck_kernels_for(CK_ISA_AVX512, CK_BF16)},
        {"int8 avx512-vnni", ck_kernels_for(CK_ISA_AVX512, CK_INT8)},
    };
    int count = sizeof tables / sizeof tables[0];
    printf("GMAC/s on one thread, median of %d rounds (tables alternate), %s; '-' where this CPU lacks the table\n", rounds,
           cold ? "weights and outputs cold" : "hot caches");
    printf("%-48s", "shape (M x K x N)");
    for (int i = 0; i < count; i++) printf(" %16s", tables[i].name);
    printf("\n");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        double results[8][32];
        for (int r = 0; r < rounds; r++)
            for (int j = 0; j < count; j++) {
                int i = r % 2 ? count - 1 - j : j;
                results[i][r] = tables[i].table ? rate(tables[i].table, shapes[s], 0.3) : 0;
            }
        char label[96];
        snprintf(label, sizeof label, "%s %dx%dx%d", shapes[s].name, shapes[s].m, shapes[s].k, shapes[s].n);
        printf("%-48.48s", label);
        for (int i = 0; i < count; i++) {
            qsort(results[i], rounds, sizeof(double), compare);
            if (tables[i].table)
                printf(" %16.1f", results[i][rounds / 2] / 1e9);
            else
                printf(" %16s", "-");
        }
        printf("\n");
    }

    // The AVX-512 table's bf16 pairs are its planar transform (for CPUs without AVX512_BF16); the bf16 table's are the
    // 16-channel one: the same instruction set, both ways.
    transform_shape transforms[] = {
        {"layer1 F(4x4)", 4, 64, 56}, {"layer2 F(4x4)", 4, 128, 28}, {"layer3 F(2x2)", 2, 256, 14}, {"layer4 F(2x2)", 2, 512, 7},
    };
    struct {
        const char *name;
        const ck_kernels *table;
        int pairs;
    } variants[] = {
        {"fp32 avx2", ck_kernels_for(CK_ISA_AVX2, CK_FP32), 0},
        {"fp32 avx512", ck_kernels_for(CK_ISA_AVX512, CK_FP32), 0},
        {"pairs avx512", ck_kernels_for(CK_ISA_AVX512, CK_FP32), 1},
        {"pairs bf16", ck_kernels_for(CK_ISA_AVX512, CK_BF16), 1},
        // The output transforms (fp32 tables; the bf16 table's is the AVX-512 one).
        {"output avx2", ck_kernels_for(CK_ISA_AVX2, CK_FP32), -1},
        {"output avx512", ck_kernels_for(CK_ISA_AVX512, CK_FP32), -1},
    };
    int vcount = sizeof variants / sizeof variants[0];
    printf("\nWinograd input and output transforms of one image, microseconds on one thread, median of %d rounds\n", rounds);
    printf("%-48s", "layer (channels, map side)");
    for (int i = 0; i < vcount; i++) printf(" %16s", variants[i].name);
    printf("\n");
    for (size_t s = 0; s < sizeof transforms / sizeof transforms[0]; s++) {
        double results[6][32];
        for (int r = 0; r < rounds; r++)
            for (int j = 0; j < vcount; j++) {
                int i = r % 2 ? vcount - 1 - j : j;
                const ck_kernels *t = variants[i].table;
                results[i][r] = !t                       ? 0
                                : variants[i].pairs < 0 ? output_seconds(t, transforms[s], 0.2)
                                                        : transform_seconds(t, transforms[s], variants[i].pairs, 0.2);
            }
        char label[96];
        snprintf(label, sizeof label, "%s %d channels %dx%d", transforms[s].name, transforms[s].channels, transforms[s].side,
                 transforms[s].side);
        printf("%-48.48s", label);
        for (int i = 0; i < vcount; i++) {
            qsort(results[i], rounds, sizeof(double), compare);
            if (variants[i].table)
                printf(" %16.1f", results[i][rounds / 2] * 1e6);
            else
                printf(" %16s", "-");
        }
        printf("\n");
    }
    return 0;
}
