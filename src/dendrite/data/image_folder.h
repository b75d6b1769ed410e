// A user's own images: a directory of PNG files and a CSV file of `filename,label` lines (a
// header line is optional), read into a TensorDataset in the CSV's order so a model trains on
// them like on Fashion-MNIST. Filenames are relative to the directory and contain no commas.
#pragma once

#include <filesystem>

#include "dendrite/data/dataset.h"

namespace dendrite::data {

struct ImageFolderOptions {
  std::filesystem::path labels = {};  // the CSV file; empty means <dir>/labels.csv
  int channels = 0;                   // 1 (grey) or 3 (RGB); 0: 1 when every image is grey, else 3
  int64_t num_classes = 0;            // when > 0, every label must be below it
};

// Images f32 [N, C, H, W] in [0, 1] (see png.h for the conversions), labels i64 [N]. Every image
// must have the same size. Errors name the file and, for the CSV, the line: a malformed line, a
// label that is not a non-negative integer (or is out of range), a file that is not in the
// directory, an unreadable PNG, a PNG whose size differs from the first one's.
TensorDataset image_folder(const std::filesystem::path& dir, const ImageFolderOptions& options = {});

}  // namespace dendrite::data
