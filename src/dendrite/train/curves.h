// The training curves of a run, from its metrics.jsonl records: loss against step (train windows
// and test evaluations) beside accuracy against step, as the Chart that becomes curves.svg.
#pragma once

#include <string>
#include <vector>

#include "dendrite/train/metrics.h"
#include "dendrite/train/svg.h"

namespace dendrite::train {

// Uses records of kind "train" (keys step, loss, accuracy) and "epoch" (step, test_loss,
// test_accuracy); other records are ignored.
Chart training_curves(const std::vector<MetricRecord>& records, const std::string& title);

}  // namespace dendrite::train
