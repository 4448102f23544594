// Decoding glue for libjpeg and libpng.
//
// Both libraries report fatal errors through a callback that must not return, so recovery needs
// setjmp/longjmp, which Swift cannot call. These wrappers own the jump buffers and turn every
// library error into a status code and a message; they never print and never exit.
#ifndef TROLLEY_IMAGE_CODECS_H
#define TROLLEY_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  TRL_IMAGE_OK = 0,
  /// The data is truncated or corrupt.
  TRL_IMAGE_INVALID = 1,
  /// The header declares more pixels than allowed; `width` and `height` hold the declared size.
  TRL_IMAGE_TOO_LARGE = 2,
  /// A valid file in a variant this decoder does not read (for example 12-bit JPEG).
  TRL_IMAGE_UNSUPPORTED = 3,
  /// An allocation failed.
  TRL_IMAGE_NO_MEMORY = 4,
  /// The file exceeds a decoder limit other than the pixel count (too many progressive scans,
  /// a side over libjpeg's 65500); `message` says which.
  TRL_IMAGE_OVER_LIMIT = 5,
} trl_image_status;

typedef struct {
  uint32_t width;
  uint32_t height;
  /// width * height * 3 bytes of RGB8 (row-major, interleaved), allocated with malloc; release
  /// with trl_image_free. NULL unless the status is TRL_IMAGE_OK.
  uint8_t *pixels;
  /// A NUL-terminated description of what went wrong (empty on success).
  char message[200];
} trl_image_result;

/// Decodes a JPEG to RGB8 the way Pillow's `Image.open(...).convert("RGB")` does (islow IDCT,
/// fancy upsampling, grayscale replicated, four-component images inverted then converted with
/// Pillow's CMYK formula). A premature end of data is an error, as in Pillow.
trl_image_status trl_decode_jpeg(
    const uint8_t *data, size_t size, uint64_t max_pixels, trl_image_result *result);

/// Decodes a PNG to RGB8 the way Pillow's `convert("RGB")` does: alpha dropped without
/// compositing, 16-bit RGB/RGBA/grey+alpha samples reduced to their high byte, 16-bit grey
/// clipped to 255, palettes looked up, 1/2/4-bit grey scaled to 0...255. Gamma is ignored.
trl_image_status trl_decode_png(
    const uint8_t *data, size_t size, uint64_t max_pixels, trl_image_result *result);

/// Decodes a WebP (lossy, lossless, with or without alpha, still or animated: the first frame)
/// to RGB8 the way Pillow does: through libwebpdemux's animation decoder onto an RGBA canvas, then
/// alpha dropped without compositing.
trl_image_status trl_decode_webp(
    const uint8_t *data, size_t size, uint64_t max_pixels, trl_image_result *result);

/// Decodes the first frame of a GIF to RGB8 as Pillow's `convert("RGB")` does: the logical
/// screen's size, the frame placed at its offset, the rest filled with the frame's transparent
/// index (else index 0), every index looked up in the local palette (else the global one).
trl_image_status trl_decode_gif(
    const uint8_t *data, size_t size, uint64_t max_pixels, trl_image_result *result);

/// Decodes an uncompressed or bit-field BMP (1, 4, 8, 16, 24 or 32 bits per pixel; Windows
/// and OS/2 headers; bottom-up or top-down) to RGB8; the fourth byte of 32-bit pixels is
/// dropped. Run-length-encoded and embedded JPEG/PNG BMPs are TRL_IMAGE_UNSUPPORTED.
trl_image_status trl_decode_bmp(
    const uint8_t *data, size_t size, uint64_t max_pixels, trl_image_result *result);

/// Releases pixels returned by a decoder.
void trl_image_free(uint8_t *pixels);

#endif
