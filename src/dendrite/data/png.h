// PNG images through libpng's simplified API (png_image_*): any colour type, bit depth and
// interlacing comes in as 8-bit grey or RGB. Alpha is composited onto black; 16-bit samples are
// taken as sRGB-encoded and reduced to 8 bits; colour to grey uses libpng's sRGB luminance.
#pragma once

#include <filesystem>

#include "dendrite/ops/tensor.h"

namespace dendrite::data {

struct PngHeader {
  int64_t height = 0;
  int64_t width = 0;
  bool color = false;  // the file stores colour (RGB, RGBA or a colour palette)
};

// Reads only the header. A missing or non-PNG file is an Error naming it and libpng's reason.
PngHeader read_png_header(const std::filesystem::path& path);

// The image as f32 [channels, H, W] scaled to [0, 1], the layout image_folder and
// fashion_mnist give. channels: 1 (grey) or 3 (RGB); 0 keeps the file's (1 if grey, else 3).
Tensor read_png(const std::filesystem::path& path, int channels = 0);

}  // namespace dendrite::data
