// The IDX format of the MNIST family (Yann LeCun, "THE MNIST DATABASE of handwritten digits",
// section "FILE FORMATS FOR THE MNIST DATABASE"): a magic number of two zero bytes, an element
// type code and the rank; one big-endian 32-bit size per dimension; then the elements, row-major
// and big-endian. Files may be gzip-compressed (read through zlib, which passes plain files through).
#pragma once

#include <filesystem>

#include "dendrite/ops/tensor.h"

namespace dendrite::data {

// The whole file as a tensor of its dimensions: u8, i8, i32 (also for the format's i16), f32 or
// f64. With expected_rank >= 0 a different rank is an error. A corrupt file is an Error naming
// the file and the byte offset (in the decompressed data): bad magic, unknown type, a header or
// data shorter than declared, trailing bytes, gzip errors. Memory is never allocated beyond what
// the file on disk can hold, whatever the header claims.
Tensor read_idx(const std::filesystem::path& path, int64_t expected_rank = -1);

}  // namespace dendrite::data
