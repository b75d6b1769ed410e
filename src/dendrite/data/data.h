// The data layer: from files on disk to batches for the training loop.
//
//   readers     idx.h (the MNIST family's IDX, gzip), fashion_mnist.h, png.h, image_folder.h
//               (a directory of PNGs + labels.csv) -> TensorDataset (whole tensors in memory)
//   dataset.h   Dataset (size, get, gather) and TensorDataset; sharded_dataset.h, each rank's
//               part of every batch in data-parallel training
//   dataloader  DataLoader: seeded per-epoch shuffle, batching, a prefetch thread
//   text        vocab.h (tokens <-> ids, special tokens), cmudict.h (CMUdict reader and the G2P
//               split), text_batch.h (length-bucketed, padded sequence-pair batches)
//   transforms  batch augmentation (crop, flip, erasing) and normalisation, seeded per batch
//
//   auto [train, test] = dendrite::data::fashion_mnist();
//   dendrite::data::DataLoader loader(train, {.batch = 128, .shuffle = true,
//                                             .transform = dendrite::data::RandomHorizontalFlip()});
//   for (auto& [x, y] : loader) { ... }   // x f32 [128, 1, 28, 28], y i64 [128]
#pragma once

#include "dendrite/data/cmudict.h"
#include "dendrite/data/dataloader.h"
#include "dendrite/data/dataset.h"
#include "dendrite/data/fashion_mnist.h"
#include "dendrite/data/idx.h"
#include "dendrite/data/image_folder.h"
#include "dendrite/data/png.h"
#include "dendrite/data/sharded_dataset.h"
#include "dendrite/data/text_batch.h"
#include "dendrite/data/transforms.h"
#include "dendrite/data/vocab.h"
