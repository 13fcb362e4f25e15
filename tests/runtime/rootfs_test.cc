#include "runtime/linux/rootfs.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include "recording_syscalls.h"

namespace berth::runtime {
namespace {

constexpr unsigned long kNoSuidExecDev = MS_NOSUID | MS_NOEXEC | MS_NODEV;

class RootfsTest : public ::testing::Test {
 protected:
  RootfsTest() {
    spec_ = BaseSpec();
    spec_.process.args = {"/bin/sh"};
    spec_.root.path = "/r";
    options_.spec = &spec_;
    options_.root = "/r";
    CgroupDir memory{"/sys/fs/cgroup/memory/berth/c1", "memory", {"memory"}, false};
    CgroupDir cpu{"/sys/fs/cgroup/cpu,cpuacct/berth/c1", "cpu,cpuacct", {"cpu", "cpuacct"}, false};
    CgroupDir unified{"/sys/fs/cgroup/unified/berth/c1", "unified", {}, true};
    options_.cgroup_dirs = {memory, cpu, unified};
    for (const CgroupDir& dir : options_.cgroup_dirs) sys_.files[dir.path] = FileKind::kDirectory;
  }

  Spec spec_;
  RootfsOptions options_;
  RecordingSyscalls sys_;
};

TEST_F(RootfsTest, MakesMountsPrivateFirst) {
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());
  ASSERT_FALSE(sys_.mounts.empty());
  EXPECT_EQ(sys_.mounts[0].target, "/");
  EXPECT_EQ(sys_.mounts[0].flags, static_cast<unsigned long>(MS_REC | MS_PRIVATE));

  auto self = sys_.MountsOn("/r");
  ASSERT_EQ(self.size(), 1u);
  EXPECT_EQ(self[0].source, "/r");
  EXPECT_EQ(self[0].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(sys_.calls.back(), "pivot_root /r");
}

TEST_F(RootfsTest, ProcSysAndDevFlags) {
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());

  auto proc = sys_.MountsOn("/r/proc");
  ASSERT_EQ(proc.size(), 1u);
  EXPECT_EQ(proc[0].fstype, "proc");
  EXPECT_EQ(proc[0].flags, kNoSuidExecDev);

  auto sys = sys_.MountsOn("/r/sys");
  ASSERT_EQ(sys.size(), 1u);
  EXPECT_EQ(sys[0].fstype, "sysfs");
  EXPECT_EQ(sys[0].flags, kNoSuidExecDev | MS_RDONLY);

  auto dev = sys_.MountsOn("/r/dev");
  ASSERT_EQ(dev.size(), 1u);
  EXPECT_EQ(dev[0].fstype, "tmpfs");
  EXPECT_EQ(dev[0].flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(dev[0].data, "mode=755,size=65536k");

  auto pts = sys_.MountsOn("/r/dev/pts");
  ASSERT_EQ(pts.size(), 1u);
  EXPECT_EQ(pts[0].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  EXPECT_EQ(pts[0].flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
}

TEST_F(RootfsTest, BindReadOnlyNeedsRemount) {
  spec_.mounts.push_back({"/etc/resolv.conf", "bind", "/pod/resolv.conf", {"rbind", "ro"}});
  sys_.files["/pod/resolv.conf"] = FileKind::kFile;
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());

  auto bind = sys_.MountsOn("/r/etc/resolv.conf");
  ASSERT_EQ(bind.size(), 2u);
  EXPECT_EQ(bind[0].source, "/pod/resolv.conf");
  EXPECT_EQ(bind[0].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(bind[1].flags, static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_RDONLY));
  EXPECT_NE(std::find(sys_.calls.begin(), sys_.calls.end(), "resolve /r/etc/resolv.conf file"),
            sys_.calls.end());
}

TEST_F(RootfsTest, BindOfMissingSourceFails) {
  spec_.mounts.push_back({"/data", "bind", "/no/such", {"rbind"}});
  absl::Status status = PrepareRootfs(sys_, options_);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("/no/such"), std::string::npos) << status;
  EXPECT_NE(status.message().find("mount bind on /data"), std::string::npos) << status;
}

TEST_F(RootfsTest, CgroupV1BindsEachHierarchy) {
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());

  auto tmpfs = sys_.MountsOn("/r/sys/fs/cgroup");
  ASSERT_EQ(tmpfs.size(), 2u);
  EXPECT_EQ(tmpfs[0].fstype, "tmpfs");
  EXPECT_EQ(tmpfs[1].flags, MS_REMOUNT | MS_RDONLY | kNoSuidExecDev | MS_RELATIME);

