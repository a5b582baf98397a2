/*
 * Native fast path for PieceCID (FRC-0069): the roots of fr32-padded SHA-256/254 binary subtrees.
 *
 * JavaScript (lib/piece/native.ts) splits a piece into equal "chunks" (subtrees of 2^chunkHeight leaves)
 * and asks for their roots; it folds those few roots into the piece root itself, so this file holds only
 * the hot loop:
 *   - every node is SHA-256 of a 64-byte block; its second compression (the padding block) is the same
 *     for every node, so its message schedule + round constants are computed once (PAD_WK);
 *   - with the CPU's SHA extensions two independent nodes are hashed interleaved (the round instruction
 *     has a latency the second hash hides);
 *   - zero subtrees (the padding after the data) are never hashed: ZERO[level] holds their roots;
 *   - chunks are spread over native threads pulling indices from one atomic counter.
 *
 * Exports: chunkRoots(data, chunkHeight, threads) -> Buffer (sync),
 *          chunkRootsAsync(data, chunkHeight, threads) -> Promise<Buffer> (libuv pool + native threads),
 *          implementation -> "sha-ni" | "scalar".
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_X86 1
#endif

/* Leaves of one block kept in a per-thread scratch buffer: 2^10 x 32 B = 32 KiB, inside L1/L2. */
#define BLOCK_HEIGHT 10
#define MAX_CHUNK_HEIGHT 30
#define MAX_LEVELS 64
#define QUAD_IN 127
#define QUAD_OUT 128

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
static const uint32_t H0[8] = {
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* W[i] + K[i] of the padding block every 64-byte message ends with (0x80, zeros, length 512 bits). */
static uint32_t PAD_WK[64] __attribute__((aligned(16)));
/* ZERO[l]: root of an all-zero subtree of height l (ZERO[0] is a zero leaf). */
static uint8_t ZERO[MAX_LEVELS][32];
static int use_sha_ni = 0;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* ---------- portable SHA-256 ---------- */

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static inline uint32_t load_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void schedule(uint32_t w[64]) {
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
}

static void rounds_scalar(uint32_t s[8], const uint32_t wk[64]) {
  uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + wk[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
}

/* out = SHA-256(in[0..63]) with the two top bits of the last byte cleared; out may alias in. */
static void node_scalar(const uint8_t *in, uint8_t *out) {
  uint32_t w[64], s[8];
  for (int i = 0; i < 16; i++) w[i] = load_be32(in + 4 * i);
  schedule(w);
  for (int i = 0; i < 64; i++) w[i] += K[i];
  memcpy(s, H0, sizeof s);
  rounds_scalar(s, w);
  rounds_scalar(s, PAD_WK);
  for (int i = 0; i < 8; i++) store_be32(out + 4 * i, s[i]);
  out[31] &= 0x3f;
}

static void node2_scalar(const uint8_t *in0, const uint8_t *in1, uint8_t *out0, uint8_t *out1) {
  node_scalar(in0, out0);
  node_scalar(in1, out1);
}

/* ---------- SHA extensions (x86) ---------- */

#ifdef HAVE_X86
#define NI __attribute__((target("sha,sse4.1,ssse3")))

static __m128i INIT_ABEF, INIT_CDGH;

#define RNDS4(st0, st1, wk)                                               \
  do {                                                                    \
    st1 = _mm_sha256rnds2_epu32(st1, st0, wk);                            \
    st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(wk, 0x0E));   \
  } while (0)

/* Next four schedule words from the previous sixteen (w0 oldest). */
#define SCHED(w0, w1, w2, w3) \
  _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4)), w3)

NI static void init_sha_ni(void) {
  __m128i dcba = _mm_loadu_si128((const __m128i *)&H0[0]);
  __m128i hgfe = _mm_loadu_si128((const __m128i *)&H0[4]);
  __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
  __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  INIT_ABEF = _mm_alignr_epi8(cdab, efgh, 8);
  INIT_CDGH = _mm_blend_epi16(efgh, cdab, 0xF0);
}

