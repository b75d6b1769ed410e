#include "dendrite/data/fashion_mnist.h"

#include "dendrite/data/idx.h"

namespace dendrite::data {
namespace {

constexpr std::string_view kInstallHint =
    "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass the "
    "directory that holds its files";

// `name`.gz, or `name` when only the uncompressed file is there.
std::filesystem::path find_file(const std::filesystem::path& dir, std::string_view name) {
  std::error_code ec;
  const std::filesystem::path gz = dir / (std::string(name) + ".gz");
  if (std::filesystem::is_regular_file(gz, ec)) return gz;
  const std::filesystem::path plain = dir / std::string(name);
  if (std::filesystem::is_regular_file(plain, ec)) return plain;
  fail("fashion_mnist: {} not found (looked in {} for {}.gz or {}); {}", gz.string(), dir.string(), name, name,
       kInstallHint);
}

}  // namespace

TensorDataset idx_classification(const std::filesystem::path& images, const std::filesystem::path& labels,
                                 int64_t num_classes) {
  DENDRITE_CHECK(num_classes >= 1, "idx_classification: num_classes must be at least 1, got {}", num_classes);
  Tensor pixels = read_idx(images, 3);
  Tensor classes = read_idx(labels, 1);
  DENDRITE_CHECK(pixels.dtype() == DType::u8,
                 "idx_classification: {}: images must be u8 (type code 0x08 at byte 2), got {}", images.string(),
                 describe(pixels));
  DENDRITE_CHECK(classes.dtype() == DType::u8,
                 "idx_classification: {}: labels must be u8 (type code 0x08 at byte 2), got {}", labels.string(),
                 describe(classes));
  const int64_t n = pixels.size(0), h = pixels.size(1), w = pixels.size(2);
  DENDRITE_CHECK(classes.size(0) == n, "idx_classification: {} holds {} images but {} holds {} labels", images.string(),
                 n, labels.string(), classes.size(0));

  const uint8_t* label_bytes = classes.data_ptr<uint8_t>();
  Tensor targets = TensorBase::empty({n}, DType::i64);
  int64_t* target = targets.data_ptr<int64_t>();
  constexpr int64_t kLabelHeader = 8;  // magic and one dimension
  for (int64_t i = 0; i < n; ++i) {
    DENDRITE_CHECK(label_bytes[i] < num_classes,
                   "idx_classification: {}: label {} at index {} (byte {}) is out of range for {} classes [0, {})",
                   labels.string(), label_bytes[i], i, kLabelHeader + i, num_classes, num_classes);
    target[i] = label_bytes[i];
  }

  // Kept as bytes (a quarter of the memory) and served as f32 in [0, 1] batch by batch.
  return TensorDataset::scaled(pixels.reshape({n, 1, h, w}), std::move(targets), 1.0 / 255.0);
}

TrainTest fashion_mnist(const std::filesystem::path& dir) {
  std::error_code ec;
  DENDRITE_CHECK(std::filesystem::is_directory(dir, ec), "fashion_mnist: no directory {}; {}", dir.string(),
                 kInstallHint);
  auto load = [&](std::string_view split) {
    const std::string prefix(split);
    TensorDataset set = idx_classification(find_file(dir, prefix + "-images-idx3-ubyte"),
                                           find_file(dir, prefix + "-labels-idx1-ubyte"), 10);
    const Shape& shape = set.stored_inputs().shape();
    DENDRITE_CHECK(shape[2] == 28 && shape[3] == 28, "fashion_mnist: {}: images are {}x{}, Fashion-MNIST's are 28x28",
                   find_file(dir, prefix + "-images-idx3-ubyte").string(), shape[2], shape[3]);
    return set;
  };
  return {load("train"), load("t10k")};
}

}  // namespace dendrite::data
