// train: the loop that turns a model, an optimiser and data into a trained run on disk.
//
//   Trainer      epochs of forward / cross-entropy / backward / step, evaluation, best and last
//                checkpoints, bit-exact resume, stop on Ctrl-C (trainer.h)
//   Seq2SeqTrainer  the same run directory for sequence-to-sequence models, scored by word and
//                phoneme error rates of greedy and beam decoding (seq2seq_trainer.h, seq_metrics.h)
//   checkpoint   model + optimiser + loop state in a directory, replaced atomically (checkpoint.h)
//   safetensors  the weight file format shared with PyTorch and Hugging Face (safetensors.h)
//   metrics      metrics.jsonl and summary.json (metrics.h); progress bar / lines (progress.h)
//   svg, curves  our own line-chart writer and the run's curves.svg (svg.h, curves.h)
//
// A run directory holds config.toml, metrics.jsonl, summary.json, last/, best/ and curves.svg;
// `Trainer::resume(dir)` continues it.
#pragma once

#include "dendrite/train/atomic_file.h"
#include "dendrite/train/checkpoint.h"
#include "dendrite/train/curves.h"
#include "dendrite/train/interrupt.h"
#include "dendrite/train/metrics.h"
#include "dendrite/train/progress.h"
#include "dendrite/train/safetensors.h"
#include "dendrite/train/seq2seq_trainer.h"
#include "dendrite/train/seq_metrics.h"
#include "dendrite/train/svg.h"
#include "dendrite/train/trainer.h"