  auto memory = sys_.MountsOn("/r/sys/fs/cgroup/memory");
  ASSERT_EQ(memory.size(), 2u);
  EXPECT_EQ(memory[0].source, "/sys/fs/cgroup/memory/berth/c1");
  EXPECT_EQ(memory[1].flags, MS_BIND | MS_REMOUNT | MS_RDONLY | kNoSuidExecDev | MS_RELATIME);
  EXPECT_EQ(sys_.MountsOn("/r/sys/fs/cgroup/unified").size(), 2u);
  EXPECT_NE(
      std::find(sys_.calls.begin(), sys_.calls.end(), "symlink cpu,cpuacct /r/sys/fs/cgroup/cpu"),
      sys_.calls.end());
}

TEST_F(RootfsTest, CgroupV2BindsOneDirectory) {
  options_.cgroup_dirs = {{"/sys/fs/cgroup/berth/c1", "cgroup", {}, true}};
  sys_.files["/sys/fs/cgroup/berth/c1"] = FileKind::kDirectory;
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());
  auto cgroup = sys_.MountsOn("/r/sys/fs/cgroup");
  ASSERT_EQ(cgroup.size(), 2u);
  EXPECT_EQ(cgroup[0].source, "/sys/fs/cgroup/berth/c1");
  EXPECT_EQ(cgroup[0].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_TRUE(cgroup[1].flags & MS_RDONLY);
}

TEST_F(RootfsTest, DevicesAndSymlinks) {
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());
  const auto& calls = sys_.calls;
  auto has = [&](const std::string& call) {
    return std::find(calls.begin(), calls.end(), call) != calls.end();
  };
  EXPECT_TRUE(has("mknod /r/dev/null 8630 1:3")) << "S_IFCHR | 0666";
  EXPECT_TRUE(has("chmod /r/dev/null 438"));
  EXPECT_TRUE(has("chown /r/dev/null 0:0"));
  EXPECT_TRUE(has("symlink /proc/self/fd /r/dev/fd"));
  EXPECT_TRUE(has("symlink /proc/self/fd/2 /r/dev/stderr"));
  EXPECT_TRUE(has("symlink pts/ptmx /r/dev/ptmx"));
}

TEST_F(RootfsTest, DeviceBindWhenMknodDenied) {
  sys_.mknod_errors["/r/dev/tty"] = absl::PermissionDeniedError("mknod /r/dev/tty");
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());
  auto tty = sys_.MountsOn("/r/dev/tty");
  ASSERT_EQ(tty.size(), 1u);
  EXPECT_EQ(tty[0].source, "/dev/tty");
  EXPECT_EQ(tty[0].flags, static_cast<unsigned long>(MS_BIND));
}

TEST_F(RootfsTest, OverlayRootMountedFirst) {
  options_.rootfs_mount =
      Mount{"", "overlay", "overlay", {"lowerdir=/l/2:/l/1", "upperdir=/c/up", "workdir=/c/work"}};
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());
  auto root = sys_.MountsOn("/r");
  ASSERT_EQ(root.size(), 2u);
  EXPECT_EQ(root[0].fstype, "overlay");
  EXPECT_EQ(root[0].data, "lowerdir=/l/2:/l/1,upperdir=/c/up,workdir=/c/work");
  EXPECT_EQ(root[1].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
}

TEST_F(RootfsTest, LongOverlayOptionsChdir) {
  std::string lower;
  for (int i = 0; i < 200; ++i) {
    if (!lower.empty()) lower += ":";
    lower += "/var/lib/berth/snapshots/" + std::to_string(1000 + i) + "/fs";
  }
  options_.rootfs_mount = Mount{"",
                                "overlay",
                                "overlay",
                                {"lowerdir=" + lower, "upperdir=/var/lib/berth/containers/c/up",
                                 "workdir=/var/lib/berth/containers/c/work"}};
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());
  EXPECT_NE(std::find(sys_.calls.begin(), sys_.calls.end(), "chdir /var/lib/berth"),
            sys_.calls.end());
  auto root = sys_.MountsOn("/r");
  ASSERT_EQ(root.size(), 2u);
  EXPECT_LT(root[0].data.size(), 4096u);
  EXPECT_EQ(root[0].data.rfind("lowerdir=snapshots/1000/fs:snapshots/1001/fs", 0), 0u)
      << root[0].data.substr(0, 80);
  EXPECT_NE(root[0].data.find("upperdir=containers/c/up"), std::string::npos);
}

TEST_F(RootfsTest, FinishMasksAndReadonly) {
  spec_.root.readonly = true;
  sys_.files["/proc/kcore"] = FileKind::kFile;
  sys_.files["/proc/acpi"] = FileKind::kDirectory;
  sys_.files["/proc/sys"] = FileKind::kDirectory;
  ASSERT_TRUE(FinishRootfs(sys_, spec_).ok());

  auto kcore = sys_.MountsOn("/proc/kcore");
  ASSERT_EQ(kcore.size(), 1u);
  EXPECT_EQ(kcore[0].source, "/dev/null");
  EXPECT_EQ(kcore[0].flags, static_cast<unsigned long>(MS_BIND));

  auto acpi = sys_.MountsOn("/proc/acpi");
  ASSERT_EQ(acpi.size(), 1u);
  EXPECT_EQ(acpi[0].fstype, "tmpfs");
  EXPECT_EQ(acpi[0].flags, static_cast<unsigned long>(MS_RDONLY));

  auto sys = sys_.MountsOn("/proc/sys");
  ASSERT_EQ(sys.size(), 2u);
  EXPECT_EQ(sys[1].flags, static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC));

  EXPECT_TRUE(sys_.MountsOn("/proc/keys").empty()) << "missing paths are skipped";
  auto root = sys_.MountsOn("/");
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root[0].flags, static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_RDONLY));
}

}  // namespace
}  // namespace berth::runtime
