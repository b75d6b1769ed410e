#include "dendrite/data/png.h"

#include <png.h>

#include <vector>

namespace dendrite::data {
namespace {

// Owns a png_image between begin_read and finish_read (or an error), which free it themselves
// only on some paths; png_image_free is safe to call twice.
class Image {
 public:
  explicit Image(const std::filesystem::path& path) : path_(path.string()) {
    image_.version = PNG_IMAGE_VERSION;
    std::error_code ec;
    DENDRITE_CHECK(std::filesystem::is_regular_file(path, ec), "read_png: {}: no such file", path_);
    if (png_image_begin_read_from_file(&image_, path_.c_str()) == 0) fail_png("not a readable PNG file");
    // 16-bit samples are almost always sRGB-encoded like 8-bit ones; libpng otherwise assumes
    // linear data and would gamma-encode them.
    image_.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
  }
  ~Image() { png_image_free(&image_); }
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;

  PngHeader header() const {
    return {static_cast<int64_t>(image_.height), static_cast<int64_t>(image_.width),
            (image_.format & PNG_FORMAT_FLAG_COLOR) != 0};
  }

  // Decodes to interleaved 8-bit grey or RGB.
  std::vector<unsigned char> pixels(int channels) {
    image_.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    std::vector<unsigned char> buffer(PNG_IMAGE_SIZE(image_), 0);
    const png_color black{0, 0, 0};
    if (png_image_finish_read(&image_, &black, buffer.data(), 0, nullptr) == 0) fail_png("corrupt PNG data");
    return buffer;
  }

 private:
  [[noreturn]] void fail_png(const char* what) {
    const std::string reason = image_.message[0] != '\0' ? image_.message : "libpng gave no reason";
    png_image_free(&image_);  // the constructor may be the thrower, and then no destructor runs
    fail("read_png: {}: {}: {}", path_, what, reason);
  }

  std::string path_;
  png_image image_{};
};

}  // namespace

PngHeader read_png_header(const std::filesystem::path& path) { return Image(path).header(); }

Tensor read_png(const std::filesystem::path& path, int channels) {
  DENDRITE_CHECK(channels == 0 || channels == 1 || channels == 3,
                 "read_png: channels must be 0 (as stored), 1 (grey) or 3 (RGB), got {}", channels);
  Image image(path);
  const PngHeader header = image.header();
  if (channels == 0) channels = header.color ? 3 : 1;
  const std::vector<unsigned char> hwc = image.pixels(channels);
  const int64_t plane = header.height * header.width;
  Tensor out = TensorBase::empty({channels, header.height, header.width}, DType::f32);
  float* dst = out.data_ptr<float>();
  for (int64_t p = 0; p < plane; ++p) {
    for (int64_t c = 0; c < channels; ++c) dst[c * plane + p] = static_cast<float>(hwc[p * channels + c]) / 255.0f;
  }
  return out;
}

}  // namespace dendrite::data
