#include "image_codecs.h"
#include "codec_support.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

void trl_image_free(uint8_t *pixels) { free(pixels); }

static void trl_set_message(trl_image_result *result, const char *message) {
  snprintf(result->message, sizeof result->message, "%s", message);
}

trl_image_status trl_image_fail(trl_image_result *result, trl_image_status status,
                                const char *message) {
  trl_set_message(result, message);
  free(result->pixels);
  result->pixels = NULL;
  return status;
}

static int trl_too_many_pixels(uint64_t width, uint64_t height, uint64_t max_pixels) {
  return width * height > max_pixels;
}

// MARK: - JPEG

struct trl_jpeg_error {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  trl_image_result *result;
  trl_image_status status;
};

static void trl_jpeg_error_exit(j_common_ptr cinfo) {
  struct trl_jpeg_error *error = (struct trl_jpeg_error *)cinfo->err;
  char buffer[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, buffer);
  trl_set_message(error->result, buffer);
  if (cinfo->err->msg_code == JERR_IMAGE_TOO_BIG) {
    error->status = TRL_IMAGE_OVER_LIMIT;
  } else if (cinfo->err->msg_code == JERR_BAD_PRECISION) {
    error->status = TRL_IMAGE_UNSUPPORTED;
  } else if (cinfo->err->msg_code == JERR_OUT_OF_MEMORY) {
    error->status = TRL_IMAGE_NO_MEMORY;
  }
  longjmp(error->jump, 1);
}

// libjpeg treats running out of data as a warning and pads the image with grey; Pillow (without
// LOAD_TRUNCATED_IMAGES) rejects such a file as truncated, so this warning is fatal here. Other
// warnings (extraneous bytes before a marker, ...) are ignored, as Pillow ignores them.
static void trl_jpeg_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0) {
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
      (*cinfo->err->error_exit)(cinfo);
    }
    cinfo->err->num_warnings++;
  }
}

static void trl_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

// A progressive JPEG may hold any number of scans, and each one re-reads the whole coefficient
// buffer: a small file with thousands of scans takes minutes to decode. Real encoders write
// about ten; past this many, the file is treated as a decompression bomb.
enum { TRL_JPEG_MAX_SCANS = 1000 };

static void trl_jpeg_progress(j_common_ptr cinfo) {
  j_decompress_ptr decompress = (j_decompress_ptr)cinfo;
  if (decompress->input_scan_number > TRL_JPEG_MAX_SCANS) {
    struct trl_jpeg_error *error = (struct trl_jpeg_error *)cinfo->err;
    snprintf(error->result->message, sizeof error->result->message,
        "more than %d progressive scans", TRL_JPEG_MAX_SCANS);
    error->status = TRL_IMAGE_OVER_LIMIT;
    longjmp(error->jump, 1);
  }
}

// Pillow's MULDIV255: a * b / 255, rounded, in integers.
static int trl_muldiv255(int a, int b) {
  int tmp = a * b + 128;
  return ((tmp >> 8) + tmp) >> 8;
}

static uint8_t trl_clip8(int value) {
  return value <= 0 ? 0 : (value >= 255 ? 255 : (uint8_t)value);
}

