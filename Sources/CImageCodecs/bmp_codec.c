// BMP decoding, written here: the format is a header and rows of packed pixels, which needs no
// library. Covers what cameras, scanners and Windows tools write; RLE and embedded JPEG/PNG
// bitmaps (rare) are reported as unsupported.
#include "image_codecs.h"
#include "codec_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t trl_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t trl_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

// A bit-field channel: where it sits and how many bits it has.
struct trl_bmp_channel {
  uint32_t mask;
  int shift;
  uint32_t max;
};

static struct trl_bmp_channel trl_bmp_channel(uint32_t mask) {
  struct trl_bmp_channel channel = {mask, 0, 0};
  if (mask == 0) return channel;
  while (!(mask & 1)) {
    mask >>= 1;
    channel.shift++;
  }
  channel.max = mask;
  return channel;
}

// Scales a channel to 0...255 as Pillow's unpackers do (integer division, truncating).
static uint8_t trl_bmp_scale(uint32_t pixel, struct trl_bmp_channel channel) {
  if (channel.max == 0) return 0;
  uint32_t value = (pixel & channel.mask) >> channel.shift;
  return (uint8_t)((uint64_t)value * 255 / channel.max);
}

trl_image_status trl_decode_bmp(
    const uint8_t *data, size_t size, uint64_t max_pixels, trl_image_result *result) {
  memset(result, 0, sizeof *result);
  if (size < 26 || data[0] != 'B' || data[1] != 'M') {
    return trl_image_fail(result, TRL_IMAGE_INVALID, "the BMP header is truncated");
  }
  const uint32_t offset = trl_le32(data + 10);
  const uint32_t header = trl_le32(data + 14);
  int64_t width, height;
  uint32_t bits, compression = 0, colors_used = 0;
  size_t palette_entry = 4;
  if (header == 12) {  // OS/2 BITMAPCOREHEADER
    width = trl_le16(data + 18);
    height = trl_le16(data + 20);
    bits = trl_le16(data + 24);
    palette_entry = 3;
  } else if (header >= 40 && size >= 14 + (size_t)header) {
    width = (int32_t)trl_le32(data + 18);
    height = (int32_t)trl_le32(data + 22);
    bits = trl_le16(data + 28);
    compression = trl_le32(data + 30);
    colors_used = trl_le32(data + 46);
  } else {
    return trl_image_fail(result, TRL_IMAGE_INVALID, "the BMP info header is truncated or unknown");
  }
  const int top_down = height < 0;
  if (height < 0) height = -height;
  if (width <= 0 || height <= 0) {
    return trl_image_fail(result, TRL_IMAGE_INVALID, "the BMP declares an empty image");
  }
  result->width = (uint32_t)width;
  result->height = (uint32_t)height;
  if ((uint64_t)width * (uint64_t)height > max_pixels) {
    return trl_image_fail(result, TRL_IMAGE_TOO_LARGE, "too many pixels");
  }
  // 0 BI_RGB, 3 BI_BITFIELDS, 6 BI_ALPHABITFIELDS; 1/2 are RLE8/RLE4, 4/5 embed JPEG/PNG.
  if (compression != 0 && compression != 3 && compression != 6) {
    return trl_image_fail(result, TRL_IMAGE_UNSUPPORTED,
                        compression == 1 || compression == 2
                            ? "run-length-encoded BMP; convert it to PNG"
                            : "BMP with an embedded JPEG/PNG or unknown compression");
  }
  if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32) {
    return trl_image_fail(result, TRL_IMAGE_UNSUPPORTED, "a BMP bit depth other than 1/4/8/16/24/32");
  }

  struct trl_bmp_channel red, green, blue;
  if (compression == 3 || compression == 6) {
    // The masks follow a 40-byte header, or sit inside a V4/V5 header: same offsets either way.
    if (size < 14 + 40 + 12) return trl_image_fail(result, TRL_IMAGE_INVALID, "the BMP bit masks are truncated");
    red = trl_bmp_channel(trl_le32(data + 54));
    green = trl_bmp_channel(trl_le32(data + 58));
    blue = trl_bmp_channel(trl_le32(data + 62));
  } else if (bits == 16) {  // 5-5-5
    red = trl_bmp_channel(0x7C00);
    green = trl_bmp_channel(0x03E0);
    blue = trl_bmp_channel(0x001F);
  } else {  // 24/32-bit BI_RGB: B, G, R(, unused) bytes
    red = trl_bmp_channel(0x00FF0000);
    green = trl_bmp_channel(0x0000FF00);
    blue = trl_bmp_channel(0x000000FF);
  }

  const uint8_t *palette = NULL;
  size_t palette_count = 0;
  if (bits <= 8) {
    palette_count = colors_used != 0 && colors_used <= (1u << bits) ? colors_used : (1u << bits);
    const size_t palette_start = 14 + (size_t)header;
    const size_t available = offset > palette_start ? (offset - palette_start) / palette_entry : 0;
    if (available < palette_count) palette_count = available;
    if (palette_start + palette_count * palette_entry > size) {
      return trl_image_fail(result, TRL_IMAGE_INVALID, "the BMP palette is truncated");
    }
    palette = data + palette_start;
  }

  const size_t stride = (((size_t)bits * (size_t)width + 31) / 32) * 4;
  if (offset > size || stride * (size_t)height > size - offset) {
    return trl_image_fail(result, TRL_IMAGE_INVALID, "the BMP pixel data is truncated");
  }
  result->pixels = malloc((size_t)width * (size_t)height * 3);
  if (result->pixels == NULL) return trl_image_fail(result, TRL_IMAGE_NO_MEMORY, "out of memory");

  for (int64_t y = 0; y < height; y++) {
    const uint8_t *row = data + offset + stride * (size_t)(top_down ? y : height - 1 - y);
    uint8_t *out = result->pixels + (size_t)y * (size_t)width * 3;
    for (int64_t x = 0; x < width; x++, out += 3) {
      if (bits <= 8) {
        const size_t bit = (size_t)x * bits;
        const uint32_t index = (row[bit / 8] >> (8 - bits - bit % 8)) & ((1u << bits) - 1);
        if (index < palette_count) {
          const uint8_t *entry = palette + index * palette_entry;
          out[0] = entry[2];
          out[1] = entry[1];
          out[2] = entry[0];
        } else {
          out[0] = out[1] = out[2] = 0;
        }
        continue;
      }
      uint32_t pixel;
      if (bits == 16) pixel = trl_le16(row + 2 * x);
      else if (bits == 24) pixel = (uint32_t)row[3 * x] | (uint32_t)row[3 * x + 1] << 8 | (uint32_t)row[3 * x + 2] << 16;
      else pixel = trl_le32(row + 4 * x);
      out[0] = trl_bmp_scale(pixel, red);
      out[1] = trl_bmp_scale(pixel, green);
      out[2] = trl_bmp_scale(pixel, blue);
    }
  }
  return TRL_IMAGE_OK;
}