NI static inline void store_node(__m128i abef, __m128i cdgh, uint8_t *out) {
  const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  const __m128i trunc = _mm_set_epi8(0x3f, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  __m128i dcba = _mm_blend_epi16(feba, dchg, 0xF0);
  __m128i hgfe = _mm_alignr_epi8(dchg, feba, 8);
  _mm_storeu_si128((__m128i *)out, _mm_shuffle_epi8(dcba, bswap));
  _mm_storeu_si128((__m128i *)(out + 16), _mm_and_si128(_mm_shuffle_epi8(hgfe, bswap), trunc));
}

/* Two independent nodes, interleaved. All loads happen before the stores, so outputs may alias inputs. */
NI static void node2_sha_ni(const uint8_t *in0, const uint8_t *in1, uint8_t *out0, uint8_t *out1) {
  const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i a0 = INIT_ABEF, a1 = INIT_CDGH, b0 = INIT_ABEF, b1 = INIT_CDGH;
  __m128i aw0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in0 + 0)), mask);
  __m128i aw1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in0 + 16)), mask);
  __m128i aw2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in0 + 32)), mask);
  __m128i aw3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in0 + 48)), mask);
  __m128i bw0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in1 + 0)), mask);
  __m128i bw1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in1 + 16)), mask);
  __m128i bw2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in1 + 32)), mask);
  __m128i bw3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in1 + 48)), mask);
  __m128i k, wk;

#define GROUP(g, aw, bw)                                   \
  k = _mm_loadu_si128((const __m128i *)&K[4 * (g)]);       \
  wk = _mm_add_epi32(aw, k);                               \
  RNDS4(a0, a1, wk);                                       \
  wk = _mm_add_epi32(bw, k);                               \
  RNDS4(b0, b1, wk)

  GROUP(0, aw0, bw0);
  GROUP(1, aw1, bw1);
  GROUP(2, aw2, bw2);
  GROUP(3, aw3, bw3);
#pragma GCC unroll 12
  for (int g = 4; g < 16; g++) {
    __m128i an = SCHED(aw0, aw1, aw2, aw3);
    __m128i bn = SCHED(bw0, bw1, bw2, bw3);
    GROUP(g, an, bn);
    aw0 = aw1; aw1 = aw2; aw2 = aw3; aw3 = an;
    bw0 = bw1; bw1 = bw2; bw2 = bw3; bw3 = bn;
  }
#undef GROUP
  a0 = _mm_add_epi32(a0, INIT_ABEF);
  a1 = _mm_add_epi32(a1, INIT_CDGH);
  b0 = _mm_add_epi32(b0, INIT_ABEF);
  b1 = _mm_add_epi32(b1, INIT_CDGH);

  /* Second block: constant, so only the rounds remain. */
  __m128i sa0 = a0, sa1 = a1, sb0 = b0, sb1 = b1;
#pragma GCC unroll 16
  for (int g = 0; g < 16; g++) {
    wk = _mm_load_si128((const __m128i *)&PAD_WK[4 * g]);
    RNDS4(a0, a1, wk);
    RNDS4(b0, b1, wk);
  }
  store_node(_mm_add_epi32(a0, sa0), _mm_add_epi32(a1, sa1), out0);
  store_node(_mm_add_epi32(b0, sb0), _mm_add_epi32(b1, sb1), out1);
}

static int cpu_has_sha_ni(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  int sse41 = (ecx >> 19) & 1, ssse3 = (ecx >> 9) & 1;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
  return sse41 && ssse3 && ((ebx >> 29) & 1);
}
#endif

static void node2(const uint8_t *in0, const uint8_t *in1, uint8_t *out0, uint8_t *out1) {
#ifdef HAVE_X86
  if (use_sha_ni) {
    node2_sha_ni(in0, in1, out0, out1);
    return;
  }
#endif
  node2_scalar(in0, in1, out0, out1);
}

