// AlertOrder: puts alerts in the pipeline's output order — alert time, first
// event time, rule name, id — before they are rendered, however many there
// are. An alert waits as its detection (a few KB: its events, their context)
// rather than as its rendered lines (several times that), in memory up to a
// byte budget; beyond it alerts are sorted into runs in a spill file and
// merged when handed out. What is handed out is rendered one alert at a time,
// so a batch hunt that ends in a million alerts holds a budget's worth of
// detections and never all their documents.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/spill_file.h"
#include "detect/alerter.h"

namespace vigil {

// What an alert is ordered by; everything but the rule name is the alert's
// own (AlertWriter::alert_id() gives its id before it is rendered).
struct AlertKey {
  TimestampNs time = 0;           // the alert's @timestamp
  TimestampNs original_time = 0;  // its first event's
  std::string rule_name;
  std::string id;
};

struct PendingAlert {
  AlertKey key;
  ReadyAlert alert;
};

class AlertOrder {
 public:
  using Out = std::function<void(PendingAlert& alert)>;
  explicit AlertOrder(std::size_t budget_bytes) : budget_(budget_bytes) {}

  void add(PendingAlert alert);
  // Hands every alert added since the last flush out in order (equal keys in
  // the order they were added) and forgets them.
  void flush(const Out& out);

 private:
  void spill_run();

  std::size_t budget_;
  std::size_t bytes_ = 0;
  std::vector<PendingAlert> alerts_;
  SpillFile file_;
  std::vector<std::vector<SpillRecord>> runs_;  // each run's alerts, in order
};

}  // namespace vigil
