// WebP decoding through libwebp's demuxing animation decoder, as Pillow does for every WebP
// file (still or animated), so that alpha and canvas handling match it.
#include "image_codecs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

trl_image_status trl_decode_webp(
    const uint8_t *data, size_t size, uint64_t max_pixels, trl_image_result *result) {
  memset(result, 0, sizeof *result);
  WebPBitstreamFeatures features;
  VP8StatusCode code = WebPGetFeatures(data, size, &features);
  if (code != VP8_STATUS_OK) {
    snprintf(result->message, sizeof result->message,
             code == VP8_STATUS_NOT_ENOUGH_DATA ? "the WebP data ends early"
                                                : "the WebP header is invalid (libwebp status %d)",
             (int)code);
    return TRL_IMAGE_INVALID;
  }
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) {
    snprintf(result->message, sizeof result->message, "libwebpdemux version mismatch");
    return TRL_IMAGE_UNSUPPORTED;
  }
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  WebPData webp = {data, size};
  WebPAnimDecoder *decoder = WebPAnimDecoderNew(&webp, &options);
  if (decoder == NULL) {
    snprintf(result->message, sizeof result->message, "libwebp cannot read the container");
    return TRL_IMAGE_INVALID;
  }
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(decoder, &info)) {
    WebPAnimDecoderDelete(decoder);
    snprintf(result->message, sizeof result->message, "libwebp cannot read the canvas size");
    return TRL_IMAGE_INVALID;
  }
  result->width = info.canvas_width;
  result->height = info.canvas_height;
  if ((uint64_t)info.canvas_width * info.canvas_height > max_pixels) {
    WebPAnimDecoderDelete(decoder);
    snprintf(result->message, sizeof result->message, "too many pixels");
    return TRL_IMAGE_TOO_LARGE;
  }
  uint8_t *rgba = NULL;
  int timestamp = 0;
  if (!WebPAnimDecoderHasMoreFrames(decoder) ||
      !WebPAnimDecoderGetNext(decoder, &rgba, &timestamp) || rgba == NULL) {
    WebPAnimDecoderDelete(decoder);
    snprintf(result->message, sizeof result->message, "the WebP image data is truncated or corrupt");
    return TRL_IMAGE_INVALID;
  }
  const size_t count = (size_t)info.canvas_width * info.canvas_height;
  uint8_t *pixels = malloc(count * 3);
  if (pixels == NULL) {
    WebPAnimDecoderDelete(decoder);
    snprintf(result->message, sizeof result->message, "out of memory");
    return TRL_IMAGE_NO_MEMORY;
  }
  for (size_t i = 0; i < count; i++) {
    pixels[3 * i] = rgba[4 * i];
    pixels[3 * i + 1] = rgba[4 * i + 1];
    pixels[3 * i + 2] = rgba[4 * i + 2];
  }
  WebPAnimDecoderDelete(decoder);  // owns `rgba`
  result->pixels = pixels;
  return TRL_IMAGE_OK;
}
