"""@adoption_system: the Debian system libraries as cc_library rules.

The repository is generated at fetch time by tools/gen-system-libs from
pkg-config, so it always describes the machine that builds (refresh it after
upgrading packages with `bazel sync --configure`).
"""

def _system_libs_impl(rctx):
    generator = rctx.path(rctx.attr._generator)
    result = rctx.execute(["bash", str(generator), str(rctx.path("."))], quiet = True)
    if result.stderr:
        print(result.stderr)  # buildifier: disable=print
    if result.return_code != 0:
        fail("tools/gen-system-libs failed (%d):\n%s" % (result.return_code, result.stderr))

system_libs = repository_rule(
    implementation = _system_libs_impl,
    attrs = {
        "_generator": attr.label(default = Label("//:tools/gen-system-libs"), allow_single_file = True),
    },
    environ = ["PATH", "PKG_CONFIG", "PKG_CONFIG_PATH"],
    configure = True,
    local = True,
    doc = "Header-less cc_library rules (linkopts, defines) for the system libraries, from pkg-config.",
)

def _files_repository_impl(rctx):
    for path, content in rctx.attr.files.items():
        rctx.file(path, content, executable = False)
    for path, target in rctx.attr.symlinks.items():
        rctx.symlink(target, path)

files_repository = repository_rule(
    implementation = _files_repository_impl,
    attrs = {
        "files": attr.string_dict(doc = "path in the repository -> file content"),
        "symlinks": attr.string_dict(doc = "path in the repository -> absolute target"),
    },
    doc = "A small repository written from literal files (offline shims and stubs).",
)
