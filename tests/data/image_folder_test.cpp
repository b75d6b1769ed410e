// image_folder and read_png on PNGs the test writes with libpng: grey and colour images, the
// channel rules, the optional CSV header, and an Error naming file and line for each bad input.
#include "dendrite/data/image_folder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/test_files.h"
#include "dendrite/data/png.h"
#include "dendrite/ops/creation.h"
#include "support/corrupt.h"
#include "support/errors.h"

namespace dendrite::data {
namespace {

using test_support::error_of;
using files::Bytes;
using files::TempDir;
using ::testing::HasSubstr;

// A 4x3 (width x height) grey image whose pixels are base, base + 1, ...
Bytes grey_pixels(uint8_t base) {
  Bytes p(12);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(base + i);
  return p;
}

TEST(ImageFolderTest, GreyImagesWithHeader) {
  TempDir dir;
  files::write_png(dir / "a.png", 4, 3, 1, grey_pixels(0));
  files::write_png(dir / "b.png", 4, 3, 1, grey_pixels(100));
  // A spreadsheet's export: byte-order mark, CRLF line ends, spaces, a blank line.
  files::write_text(dir / "labels.csv",
                    "\xEF\xBB\xBF"
                    "filename,label\r\nb.png, 3\r\n\na.png,0\r\n");
  TensorDataset set = image_folder(dir.path());
  ASSERT_EQ(set.size(), 2);
  EXPECT_EQ(set.inputs().shape(), (Shape{2, 1, 3, 4}));
  EXPECT_EQ(to_vector<int64_t>(set.targets()), (std::vector<int64_t>{3, 0})) << "the CSV's order";
  std::vector<float> x = to_vector<float>(set.inputs());
  EXPECT_FLOAT_EQ(x[0], 100.0f / 255.0f);
  EXPECT_FLOAT_EQ(x[11], 111.0f / 255.0f);
  EXPECT_FLOAT_EQ(x[12 + 5], 5.0f / 255.0f);
}

TEST(ImageFolderTest, MixedGreyAndColourBecomeRgb) {
  TempDir dir;
  files::write_png(dir / "grey.png", 2, 1, 1, {10, 200});
  files::write_png(dir / "rgb.png", 2, 1, 3, {255, 0, 0, 0, 0, 255});
  files::write_text(dir / "my.csv", "grey.png,1\nrgb.png,2\n");
  TensorDataset set = image_folder(dir.path(), {.labels = dir / "my.csv"});
  EXPECT_EQ(set.inputs().shape(), (Shape{2, 3, 1, 2}));
  std::vector<float> x = to_vector<float>(set.inputs());
  // Channel-major: grey is copied into R, G and B; red then blue in the colour image.
  const float g0 = 10.0f / 255, g1 = 200.0f / 255;
  EXPECT_EQ(std::vector<float>(x.begin(), x.begin() + 6), (std::vector<float>{g0, g1, g0, g1, g0, g1}));
  EXPECT_EQ(std::vector<float>(x.begin() + 6, x.end()), (std::vector<float>{1, 0, 0, 0, 0, 1}));

  // Forcing grey: neutral colours keep their value.
  files::write_png(dir / "neutral.png", 2, 1, 3, {128, 128, 128, 30, 30, 30});
  files::write_text(dir / "one.csv", "neutral.png,0\n");
  Tensor grey = image_folder(dir.path(), {.labels = dir / "one.csv", .channels = 1}).inputs();
  EXPECT_EQ(grey.shape(), (Shape{1, 1, 1, 2}));
  std::vector<float> g = to_vector<float>(grey);
  EXPECT_NEAR(g[0] * 255, 128, 1.01);
  EXPECT_NEAR(g[1] * 255, 30, 1.01);
}

TEST(ImageFolderTest, ReadPngKeepsTheStoredChannels) {
  TempDir dir;
  files::write_png(dir / "rgb.png", 1, 2, 3, {1, 2, 3, 4, 5, 6});
  Tensor t = read_png(dir / "rgb.png");
  EXPECT_EQ(t.shape(), (Shape{3, 2, 1}));
  EXPECT_EQ(to_vector<float>(t)[1] * 255, 4.0f);
  EXPECT_EQ(read_png_header(dir / "rgb.png").color, true);
  EXPECT_THAT(error_of([&] { read_png(dir / "rgb.png", 2); }), HasSubstr("channels must be 0"));
}

TEST(ImageFolderTest, WrongSizeNamesFileAndBothSizes) {
  TempDir dir;
  files::write_png(dir / "a.png", 4, 3, 1, grey_pixels(0));
  files::write_png(dir / "big.png", 5, 3, 1, Bytes(15, 0));
  files::write_text(dir / "labels.csv", "a.png,0\nbig.png,1\n");
  const std::string msg = error_of([&] { image_folder(dir.path()); });
  EXPECT_THAT(msg, HasSubstr((dir / "big.png").string() + " (line 2 of " + (dir / "labels.csv").string()));
  EXPECT_THAT(msg, HasSubstr("is 5x3 pixels (width x height) but " + (dir / "a.png").string() + " is 4x3"));
}

class ImageFolderCsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files::write_png(dir / "a.png", 4, 3, 1, grey_pixels(0));
    files::write_png(dir / "b.png", 4, 3, 1, grey_pixels(1));
  }
  std::string error_for(const std::string& csv, ImageFolderOptions options = {}) {
    files::write_text(dir / "labels.csv", csv);
    return error_of([&] { image_folder(dir.path(), options); });
  }
  std::string csv() const { return (dir / "labels.csv").string(); }
  TempDir dir;
};

