// Helpers the codec files share (not part of the module's public header).
#ifndef TROLLEY_CODEC_SUPPORT_H
#define TROLLEY_CODEC_SUPPORT_H

#include "image_codecs.h"

/// Ends a failed decode: `message` into the result, any pixels released, `status` returned.
trl_image_status trl_image_fail(trl_image_result *result, trl_image_status status,
                                const char *message);

#endif