static void node1(const uint8_t *in, uint8_t *out) {
  uint8_t ignored[32];
  node2(in, in, out, ignored);
}

static void init_tables(void) {
  uint32_t w[64] = {0};
  w[0] = 0x80000000u;
  w[15] = 512;
  schedule(w);
  for (int i = 0; i < 64; i++) PAD_WK[i] = w[i] + K[i];
#ifdef HAVE_X86
  use_sha_ni = cpu_has_sha_ni() && getenv("STREAMVAULT_PIECE_NO_SHA_NI") == NULL;
  if (use_sha_ni) init_sha_ni();
#endif
  uint8_t pair[64];
  memset(ZERO[0], 0, 32);
  for (int l = 1; l < MAX_LEVELS; l++) {
    memcpy(pair, ZERO[l - 1], 32);
    memcpy(pair + 32, ZERO[l - 1], 32);
    node1(pair, ZERO[l]);
  }
}

/* ---------- tree ---------- */

static inline uint64_t load_le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v; /* little-endian hosts only; see the guard in Init */
}

/* fr32: 127 bytes = 4 x 254 bits -> four 32-byte leaves, each with its two top bits zero. */
static void fr32_quad(const uint8_t *in, uint8_t *out) {
  uint64_t o[16];
  const uint64_t top = 0x3fffffffffffffffULL;
  for (int w = 0; w < 4; w++) o[w] = load_le64(in + 8 * w);
  o[3] &= top;
  for (int w = 0; w < 4; w++) o[4 + w] = (load_le64(in + 31 + 8 * w) >> 6) | ((uint64_t)in[39 + 8 * w] << 58);
  o[7] &= top;
  for (int w = 0; w < 4; w++) o[8 + w] = (load_le64(in + 63 + 8 * w) >> 4) | ((uint64_t)in[71 + 8 * w] << 60);
  o[11] &= top;
  for (int w = 0; w < 3; w++) o[12 + w] = (load_le64(in + 95 + 8 * w) >> 2) | ((uint64_t)in[103 + 8 * w] << 62);
  o[15] = load_le64(in + 119) >> 2;
  memcpy(out, o, sizeof o);
}

/* Reduce n nodes at `level` (in place) to the single root of their zero-padded subtree at `height`. */
static void reduce(uint8_t *nodes, size_t n, int level, int height) {
  for (; level < height; level++) {
    if (n & 1) {
      memcpy(nodes + 32 * n, ZERO[level], 32);
      n++;
    }
    size_t pairs = n / 2, i = 0;
    for (; i + 1 < pairs; i += 2) node2(nodes + 64 * i, nodes + 64 * (i + 1), nodes + 32 * i, nodes + 32 * (i + 1));
    if (i < pairs) node1(nodes + 64 * i, nodes + 32 * i);
    n = pairs;
  }
}

/* Root of a subtree of height <= BLOCK_HEIGHT over len bytes (1..127 * 2^(height-2)), zero-padded. */
static void block_root(const uint8_t *data, size_t len, int height, uint8_t *scratch, uint8_t *out) {
  size_t quads = (len + QUAD_IN - 1) / QUAD_IN;
  for (size_t q = 0; q < quads; q++) {
    size_t at = q * QUAD_IN;
    if (at + QUAD_IN <= len) {
      fr32_quad(data + at, scratch + QUAD_OUT * q);
    } else {
      uint8_t tail[QUAD_OUT] = {0};
      memcpy(tail, data + at, len - at);
      fr32_quad(tail, scratch + QUAD_OUT * q);
    }
  }
  reduce(scratch, quads * 4, 0, height);
  memcpy(out, scratch, 32);
}