trl_image_status trl_decode_jpeg(
    const uint8_t *data, size_t size, uint64_t max_pixels, trl_image_result *result) {
  memset(result, 0, sizeof *result);
  struct jpeg_decompress_struct cinfo;
  struct trl_jpeg_error error;
  uint8_t *volatile pixels = NULL;
  JSAMPLE *volatile row = NULL;

  cinfo.err = jpeg_std_error(&error.base);
  error.base.error_exit = trl_jpeg_error_exit;
  error.base.emit_message = trl_jpeg_emit_message;
  error.base.output_message = trl_jpeg_output_message;
  error.result = result;
  error.status = TRL_IMAGE_INVALID;

  if (setjmp(error.jump)) {
    jpeg_destroy_decompress(&cinfo);
    free(pixels);
    free(row);
    return error.status;
  }

  jpeg_create_decompress(&cinfo);
  struct jpeg_progress_mgr progress = {.progress_monitor = trl_jpeg_progress};
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);

  result->width = cinfo.image_width;
  result->height = cinfo.image_height;
  if (trl_too_many_pixels(cinfo.image_width, cinfo.image_height, max_pixels)) {
    jpeg_destroy_decompress(&cinfo);
    trl_set_message(result, "too many pixels");
    return TRL_IMAGE_TOO_LARGE;
  }

  // Pillow decodes one component as L, three as RGB (libjpeg converts YCbCr), four as CMYK.
  switch (cinfo.num_components) {
  case 1:
    cinfo.out_color_space = JCS_GRAYSCALE;
    break;
  case 3:
    cinfo.out_color_space = JCS_RGB;
    break;
  case 4:
    cinfo.out_color_space = JCS_CMYK;
    break;
  default:
    jpeg_destroy_decompress(&cinfo);
    snprintf(result->message, sizeof result->message, "JPEG with %d color components",
        cinfo.num_components);
    return TRL_IMAGE_UNSUPPORTED;
  }

  jpeg_start_decompress(&cinfo);
  const size_t width = cinfo.output_width;
  const size_t height = cinfo.output_height;
  const int components = cinfo.output_components;
  pixels = malloc(width * height * 3);
  row = malloc(width * (size_t)components);
  if (pixels == NULL || row == NULL) {
    error.status = TRL_IMAGE_NO_MEMORY;
    trl_set_message(result, "out of memory");
    longjmp(error.jump, 1);
  }

  while (cinfo.output_scanline < cinfo.output_height) {
    const size_t y = cinfo.output_scanline;
    JSAMPROW rows[1] = {row};
    if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) {
      trl_set_message(result, "JPEG data ended early");
      longjmp(error.jump, 1);
    }
    uint8_t *out = pixels + y * width * 3;
    if (components == 1) {
      for (size_t x = 0; x < width; x++) {
        out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = row[x];
      }
    } else if (components == 3) {
      memcpy(out, row, width * 3);
    } else {
      // Pillow reads every four-component JPEG as inverted CMYK ("CMYK;I"), then converts.
      for (size_t x = 0; x < width; x++) {
        const int nk = 255 - (255 - row[4 * x + 3]);
        for (int c = 0; c < 3; c++) {
          const int ink = 255 - row[4 * x + c];
          out[3 * x + c] = trl_clip8(nk - trl_muldiv255(ink, nk));
        }
      }
    }
  }

  // The trailing EOI is not required (Pillow does not require it either).
  jpeg_destroy_decompress(&cinfo);
  free(row);
  result->width = (uint32_t)width;
  result->height = (uint32_t)height;
  result->pixels = pixels;
  return TRL_IMAGE_OK;
}

// MARK: - PNG

struct trl_png_source {
  const uint8_t *data;
  size_t size;
  size_t offset;
};

static void trl_png_read(png_structp png, png_bytep out, size_t length) {
  struct trl_png_source *source = (struct trl_png_source *)png_get_io_ptr(png);
  if (length > source->size - source->offset) {
    png_error(png, "PNG data ended early (file truncated)");
  }
  memcpy(out, source->data + source->offset, length);
  source->offset += length;
}

static void trl_png_error(png_structp png, png_const_charp message) {
  trl_image_result *result = (trl_image_result *)png_get_error_ptr(png);
  trl_set_message(result, message);
  png_longjmp(png, 1);
}

static void trl_png_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;
}

// One raw (untransformed) PNG row to RGB8, following Pillow's modes and convert("RGB").
static void trl_png_convert_row(const uint8_t *raw, size_t width, int depth, int color_type,
    const png_color *palette, int palette_count, uint8_t *out) {
  switch (color_type) {
  case PNG_COLOR_TYPE_GRAY:
    if (depth == 16) {
      // Pillow opens 16-bit grey as "I;16" and its I;16 -> RGB conversion clips at 255.
      for (size_t x = 0; x < width; x++) {
        const uint8_t v = raw[2 * x] != 0 ? 255 : raw[2 * x + 1];
        out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = v;
      }
    } else if (depth == 8) {
      for (size_t x = 0; x < width; x++) {
        out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = raw[x];
      }
    } else {
      const int per_byte = 8 / depth;
      const int mask = (1 << depth) - 1;
      const int scale = 255 / mask;
      for (size_t x = 0; x < width; x++) {
        const int shift = 8 - depth * (int)(x % (size_t)per_byte + 1);
        const uint8_t v = (uint8_t)(((raw[x / (size_t)per_byte] >> shift) & mask) * scale);
        out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = v;
      }
    }
    break;
  case PNG_COLOR_TYPE_RGB: {
    if (depth == 8) {
      // Already RGB8: one copy (the strided loop below does not vectorize).
      memcpy(out, raw, width * 3);
      break;
    }
    for (size_t i = 0; i < width * 3; i++) {
      out[i] = raw[i * 2];
    }
    break;
  }
  case PNG_COLOR_TYPE_PALETTE: {
    const int per_byte = 8 / depth;
    const int mask = (1 << depth) - 1;
    for (size_t x = 0; x < width; x++) {
      const int shift = 8 - depth * (int)(x % (size_t)per_byte + 1);
      const int index = (raw[x / (size_t)per_byte] >> shift) & mask;
      if (index < palette_count) {
        out[3 * x] = palette[index].red;
        out[3 * x + 1] = palette[index].green;
        out[3 * x + 2] = palette[index].blue;
      } else {
        out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = 0;
      }
    }
    break;
  }
  case PNG_COLOR_TYPE_GRAY_ALPHA: {
    const size_t step = depth == 16 ? 4 : 2;
    for (size_t x = 0; x < width; x++) {
      out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = raw[x * step];
    }
    break;
  }
  case PNG_COLOR_TYPE_RGB_ALPHA: {
    const size_t step = depth == 16 ? 2 : 1;
    for (size_t x = 0; x < width; x++) {
      out[3 * x] = raw[(4 * x) * step];
      out[3 * x + 1] = raw[(4 * x + 1) * step];
      out[3 * x + 2] = raw[(4 * x + 2) * step];
    }
    break;
  }
  default:
    break;
  }
}

