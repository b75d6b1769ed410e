// Safetensors: the weight format of Hugging Face and PyTorch's ecosystem, so our checkpoints open
// in their tools and theirs in ours. The layout (https://github.com/huggingface/safetensors, README
// "Format"):
//
//   u64 little-endian N | N bytes of UTF-8 JSON header, padded with spaces | data buffer
//
// The header maps each tensor name to {"dtype": "F32", "shape": [...], "data_offsets": [begin,
// end]} with offsets relative to the data buffer, plus an optional "__metadata__" object of string
// to string. Tensors are stored row-major, little-endian, and their byte ranges tile the buffer.
//
// Reading checks every field and throws dendrite::Error naming the file, the tensor and the field or
// byte offset; writing is atomic (see atomic_file.h).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dendrite/nn/module.h"

namespace dendrite::train {

using Metadata = std::vector<std::pair<std::string, std::string>>;

struct Safetensors {
  nn::NamedTensors tensors;  // in header order, each a fresh contiguous CPU tensor
  Metadata metadata;         // "__metadata__", in header order

  // The tensor or metadata value called `name`, or null.
  const Tensor* find(std::string_view name) const;
  const std::string* find_metadata(std::string_view key) const;
};

// The safetensors dtype string ("F32", "BF16", ...) of a dtype.
std::string_view safetensors_dtype(DType dtype);

// The file's bytes. Tensor names must be unique, non-empty and not "__metadata__".
std::string encode_safetensors(const nn::NamedTensors& tensors, const Metadata& metadata = {});
// Parses bytes produced by any conforming writer; `source` names the file in error messages.
Safetensors decode_safetensors(std::string_view bytes, std::string_view source);

void save_safetensors(const std::filesystem::path& path, const nn::NamedTensors& tensors,
                      const Metadata& metadata = {});
Safetensors load_safetensors(const std::filesystem::path& path);

}  // namespace dendrite::train
