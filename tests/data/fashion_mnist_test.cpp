// Fashion-MNIST from the Debian package's files (skipped where the package is absent), and the
// errors of idx_classification and fashion_mnist on missing or inconsistent files.
#include "dendrite/data/fashion_mnist.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/test_files.h"
#include "dendrite/ops/creation.h"
#include "support/errors.h"

namespace dendrite::data {
namespace {

using test_support::error_of;
using files::Bytes;
using files::TempDir;
using ::testing::HasSubstr;

TEST(FashionMnistTest, LoadsTheInstalledFiles) {
  if (!std::filesystem::is_directory(kFashionMnistDir)) {
    GTEST_SKIP() << kFashionMnistDir << " is absent (Debian package dataset-fashion-mnist)";
  }
  auto [train, test] = fashion_mnist();
  EXPECT_EQ(train.size(), 60000);
  EXPECT_EQ(test.size(), 10000);
  EXPECT_EQ(train.inputs().shape(), (Shape{60000, 1, 28, 28}));
  EXPECT_EQ(train.inputs().dtype(), DType::f32);
  EXPECT_EQ(train.targets().shape(), (Shape{60000}));
  EXPECT_EQ(train.targets().dtype(), DType::i64);
  EXPECT_EQ(test.inputs().shape(), (Shape{10000, 1, 28, 28}));
  // First labels and pixel sums, read independently with Python's gzip module.
  EXPECT_EQ(to_vector<int64_t>(train.targets().slice(0, 0, 5)), (std::vector<int64_t>{9, 0, 0, 3, 0}));
  EXPECT_EQ(to_vector<int64_t>(test.targets().slice(0, 0, 5)), (std::vector<int64_t>{9, 2, 1, 1, 6}));
  std::vector<float> first = to_vector<float>(train.get(0).input);
  double sum = 0;
  for (float v : first) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
    sum += v;
  }
  EXPECT_NEAR(sum * 255.0, 76247.0, 1e-2);
  std::vector<int64_t> counts(10, 0);
  for (int64_t label : to_vector<int64_t>(train.targets())) ++counts[static_cast<size_t>(label)];
  EXPECT_EQ(counts, std::vector<int64_t>(10, 6000));
}

TEST(FashionMnistTest, MissingDirectoryNamesThePackage) {
  const std::string msg = error_of([] { fashion_mnist("/nonexistent/fashion-mnist"); });
  EXPECT_THAT(msg, HasSubstr("/nonexistent/fashion-mnist"));
  EXPECT_THAT(msg, HasSubstr("install the Debian package dataset-fashion-mnist"));
}

TEST(FashionMnistTest, MissingFileNamesPathAndPackage) {
  TempDir dir;
  files::write_file(dir / "train-images-idx3-ubyte.gz", files::idx_u8({1, 28, 28}, Bytes(784, 0)), true);
  const std::string msg = error_of([&] { fashion_mnist(dir.path()); });
  EXPECT_THAT(msg, HasSubstr((dir / "train-labels-idx1-ubyte.gz").string()));
  EXPECT_THAT(msg, HasSubstr("looked in " + dir.path().string()));
  EXPECT_THAT(msg, HasSubstr("install the Debian package dataset-fashion-mnist"));
}

TEST(FashionMnistTest, SmallGeneratedSplitLoads) {
  TempDir dir;
  Bytes pixels(2 * 784, 0);
  pixels[0] = 255;
  pixels[784 + 1] = 51;
  for (const char* split : {"train", "t10k"}) {
    files::write_file(dir / (std::string(split) + "-images-idx3-ubyte.gz"), files::idx_u8({2, 28, 28}, pixels), true);
    // Uncompressed labels are accepted too.
    files::write_file(dir / (std::string(split) + "-labels-idx1-ubyte"), files::idx_u8({2}, {7, 1}), false);
  }
  auto [train, test] = fashion_mnist(dir.path());
  EXPECT_EQ(train.size(), 2);
  EXPECT_EQ(to_vector<int64_t>(test.targets()), (std::vector<int64_t>{7, 1}));
  std::vector<float> x = to_vector<float>(train.inputs());
  EXPECT_EQ(x[0], 1.0f);
  EXPECT_FLOAT_EQ(x[784 + 1], 0.2f);
}

TEST(FashionMnistTest, WrongImageSize) {
  TempDir dir;
  for (const char* split : {"train", "t10k"}) {
    files::write_file(dir / (std::string(split) + "-images-idx3-ubyte.gz"), files::idx_u8({1, 4, 4}, Bytes(16, 0)),
                      true);
    files::write_file(dir / (std::string(split) + "-labels-idx1-ubyte.gz"), files::idx_u8({1}, {0}), true);
  }
  const std::string msg = error_of([&] { fashion_mnist(dir.path()); });
  EXPECT_THAT(msg, HasSubstr((dir / "train-images-idx3-ubyte.gz").string()));
  EXPECT_THAT(msg, HasSubstr("images are 4x4, Fashion-MNIST's are 28x28"));
}

TEST(IdxClassificationTest, CountMismatchNamesBothFiles) {
  TempDir dir;
  files::write_file(dir / "images.gz", files::idx_u8({3, 2, 2}, Bytes(12, 0)), true);
  files::write_file(dir / "labels.gz", files::idx_u8({2}, {0, 1}), true);
  const std::string msg = error_of([&] { idx_classification(dir / "images.gz", dir / "labels.gz", 10); });
  EXPECT_THAT(msg, HasSubstr((dir / "images.gz").string() + " holds 3 images"));
  EXPECT_THAT(msg, HasSubstr((dir / "labels.gz").string() + " holds 2 labels"));
}

TEST(IdxClassificationTest, LabelOutOfRangeNamesFileIndexAndByte) {
  TempDir dir;
  files::write_file(dir / "images.gz", files::idx_u8({3, 2, 2}, Bytes(12, 0)), true);
  files::write_file(dir / "labels.gz", files::idx_u8({3}, {0, 9, 12}), true);
  const std::string msg = error_of([&] { idx_classification(dir / "images.gz", dir / "labels.gz", 10); });
  EXPECT_THAT(msg, HasSubstr((dir / "labels.gz").string()));
  EXPECT_THAT(msg, HasSubstr("label 12 at index 2 (byte 10) is out of range for 10 classes"));
}

TEST(IdxClassificationTest, WrongRankOrTypeIsAnError) {
  TempDir dir;
  files::write_file(dir / "images.gz", files::idx_u8({3, 4}, Bytes(12, 0)), true);
  files::write_file(dir / "labels.gz", files::idx_u8({3}, {0, 1, 2}), true);
  EXPECT_THAT(error_of([&] { idx_classification(dir / "images.gz", dir / "labels.gz", 10); }),
              HasSubstr("rank 2 at byte 3 of the decompressed data, expected rank 3"));
  Bytes labels = files::idx_header(0x0C, {1});
  files::append_be32(labels, 1);
  files::write_file(dir / "images.gz", files::idx_u8({1, 2, 2}, Bytes(4, 0)), true);
  files::write_file(dir / "labels.gz", labels, true);
  EXPECT_THAT(error_of([&] { idx_classification(dir / "images.gz", dir / "labels.gz", 10); }),
              HasSubstr("labels must be u8"));
}

}  // namespace
}  // namespace dendrite::data