/* Root of a subtree of any height over len bytes (zero-padded); `roots` holds 2^(height-BLOCK) + 1 nodes. */
static void chunk_root(const uint8_t *data, size_t len, int height, uint8_t *scratch, uint8_t *roots, uint8_t *out) {
  if (len == 0) {
    memcpy(out, ZERO[height], 32);
    return;
  }
  if (height <= BLOCK_HEIGHT) {
    block_root(data, len, height, scratch, out);
    return;
  }
  const size_t block_bytes = (size_t)QUAD_IN << (BLOCK_HEIGHT - 2);
  size_t blocks = (len + block_bytes - 1) / block_bytes;
  for (size_t b = 0; b < blocks; b++) {
    size_t at = b * block_bytes, n = len - at < block_bytes ? len - at : block_bytes;
    block_root(data + at, n, BLOCK_HEIGHT, scratch, roots + 32 * b);
  }
  reduce(roots, blocks, BLOCK_HEIGHT, height);
  memcpy(out, roots, 32);
}

typedef struct {
  const uint8_t *data;
  size_t len;
  int height;
  size_t chunk_bytes;
  size_t chunks;
  uint8_t *out;
  atomic_size_t next;
  atomic_int failed;
} job_t;

static void *work(void *arg) {
  job_t *job = arg;
  size_t roots_len = job->height > BLOCK_HEIGHT ? ((size_t)1 << (job->height - BLOCK_HEIGHT)) + 1 : 1;
  uint8_t *scratch = malloc(((size_t)32 << BLOCK_HEIGHT) + 32);
  uint8_t *roots = malloc(32 * roots_len);
  if (scratch == NULL || roots == NULL) {
    atomic_store(&job->failed, 1);
  } else {
    for (;;) {
      size_t i = atomic_fetch_add(&job->next, 1);
      if (i >= job->chunks || atomic_load(&job->failed)) break;
      size_t at = i * job->chunk_bytes;
      size_t n = job->len - at < job->chunk_bytes ? job->len - at : job->chunk_bytes;
      chunk_root(job->data + at, n, job->height, scratch, roots, job->out + 32 * i);
    }
  }
  free(scratch);
  free(roots);
  return NULL;
}

/* Runs the job on the calling thread plus threads-1 helpers; returns 0 on success. */
static int run_job(job_t *job, int threads) {
  if ((size_t)threads > job->chunks) threads = (int)job->chunks;
  if (threads < 1) threads = 1;
  pthread_t helpers[256];
  int started = 0;
  for (int t = 1; t < threads && t <= 256; t++) {
    if (pthread_create(&helpers[started], NULL, work, job) == 0) started++;
  }
  work(job);
  for (int t = 0; t < started; t++) pthread_join(helpers[t], NULL);
  return atomic_load(&job->failed);
}

/* ---------- N-API ---------- */

#define CHECK(call)                                              \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error(env, NULL, "piece_cid: N-API call failed"); \
      return NULL;                                               \
    }                                                            \
  } while (0)

/* Parses (data: Uint8Array, chunkHeight: number, threads: number) into a job. Throws and returns 0 on bad input. */
static int parse_args(napi_env env, napi_callback_info info, napi_value *data_value, job_t *job, int *threads) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "chunkRoots(data, chunkHeight, threads): three arguments required");
    return 0;
  }
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *ptr = NULL;
  if (napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &ptr, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "chunkRoots: data must be a Uint8Array or Buffer");
    return 0;
  }
  int32_t height = 0, thread_count = 1;
  if (napi_get_value_int32(env, argv[1], &height) != napi_ok || height < 2 || height > MAX_CHUNK_HEIGHT) {
    napi_throw_range_error(env, NULL, "chunkRoots: chunkHeight must be an integer from 2 to 30");
    return 0;
  }
  if (napi_get_value_int32(env, argv[2], &thread_count) != napi_ok || thread_count < 1 || thread_count > 256) {
    napi_throw_range_error(env, NULL, "chunkRoots: threads must be an integer from 1 to 256");
    return 0;
  }
  *data_value = argv[0];
  job->data = ptr;
  job->len = length;
  job->height = height;
  job->chunk_bytes = (size_t)QUAD_IN << (height - 2);
  job->chunks = (length + job->chunk_bytes - 1) / job->chunk_bytes;
  atomic_init(&job->next, 0);
  atomic_init(&job->failed, 0);
  *threads = thread_count;
  return 1;
}

