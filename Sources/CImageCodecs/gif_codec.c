// GIF decoding (the first frame) through giflib, reading records only up to that frame so an
// animation's later frames cost nothing.
#include "image_codecs.h"
#include "codec_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>

struct trl_gif_source {
  const uint8_t *data;
  size_t size;
  size_t offset;
};

static int trl_gif_read(GifFileType *gif, GifByteType *buffer, int length) {
  struct trl_gif_source *source = gif->UserData;
  size_t left = source->size - source->offset;
  size_t n = length < 0 ? 0 : (size_t)length;
  if (n > left) n = left;
  memcpy(buffer, source->data + source->offset, n);
  source->offset += n;
  return (int)n;
}

static trl_image_status trl_gif_fail(GifFileType *gif, trl_image_result *result,
                                     trl_image_status status, const char *what) {
  const char *reason = gif != NULL ? GifErrorString(gif->Error) : NULL;
  char message[sizeof result->message];
  snprintf(message, sizeof message, "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
  if (gif != NULL) DGifCloseFile(gif, NULL);
  return trl_image_fail(result, status, message);
}

trl_image_status trl_decode_gif(
    const uint8_t *data, size_t size, uint64_t max_pixels, trl_image_result *result) {
  memset(result, 0, sizeof *result);
  struct trl_gif_source source = {data, size, 0};
  int error = 0;
  GifFileType *gif = DGifOpen(&source, trl_gif_read, &error);
  if (gif == NULL) {
    snprintf(result->message, sizeof result->message, "cannot read the GIF header: %s",
             GifErrorString(error) ? GifErrorString(error) : "unknown error");
    return TRL_IMAGE_INVALID;
  }
  const uint32_t width = gif->SWidth > 0 ? (uint32_t)gif->SWidth : 0;
  const uint32_t height = gif->SHeight > 0 ? (uint32_t)gif->SHeight : 0;
  result->width = width;
  result->height = height;
  if ((uint64_t)width * height > max_pixels) {
    return trl_gif_fail(gif, result, TRL_IMAGE_TOO_LARGE, "too many pixels");
  }
  if (width == 0 || height == 0) {
    return trl_gif_fail(gif, result, TRL_IMAGE_INVALID, "the logical screen is empty");
  }

  int transparent = -1;
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) {
      return trl_gif_fail(gif, result, TRL_IMAGE_INVALID, "the GIF is truncated or corrupt");
    }
    if (type == TERMINATE_RECORD_TYPE) {
      return trl_gif_fail(gif, result, TRL_IMAGE_INVALID, "the GIF holds no image");
    }
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType *block = NULL;
      if (DGifGetExtension(gif, &code, &block) == GIF_ERROR) {
        return trl_gif_fail(gif, result, TRL_IMAGE_INVALID, "a GIF extension is corrupt");
      }
      if (code == GRAPHICS_EXT_FUNC_CODE && block != NULL) {
        GraphicsControlBlock control;
        if (DGifExtensionToGCB(block[0], block + 1, &control) == GIF_OK) {
          transparent = control.TransparentColor;
        }
      }
      while (block != NULL) {
        if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) {
          return trl_gif_fail(gif, result, TRL_IMAGE_INVALID, "a GIF extension is corrupt");
        }
      }
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) continue;

    if (DGifGetImageDesc(gif) == GIF_ERROR) {
      return trl_gif_fail(gif, result, TRL_IMAGE_INVALID, "the image descriptor is corrupt");
    }
    const GifImageDesc desc = gif->Image;
    const ColorMapObject *map = desc.ColorMap != NULL ? desc.ColorMap : gif->SColorMap;
    if (map == NULL) {
      return trl_gif_fail(gif, result, TRL_IMAGE_INVALID, "the GIF has no color table");
    }
    if (desc.Width <= 0 || desc.Height <= 0 || desc.Left < 0 || desc.Top < 0) {
      return trl_gif_fail(gif, result, TRL_IMAGE_INVALID, "the frame's size is invalid");
    }
    // Outside the frame, Pillow's first frame holds the transparent index, else index 0.
    uint8_t *indexes = malloc((size_t)width * height);
    uint8_t *line = malloc((size_t)desc.Width);
    result->pixels = malloc((size_t)width * height * 3);
    if (indexes == NULL || line == NULL || result->pixels == NULL) {
      free(indexes);
      free(line);
      return trl_gif_fail(gif, result, TRL_IMAGE_NO_MEMORY, "out of memory");
    }
    memset(indexes, transparent >= 0 ? transparent : 0, (size_t)width * height);
    // Interlaced frames store rows in four passes: every 8th from 0, every 8th from 4, every
    // 4th from 2, every 2nd from 1.
    static const int starts[4] = {0, 4, 2, 1}, steps[4] = {8, 8, 4, 2};
    const int passes = desc.Interlace ? 4 : 1;
    for (int pass = 0; pass < passes; pass++) {
      const int start = desc.Interlace ? starts[pass] : 0;
      const int step = desc.Interlace ? steps[pass] : 1;
      for (int row = start; row < desc.Height; row += step) {
        if (DGifGetLine(gif, line, desc.Width) == GIF_ERROR) {
          free(indexes);
          free(line);
          return trl_gif_fail(gif, result, TRL_IMAGE_INVALID, "the GIF image data is truncated");
        }
        const long y = (long)desc.Top + row;
        if (y >= (long)height) continue;
        for (int column = 0; column < desc.Width; column++) {
          const long x = (long)desc.Left + column;
          if (x < (long)width) indexes[(size_t)y * width + (size_t)x] = line[column];
        }
      }
    }
    free(line);
    for (size_t i = 0; i < (size_t)width * height; i++) {
      const int index = indexes[i];
      uint8_t *out = result->pixels + 3 * i;
      if (index < map->ColorCount) {
        out[0] = map->Colors[index].Red;
        out[1] = map->Colors[index].Green;
        out[2] = map->Colors[index].Blue;
      } else {
        out[0] = out[1] = out[2] = 0;  // Pillow pads a short palette with black
      }
    }
    free(indexes);
    DGifCloseFile(gif, NULL);
    return TRL_IMAGE_OK;
  }
}
