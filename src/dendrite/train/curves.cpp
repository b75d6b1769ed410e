#include "dendrite/train/curves.h"

#include <cmath>
#include <limits>

namespace dendrite::train {
namespace {

double number(const MetricRecord& record, std::string_view key) {
  const MetricValue* v = find(record, key);
  return v != nullptr && v->is_number() ? v->as_double() : std::numeric_limits<double>::quiet_NaN();
}

void add_point(Series& series, const MetricRecord& record, std::string_view key) {
  double x = number(record, "step"), y = number(record, key);
  if (std::isfinite(x) && std::isfinite(y)) series.points.emplace_back(x, y);
}

}  // namespace

Chart training_curves(const std::vector<MetricRecord>& records, const std::string& title) {
  Series train_loss{.label = "train"}, test_loss{.label = "test", .markers = true};
  Series train_acc{.label = "train"}, test_acc{.label = "test", .markers = true};
  for (const MetricRecord& record : records) {
    const MetricValue* kind = find(record, "kind");
    if (kind == nullptr || !kind->is_string()) continue;
    if (kind->as_string() == "train") {
      add_point(train_loss, record, "loss");
      add_point(train_acc, record, "accuracy");
    } else if (kind->as_string() == "epoch") {
      add_point(test_loss, record, "test_loss");
      add_point(test_acc, record, "test_accuracy");
    }
  }
  return Chart{
      .title = title,
      .panels = {
          Panel{.title = "Loss", .x_label = "step", .y_label = "cross-entropy loss", .series = {train_loss, test_loss}},
          Panel{.title = "Accuracy", .x_label = "step", .y_label = "accuracy", .series = {train_acc, test_acc}}}};
}

}  // namespace dendrite::train