static napi_value chunk_roots_sync(napi_env env, napi_callback_info info) {
  napi_value data_value, result;
  job_t job;
  int threads;
  if (!parse_args(env, info, &data_value, &job, &threads)) return NULL;
  void *out = NULL;
  CHECK(napi_create_buffer(env, 32 * job.chunks, &out, &result));
  job.out = out;
  if (run_job(&job, threads) != 0) {
    napi_throw_error(env, NULL, "chunkRoots: out of memory");
    return NULL;
  }
  return result;
}

typedef struct {
  job_t job;
  int threads;
  napi_async_work work;
  napi_deferred deferred;
  napi_ref data_ref;
  napi_ref out_ref;
  int failed;
} async_job_t;

static void async_execute(napi_env env, void *arg) {
  (void)env;
  async_job_t *a = arg;
  a->failed = run_job(&a->job, a->threads);
}

static void async_complete(napi_env env, napi_status status, void *arg) {
  async_job_t *a = arg;
  napi_value out;
  if (status == napi_ok && !a->failed && napi_get_reference_value(env, a->out_ref, &out) == napi_ok) {
    napi_resolve_deferred(env, a->deferred, out);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, a->failed ? "chunkRoots: out of memory" : "chunkRoots: cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, a->deferred, error);
  }
  napi_delete_reference(env, a->data_ref);
  napi_delete_reference(env, a->out_ref);
  napi_delete_async_work(env, a->work);
  free(a);
}

static napi_value chunk_roots_async(napi_env env, napi_callback_info info) {
  async_job_t *a = calloc(1, sizeof *a);
  if (a == NULL) {
    napi_throw_error(env, NULL, "chunkRoots: out of memory");
    return NULL;
  }
  napi_value data_value, out_value, promise, name;
  if (!parse_args(env, info, &data_value, &a->job, &a->threads)) {
    free(a);
    return NULL;
  }
  void *out = NULL;
  /* The caller's bytes and the result stay referenced (not collected) until the work completes. */
  if (napi_create_buffer(env, 32 * a->job.chunks, &out, &out_value) != napi_ok) {
    free(a);
    napi_throw_error(env, NULL, "chunkRoots: out of memory");
    return NULL;
  }
  a->job.out = out; /* before queueing: the pool may start the work at once */
  if (napi_create_reference(env, data_value, 1, &a->data_ref) != napi_ok ||
      napi_create_reference(env, out_value, 1, &a->out_ref) != napi_ok ||
      napi_create_promise(env, &a->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "pieceChunkRoots", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, async_execute, async_complete, a, &a->work) != napi_ok ||
      napi_queue_async_work(env, a->work) != napi_ok) {
    napi_throw_error(env, NULL, "chunkRoots: could not queue the work");
    return NULL;
  }
  return promise;
}

NAPI_MODULE_INIT() {
  const uint16_t probe = 1;
  if (*(const uint8_t *)&probe != 1) {
    napi_throw_error(env, NULL, "piece_cid: big-endian hosts are not supported; use the portable path");
    return NULL;
  }
  pthread_once(&init_once, init_tables);
  napi_value sync_fn, async_fn, impl;
  CHECK(napi_create_function(env, "chunkRoots", NAPI_AUTO_LENGTH, chunk_roots_sync, NULL, &sync_fn));
  CHECK(napi_create_function(env, "chunkRootsAsync", NAPI_AUTO_LENGTH, chunk_roots_async, NULL, &async_fn));
  CHECK(napi_create_string_utf8(env, use_sha_ni ? "sha-ni" : "scalar", NAPI_AUTO_LENGTH, &impl));
  CHECK(napi_set_named_property(env, exports, "chunkRoots", sync_fn));
  CHECK(napi_set_named_property(env, exports, "chunkRootsAsync", async_fn));
  CHECK(napi_set_named_property(env, exports, "implementation", impl));
  return exports;
}