trl_image_status trl_decode_png(
    const uint8_t *data, size_t size, uint64_t max_pixels, trl_image_result *result) {
  memset(result, 0, sizeof *result);
  struct trl_png_source source = {data, size, 0};
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, result, trl_png_error, trl_png_warning);
  if (png == NULL) {
    trl_set_message(result, "out of memory");
    return TRL_IMAGE_NO_MEMORY;
  }
  png_infop info = png_create_info_struct(png);
  if (info == NULL) {
    png_destroy_read_struct(&png, NULL, NULL);
    trl_set_message(result, "out of memory");
    return TRL_IMAGE_NO_MEMORY;
  }
  uint8_t *volatile pixels = NULL;
  uint8_t *volatile raw = NULL;
  png_bytep *volatile rows = NULL;
  volatile trl_image_status status = TRL_IMAGE_INVALID;

  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    free(pixels);
    free(raw);
    free(rows);
    return status;
  }

  png_set_read_fn(png, &source, trl_png_read);
  // The pixel limit below is the one that applies; libpng's own 1e6-per-side default would
  // reject a valid 2000000x1 image with a less useful message.
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_read_info(png, info);

  png_uint_32 width = 0, height = 0;
  int depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &depth, &color_type, &interlace, NULL, NULL);
  result->width = width;
  result->height = height;
  if (trl_too_many_pixels(width, height, max_pixels)) {
    png_destroy_read_struct(&png, &info, NULL);
    trl_set_message(result, "too many pixels");
    return TRL_IMAGE_TOO_LARGE;
  }

  png_colorp palette = NULL;
  int palette_count = 0;
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_get_PLTE(png, info, &palette, &palette_count);
  }
  const int passes = interlace == PNG_INTERLACE_NONE ? 1 : png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);

  pixels = malloc((size_t)width * height * 3);
  if (pixels == NULL) {
    status = TRL_IMAGE_NO_MEMORY;
    png_error(png, "out of memory");
  }
  if (passes == 1) {
    raw = malloc(row_bytes);
    if (raw == NULL) {
      status = TRL_IMAGE_NO_MEMORY;
      png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < height; y++) {
      png_read_row(png, raw, NULL);
      trl_png_convert_row(raw, width, depth, color_type, palette, palette_count,
          pixels + (size_t)y * width * 3);
    }
  } else {
    // Interlaced rows only become whole after the last pass, so the raw image is kept.
    raw = malloc(row_bytes * height);
    rows = malloc(sizeof(png_bytep) * height);
    if (raw == NULL || rows == NULL) {
      status = TRL_IMAGE_NO_MEMORY;
      png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < height; y++) {
      rows[y] = raw + (size_t)y * row_bytes;
    }
    png_read_image(png, rows);
    for (png_uint_32 y = 0; y < height; y++) {
      trl_png_convert_row(rows[y], width, depth, color_type, palette, palette_count,
          pixels + (size_t)y * width * 3);
    }
  }

  // IEND and any chunk after the image data are not read: Pillow does not need them either.
  png_destroy_read_struct(&png, &info, NULL);
  free(raw);
  free(rows);
  result->pixels = pixels;
  return TRL_IMAGE_OK;
}
