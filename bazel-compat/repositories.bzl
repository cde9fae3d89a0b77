"""Repository macros for using adoption-engine from a Bazel WORKSPACE.

    adoption_repositories(tree_path = "/path/to/adoption-engine")
        @adoption         the source tree, described by BUILD.tree (nothing in
                          the tree itself is touched)
        @adoption_system  the system libraries, from pkg-config

    adoption_offline_repositories()
        Only for an offline Debian machine with bazel-bootstrap 4.2.3: maps the
        repositories Bazel 4 would download (rules_cc, rules_java, platforms,
        remote_coverage_tools, com_google_protobuf's protoc) onto local shims
        and Debian packages. Skip it where a network is available and declare
        the real ones instead (see README.md).
"""

load("//:system_libs.bzl", "files_repository", "system_libs")

def adoption_repositories(tree_path = "..", name = "adoption"):
    """Declares @<name> (the tree) and @adoption_system (system libraries).

    Args:
      tree_path: the adoption-engine checkout; relative paths are relative to
        the main workspace (bazel-compat's own WORKSPACE uses "..").
      name: the repository name of the tree.
    """
    native.new_local_repository(
        name = name,
        path = tree_path,
        build_file = str(Label("//:BUILD.tree")),
    )
    system_libs(name = "adoption_system")

# rules_cc shim: Debian's bazel-rules-cc targets Bazel 6+, so re-export the
# native rules, which is all @bazel_tools needs from rules_cc under Bazel 4.
_RULES_CC_DEFS = '''"""Offline shim: rules_cc's defs.bzl re-exporting Bazel 4's native rules."""

def cc_binary(**attrs):
    native.cc_binary(**attrs)

def cc_import(**attrs):
    native.cc_import(**attrs)

def cc_library(**attrs):
    native.cc_library(**attrs)

def cc_proto_library(**attrs):
    native.cc_proto_library(**attrs)

def cc_test(**attrs):
    native.cc_test(**attrs)

def cc_toolchain(**attrs):
    native.cc_toolchain(**attrs)

def cc_toolchain_suite(**attrs):
    native.cc_toolchain_suite(**attrs)

def fdo_prefetch_hints(**attrs):
    native.fdo_prefetch_hints(**attrs)

def fdo_profile(**attrs):
    native.fdo_profile(**attrs)

def objc_import(**attrs):
    native.objc_import(**attrs)

def objc_library(**attrs):
    native.objc_library(**attrs)
'''

_COVERAGE_STUB_BUILD = '''# Offline stub: cc_test names these implicitly; they only run under `bazel coverage`.
package(default_visibility = ["//visibility:public"])

filegroup(name = "coverage_report_generator")

filegroup(name = "lcov_merger")
'''

_PROTOBUF_STUB_BUILD = '''# Offline stub: proto_library only needs protoc (the Debian one, the same the
# generated C++ is built with). No well-known-type protos are provided.
package(default_visibility = ["//visibility:public"])

exports_files(["protoc"])
'''

def adoption_offline_repositories():
    """Local stand-ins for what Bazel 4 downloads; for offline Debian machines."""
    files_repository(
        name = "rules_cc",
        files = {
            "WORKSPACE": 'workspace(name = "rules_cc")\n',
            "BUILD": "",
            "cc/BUILD": "",
            "cc/defs.bzl": _RULES_CC_DEFS,
        },
    )
    native.local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")
    native.local_repository(name = "platforms", path = "/usr/share/bazel/platforms")
    files_repository(
        name = "remote_coverage_tools",
        files = {"WORKSPACE": "", "BUILD": _COVERAGE_STUB_BUILD},
    )
    files_repository(
        name = "com_google_protobuf",
        files = {"WORKSPACE": "", "BUILD": _PROTOBUF_STUB_BUILD},
        symlinks = {"protoc": "/usr/bin/protoc"},
    )
