// User namespaces end to end: a pod with userns_options mode POD runs as root of its own user
// namespace. From inside, the tests read the uid and gid maps and the owners of the image's
// files, and show that the pod's root administers its own network namespace. From the host,
// they read the container's uid and the owner of a file it writes, and check that the pod's
// containers share one namespace.
// Bad mappings are refused naming the field, and leave nothing behind.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "e2e/support/cri_fixture.h"

namespace berth::e2e {
namespace {

constexpr uint32_t kHostBase = 3000000;
constexpr uint32_t kLength = 65536;

void MapPod(v1::PodSandboxConfig& pod, uint32_t host_base = kHostBase) {
  auto* userns = pod.mutable_linux()
                     ->mutable_security_context()
                     ->mutable_namespace_options()
                     ->mutable_userns_options();
  userns->set_mode(v1::POD);
  for (auto* list : {userns->mutable_uids(), userns->mutable_gids()}) {
    v1::IDMapping* mapping = list->Add();
    mapping->set_container_id(0);
    mapping->set_host_id(host_base);
    mapping->set_length(kLength);
  }
}

// Collapses runs of blanks, as /proc/self/uid_map pads its columns.
std::string Squeeze(const std::string& text) {
  std::vector<std::string> words = absl::StrSplit(text, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
  return absl::StrJoin(words, " ");
}

class UsernsTest : public CriTest {
 protected:
  std::string Exec(const std::string& id, const std::string& script) {
    absl::StatusOr<v1::ExecSyncResponse> out = ExecSync(id, {"sh", "-c", script}, 10);
    if (!out.ok()) return absl::StrCat("<", out.status().ToString(), ">");
    if (out->exit_code() != 0) {
      return absl::StrCat("<exit ", out->exit_code(), ": ", out->stderr(), ">");
    }
    return std::string(absl::StripAsciiWhitespace(out->stdout()));
  }

  absl::StatusOr<std::string> Sleeper(const std::string& pod_id, const v1::PodSandboxConfig& pod,
                                      const std::string& name) {
    v1::ContainerConfig config = ContainerConfig(name, {"sleep", "60"});
    *config.mutable_linux()->mutable_security_context()->mutable_namespace_options() =
        pod.linux().security_context().namespace_options();
    return StartNewContainer(pod_id, config, pod);
  }

  // The owner "uid:gid" of `path` seen from the host, through the container's root.
  std::string HostOwner(const std::string& id, const std::string& path) {
    absl::StatusOr<pid_t> pid = ContainerPid(id);
    if (!pid.ok()) return absl::StrCat("<", pid.status().ToString(), ">");
    struct stat st;
    std::string host_path = absl::StrCat("/proc/", *pid, "/root", path);
    if (::lstat(host_path.c_str(), &st) != 0) return absl::StrCat("<stat ", host_path, ">");
    return absl::StrCat(st.st_uid, ":", st.st_gid);
  }

  // Runs a mapped pod with one sleeping container and checks what both sides see.
  void CheckMappedContainer(const std::string& name) {
    ASSERT_TRUE(Pull().ok());
    v1::PodSandboxConfig pod = PodConfig(name);
    MapPod(pod);
    absl::StatusOr<std::string> pod_id = RunPod(pod);
    ASSERT_TRUE(pod_id.ok()) << pod_id.status();
    absl::StatusOr<std::string> id = Sleeper(*pod_id, pod, "app");
    ASSERT_TRUE(id.ok()) << id.status();

    std::string map_line = absl::StrCat("0 ", kHostBase, " ", kLength);
    EXPECT_EQ(Squeeze(Exec(*id, "cat /proc/self/uid_map")), map_line);
    EXPECT_EQ(Squeeze(Exec(*id, "cat /proc/self/gid_map")), map_line);
    EXPECT_EQ(Exec(*id, "id -u; id -g"), "0\n0");
    // The image's files belong to the namespace's root, not to "nobody".
    EXPECT_EQ(Exec(*id, "stat -c %u:%g /bin/busybox /etc /"), "0:0\n0:0\n0:0");
    std::string host_root = absl::StrCat(kHostBase, ":", kHostBase);
    EXPECT_EQ(HostOwner(*id, "/bin/busybox"), host_root);

    // A file the container writes is owned by the mapped id on the host.
    EXPECT_EQ(Exec(*id, "echo hi > /written && chown 1000:1000 /written && stat -c %u /written"),
              "1000");
    EXPECT_EQ(HostOwner(*id, "/written"), absl::StrCat(kHostBase + 1000, ":", kHostBase + 1000));

    // The container process runs as the mapped id on the host.
    absl::StatusOr<pid_t> pid = ContainerPid(*id);
    ASSERT_TRUE(pid.ok());
    absl::StatusOr<std::string> status = ReadFile(absl::StrCat("/proc/", *pid, "/status"));
    ASSERT_TRUE(status.ok());
    EXPECT_NE(status->find(absl::StrCat("Uid:\t", kHostBase, "\t")), std::string::npos) << *status;

    // The host's root is nobody here: a root-owned pod file stays read-only even for root.
    EXPECT_EQ(Exec(*id, "stat -c %u /etc/hosts"), "65534");
    EXPECT_NE(Exec(*id, "echo x >> /etc/hosts && echo wrote"), "wrote");
    container_id_ = *id;

    // With CAP_NET_ADMIN the pod's root administers the pod's network namespace, which its user
    // namespace owns.
    v1::ContainerConfig admin = ContainerConfig("admin", {"sleep", "60"});
    auto* security = admin.mutable_linux()->mutable_security_context();
    *security->mutable_namespace_options() = pod.linux().security_context().namespace_options();
    security->mutable_capabilities()->add_add_capabilities("NET_ADMIN");
    absl::StatusOr<std::string> admin_id = StartNewContainer(*pod_id, admin, pod);
    ASSERT_TRUE(admin_id.ok()) << admin_id.status();
    EXPECT_EQ(Exec(*admin_id, "ip link set lo mtu 1400 && cat /sys/class/net/lo/mtu"), "1400");
  }

  // Whether the container's upper directory contains a copy of `path`: chowning copies every file
  // up, idmapped layers copy nothing.
  bool CopiedUp(const std::string& path) {
    struct stat st;
    std::string upper = absl::StrCat(daemon().root(), "/containers/", container_id_, "/upper", path);
    return ::lstat(upper.c_str(), &st) == 0;
  }

  std::string container_id_;
};

TEST_F(UsernsTest, FeatureIsReported) {
  v1::StatusResponse response;
  ASSERT_TRUE(runtime().Status(NewClientContext().get(), v1::StatusRequest(), &response).ok());
  ASSERT_GE(response.runtime_handlers_size(), 1);
  EXPECT_TRUE(response.runtime_handlers(0).features().user_namespaces());
}

TEST_F(UsernsTest, IdmappedLayers) {
  CheckMappedContainer("idmap");
  EXPECT_FALSE(CopiedUp("/bin/busybox"));
}

TEST_F(UsernsTest, PodSharesOneNamespace) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = PodConfig("shared");
  MapPod(pod, kHostBase + kLength);
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  absl::StatusOr<std::string> first = Sleeper(*pod_id, pod, "first");
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::string> second = Sleeper(*pod_id, pod, "second");
  ASSERT_TRUE(second.ok()) << second.status();
  absl::StatusOr<pid_t> pause = PausePid(*pod_id);
  absl::StatusOr<pid_t> a = ContainerPid(*first);
  absl::StatusOr<pid_t> b = ContainerPid(*second);
  ASSERT_TRUE(pause.ok());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  absl::StatusOr<std::string> pause_ns = NamespaceOf(*pause, "user");
  absl::StatusOr<std::string> host_ns = NamespaceOf(::getpid(), "user");
  ASSERT_TRUE(pause_ns.ok());
  ASSERT_TRUE(host_ns.ok());
  EXPECT_NE(*pause_ns, *host_ns);
  EXPECT_EQ(NamespaceOf(*a, "user").value_or("a"), *pause_ns);
  EXPECT_EQ(NamespaceOf(*b, "user").value_or("b"), *pause_ns);
  // The pod's network namespace belongs to it too: the two containers see one loopback.
  EXPECT_EQ(NamespaceOf(*a, "net").value_or("a"), NamespaceOf(*pause, "net").value_or("p"));
}

TEST_F(UsernsTest, BadMappingsAreRefused) {
  ASSERT_TRUE(Pull().ok());
  struct Case {
    const char* name;
    std::function<void(v1::PodSandboxConfig&)> change;
    const char* field;
  };
  auto userns = [](v1::PodSandboxConfig& pod) {
    return pod.mutable_linux()
        ->mutable_security_context()
        ->mutable_namespace_options()
        ->mutable_userns_options();
  };
  const Case cases[] = {
      {"nouids", [&](v1::PodSandboxConfig& pod) { userns(pod)->clear_uids(); }, "uids is empty"},
      {"hostroot",
       [&](v1::PodSandboxConfig& pod) { userns(pod)->mutable_gids(0)->set_host_id(0); },
       "gids[0]: maps the host's id 0"},
      {"overlap",
       [&](v1::PodSandboxConfig& pod) {
         v1::IDMapping* extra = userns(pod)->add_uids();
         extra->set_container_id(100);
         extra->set_host_id(9000000);
         extra->set_length(10);
       },
       "uids[1] overlaps [0]"},
      {"noroot",
       [&](v1::PodSandboxConfig& pod) { userns(pod)->mutable_uids(0)->set_container_id(1); },
       "uids does not map container id 0"},
      {"wrap",
       [&](v1::PodSandboxConfig& pod) { userns(pod)->mutable_uids(0)->set_host_id(4294967295u); },
       "run past 2^32"},
      {"container",
       [&](v1::PodSandboxConfig& pod) { userns(pod)->set_mode(v1::CONTAINER); },
       "mode CONTAINER is not supported"},
      {"hostnet",
       [&](v1::PodSandboxConfig& pod) {
         pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
             v1::NODE);
       },
       "cannot share the node's network namespace"},
  };
  for (const Case& c : cases) {
    v1::PodSandboxConfig pod = PodConfig(c.name);
    MapPod(pod);
    c.change(pod);
    absl::StatusOr<std::string> pod_id = RunPod(pod);
    EXPECT_EQ(pod_id.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(pod_id.status().message().find("userns_options"), std::string::npos)
        << pod_id.status();
    EXPECT_NE(pod_id.status().message().find(c.field), std::string::npos) << pod_id.status();
  }
  v1::ListPodSandboxResponse listed;
  ASSERT_TRUE(runtime().ListPodSandbox(NewClientContext().get(), {}, &listed).ok());
  EXPECT_EQ(listed.items_size(), 0);

  // A user outside the mapping cannot be run, and the pod stays usable.
  v1::PodSandboxConfig pod = PodConfig("unmapped");
  MapPod(pod);
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  v1::ContainerConfig outside = ContainerConfig("outside", {"id"});
  outside.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(kLength);
  absl::StatusOr<std::string> refused = CreateContainer(*pod_id, outside, pod);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find(absl::StrCat("user id ", kLength)), std::string::npos)
      << refused.status();
  absl::StatusOr<std::string> fine = Sleeper(*pod_id, pod, "inside");
  EXPECT_TRUE(fine.ok()) << fine.status();
}

// A CRI mount with the pod's mappings is idmapped: the host's root-owned files belong to the
// pod's root. The same folder mounted plainly shows them as nobody's.
TEST_F(UsernsTest, IdmappedVolume) {
  ASSERT_TRUE(Pull().ok());
  char dir_template[] = "/tmp/berth-e2e-vol.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  std::string data = dir + "/data";
  absl::Cleanup remove_dir = [&] {
    ::unlink(data.c_str());
    ::rmdir(dir.c_str());
  };
  ASSERT_TRUE(WriteFile(data, "host\n", 0644).ok());

  v1::PodSandboxConfig pod = PodConfig("volume");
  MapPod(pod, kHostBase + 2 * kLength);
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  v1::ContainerConfig config = ContainerConfig("vol", {"sleep", "60"});
  *config.mutable_linux()->mutable_security_context()->mutable_namespace_options() =
      pod.linux().security_context().namespace_options();
  const auto& userns = pod.linux().security_context().namespace_options().userns_options();
  v1::Mount* mapped = config.add_mounts();
  mapped->set_host_path(dir);
  mapped->set_container_path("/mapped");
  *mapped->mutable_uidmappings() = userns.uids();
  *mapped->mutable_gidmappings() = userns.gids();
  v1::Mount* plain = config.add_mounts();
  plain->set_host_path(dir);
  plain->set_container_path("/plain");
  absl::StatusOr<std::string> id = StartNewContainer(*pod_id, config, pod);
  ASSERT_TRUE(id.ok()) << id.status();

  EXPECT_EQ(Exec(*id, "stat -c %u:%g /mapped/data /plain/data"), "0:0\n65534:65534");
  EXPECT_EQ(Exec(*id, "echo pod >> /mapped/data && echo ok"), "ok");
  EXPECT_NE(Exec(*id, "echo pod >> /plain/data && echo ok"), "ok");
  struct stat st;
  ASSERT_EQ(::stat(data.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(ReadFile(data).value_or(""), "host\npod\n");

  // Mappings other than the pod's are refused, naming the mount.
  v1::ContainerConfig other = ContainerConfig("other", {"true"});
  v1::Mount* wrong = other.add_mounts();
  wrong->set_host_path(dir);
  wrong->set_container_path("/wrong");
  v1::IDMapping* mapping = wrong->add_uidmappings();
  mapping->set_host_id(5000000);
  mapping->set_length(10);
  absl::StatusOr<std::string> refused = CreateContainer(*pod_id, other, pod);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("config.mounts[0] (/wrong)"), std::string::npos)
      << refused.status();
}

// The same checks with the image's files chowned instead of idmapped, as on kernels or file
// systems without idmapped mounts.
class UsernsChownTest : public UsernsTest {
 protected:
  TestDaemonOptions DaemonOptions() override {
    TestDaemonOptions options;
    options.config_toml = "[runtime]\nuserns_ownership = \"chown\"\n";
    return options;
  }
};

TEST_F(UsernsChownTest, ChownedFiles) {
  CheckMappedContainer("chown");
  EXPECT_TRUE(CopiedUp("/bin/busybox"));
  // The shared layers keep their owners: a pod without a user namespace still sees root's files.
  // The first pod goes first: both would share the test's cgroup parent, which it made.
  RemoveEverything();
  v1::PodSandboxConfig plain = PodConfig("plain");
  absl::StatusOr<std::string> pod_id = RunPod(plain);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  absl::StatusOr<std::string> id = Sleeper(*pod_id, plain, "plain");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(HostOwner(*id, "/bin/busybox"), "0:0");
}

}  // namespace
}  // namespace berth::e2e
