// A CRI fixture for pod-network tests. Each test runs in a network namespace of its own, made
// by SetUp before the registry and berthd start, so the CNI bridge, its veths and the iptables
// rules of portmap exist only there and vanish with it. berthd reads a conflist from the test's
// own folder, with a bridge name and subnet of the test's own, and host-local keeps its
// allocations in the test's folder too. Plugins come from Debian's containernetworking-plugins.
//
//   TEST_F(NetworkTest, Example) {
//     ASSERT_NO_FATAL_FAILURE(InstallBridgeConfig());
//     absl::StatusOr<std::string> pod = RunPod(PodConfig("web"));
//     ...
//   }
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/fd.h"
#include "e2e/support/cri_fixture.h"

namespace berth::e2e {

inline constexpr const char* kDebianCniDir = "/usr/lib/cni";

class NetworkTest : public CriTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  TestDaemonOptions DaemonOptions() override;

  // Folders given to berthd: the CNI configuration folder (empty at first), a folder for fake
  // plugins searched before Debian's, and host-local's data folder.
  const std::string& conf_dir() const { return conf_dir_; }
  const std::string& fake_bin_dir() const { return fake_bin_dir_; }
  const std::string& ipam_dir() const { return ipam_dir_; }
  const std::string& bridge() const { return bridge_; }
  // "10.<a>.<b>." : the /24 of this test's bridge network, without the host part.
  const std::string& subnet_prefix() const { return subnet_prefix_; }
  // "<subnet_prefix>1", the bridge's address and the pods' gateway.
  std::string gateway() const { return subnet_prefix_ + "1"; }

  // The bridge conflist (bridge with host-local, portmap, loopback), with `extra_plugin`, a JSON
  // object, appended to the chain when not empty.
  std::string BridgeConflist(const std::string& extra_plugin = "") const;
  // Writes `text` as <conf_dir>/10-test.conflist (or `name`), replacing what was there.
  void WriteConfig(const std::string& text, const std::string& name = "10-test.conflist");
  void InstallBridgeConfig() { WriteConfig(BridgeConflist()); }
  // Writes an executable shell script `name` into fake_bin_dir().
  void WritePlugin(const std::string& name, const std::string& script);

  // Runs `command` with /bin/sh in the test's namespace and returns stdout and stderr together.
  // A non-zero exit is Internal with the output.
  absl::StatusOr<std::string> Shell(const std::string& command);

  // Names of the veth links in the test's namespace.
  std::vector<std::string> Veths();
  // Addresses host-local holds for this test's network (one file each in its data folder).
  std::vector<std::string> Allocations();
  // Veths, allocations, attachment records of berthd and pinned namespaces that remain, one line
  // each. Empty when the network is clean.
  std::vector<std::string> NetworkLeftovers();

  // Runs `cmd` in container `id` and returns its stdout. A non-zero exit is an error with the
  // output.
  absl::StatusOr<std::string> Run(const std::string& id, const std::vector<std::string>& cmd,
                                  int timeout_seconds = 10);
  // Starts a container `name` running `command` in `pod_id`.
  absl::StatusOr<std::string> StartIn(const std::string& pod_id,
                                      const v1::PodSandboxConfig& pod_config,
                                      const std::string& name,
                                      const std::vector<std::string>& command);

 private:
  UniqueFd original_netns_;
  std::string dir_;
  std::string conf_dir_;
  std::string fake_bin_dir_;
  std::string ipam_dir_;
  std::string bridge_;
  std::string subnet_prefix_;
};

}  // namespace berth::e2e
