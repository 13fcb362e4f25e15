// berthctl: the command-line client of Berth.
#include <string>
#include <vector>

#include "cmd/berthctl/cli.h"

int main(int argc, char** argv) {
  return berth::ctl::RunCli(std::vector<std::string>(argv + 1, argv + argc));
}
