// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 60,000 training and 10,000 test images of 28x28
// grey clothing in 10 classes, in the IDX format of MNIST. Debian's dataset-fashion-mnist package
// installs the four gzip files in kFashionMnistDir; nothing is ever downloaded.
#pragma once

#include <array>
#include <filesystem>
#include <string_view>

#include "dendrite/data/dataset.h"

namespace dendrite::data {

inline constexpr std::string_view kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr std::array<std::string_view, 10> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

struct TrainTest {
  TensorDataset train;
  TensorDataset test;
};

// Images f32 [N, 1, H, W] scaled to [0, 1] (stored as the file's bytes and converted batch by
// batch: TensorDataset::scaled), labels i64 [N], from an IDX image file (u8 [N, H, W]) and an IDX
// label file (u8 [N]). Counts that differ, or a label outside
// [0, num_classes), are Errors naming the file (and the label's byte offset).
TensorDataset idx_classification(const std::filesystem::path& images, const std::filesystem::path& labels,
                                 int64_t num_classes);

// {train, test} from `dir`, which holds train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or the same names without .gz). A
// missing directory or file is an Error naming the path and the Debian package to install.
TrainTest fashion_mnist(const std::filesystem::path& dir = kFashionMnistDir);

}  // namespace dendrite::data