TEST_F(ImageFolderCsvTest, UnknownFile) {
  const std::string msg = error_for("a.png,0\nb.png,1\nmissing.png,2\n");
  EXPECT_THAT(msg, HasSubstr(csv() + " line 3: no file 'missing.png' in " + dir.path().string()));
}

TEST_F(ImageFolderCsvTest, MalformedLine) {
  EXPECT_THAT(error_for("a.png,0\nb.png\n"), HasSubstr(csv() + " line 2: expected 'filename,label', got 'b.png'"));
  EXPECT_THAT(error_for("a.png,0,1\n"), HasSubstr(csv() + " line 1: expected 'filename,label'"));
  EXPECT_THAT(error_for("a.png,0\n ,1\n"), HasSubstr(csv() + " line 2: empty filename"));
}

TEST_F(ImageFolderCsvTest, LabelNotAnInteger) {
  EXPECT_THAT(error_for("filename,label\na.png,0\nb.png,cat\n"),
              HasSubstr(csv() + " line 3: label 'cat' is not an integer"));
  EXPECT_THAT(error_for("a.png,1.5\n"), HasSubstr(csv() + " line 1: label '1.5' is not an integer"))
      << "a first line that names a file is data, not a header";
}

TEST_F(ImageFolderCsvTest, LabelOutOfRange) {
  EXPECT_THAT(error_for("a.png,-1\n"), HasSubstr(csv() + " line 1: label -1 is negative"));
  EXPECT_THAT(error_for("a.png,0\nb.png,10\n", {.num_classes = 10}),
              HasSubstr(csv() + " line 2: label 10 is out of range for 10 classes"));
}

TEST_F(ImageFolderCsvTest, EmptyOrMissingCsvAndDirectory) {
  EXPECT_THAT(error_for("filename,label\n"), HasSubstr(csv() + " lists no images"));
  std::filesystem::remove(dir / "labels.csv");
  EXPECT_THAT(error_of([&] { image_folder(dir.path()); }), HasSubstr("cannot read the labels file " + csv()));
  EXPECT_THAT(error_of([&] { image_folder(dir / "nowhere"); }),
              HasSubstr("no directory " + (dir / "nowhere").string()));
}

TEST_F(ImageFolderCsvTest, NotAPng) {
  files::write_text(dir / "fake.png", "this is text");
  const std::string msg = error_for("a.png,0\nfake.png,1\n");
  EXPECT_THAT(msg, HasSubstr("read_png: " + (dir / "fake.png").string() + ": not a readable PNG file"));
}

TEST_F(ImageFolderCsvTest, TruncatedPng) {
  files::write_png(dir / "cut.png", 4, 3, 1, grey_pixels(7));
  Bytes bytes = files::read_bytes(dir / "cut.png");
  ASSERT_GT(bytes.size(), 40u);
  bytes.erase(bytes.end() - 20, bytes.end());  // into the image data
  files::write_file(dir / "cut.png", bytes, false);
  const std::string msg = error_for("a.png,0\ncut.png,1\n");
  EXPECT_THAT(msg, HasSubstr("read_png: " + (dir / "cut.png").string()));
}

// Damaged PNG files: each reads or is an Error naming the file (libpng's own errors included),
// never a crash; the sanitizer build runs this too.
TEST(ImageFolderTest, CorruptedPngFailsWithAnErrorOrLoads) {
  TempDir dir;
  Bytes pixels(5 * 4 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 11);
  files::write_png(dir / "ok.png", 5, 4, 3, pixels);
  const Bytes valid = files::read_bytes(dir / "ok.png");
  const auto copies = test_support::corruptions(std::string(valid.begin(), valid.end()), 3, 400);
  const auto path = dir / "c.png";
  const int rejected = test_support::expect_only_errors(copies, [&](const std::string& bytes) {
    files::write_file(path, Bytes(bytes.begin(), bytes.end()), false);
    try {
      read_png(path);
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(path.string()));
      throw;
    }
  });
  EXPECT_GT(rejected, 200);  // PNG's CRCs catch nearly every change
}

}  // namespace
}  // namespace dendrite::data
