// `vigil alerts list|summary --db FILE`: what the alert store holds.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace vigil {

struct AlertsOptions {
  std::string db = "alerts.db";
  std::string rule, host, severity, since, until;
  std::string id;  // show
  std::size_t limit = 1000;
  bool json = false;
  bool building_blocks = false;
  std::string by = "rule";
};

void add_alerts_command(CLI::App& app, AlertsOptions& options);
int run_alerts_command(CLI::App& app, const AlertsOptions& options);

}  // namespace vigil
