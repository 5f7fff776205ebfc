"""Wheel build hook: builds the DNLS C ABI shared library with the Swift toolchain and ships it.

The library is built with a static Swift runtime (`-Xswiftc -static-stdlib`), so it needs only
glibc, libstdc++, libgcc_s and libm at run time, and it is stripped. It goes into the wheel as
`dnls/lib/libDNLSC.so`, with the C headers in `dnls/include/`. Set DNLS_PREBUILT_LIBRARY to the
path of an already built libDNLSC.so to skip the Swift build (for a machine without Swift).
"""

import os
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class SwiftLibraryHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        prebuilt = os.environ.get("DNLS_PREBUILT_LIBRARY")
        if prebuilt:
            built = Path(prebuilt)
        else:
            swift = shutil.which("swift")
            if swift is None:
                raise RuntimeError(
                    "building the dnls wheel needs the Swift 6 toolchain (`swift` on the PATH), "
                    "or DNLS_PREBUILT_LIBRARY naming a built libDNLSC.so")
            # A scratch folder of its own: the static runtime flag would otherwise rebuild the
            # package's other products in .build/ from scratch, and the next `swift build` again.
            command = [swift, "build", "-c", "release", "--product", "DNLSC", "--scratch-path", ".build-python",
                       "-Xswiftc", "-static-stdlib"]
            self.app.display_info("dnls: " + " ".join(command[1:]))
            subprocess.run(command, cwd=root, check=True)
            built = root / ".build-python" / "release" / "libDNLSC.so"
        if not built.is_file():
            raise RuntimeError(f"the DNLS library was not found at {built}")
        staging = Path(tempfile.mkdtemp(prefix="dnls-wheel-"))
        library = staging / "libDNLSC.so"
        shutil.copyfile(built, library)
        if shutil.which("strip"):
            subprocess.run(["strip", "--strip-unneeded", str(library)], check=True)
        build_data["force_include"][str(library)] = "dnls/lib/libDNLSC.so"
        build_data["force_include"][str(root / "Sources" / "CDNLSABI" / "include" / "dnls_types.h")] = "dnls/include/dnls_types.h"
        build_data["force_include"][str(root / "include" / "dnls.h")] = "dnls/include/dnls.h"
        build_data["pure_python"] = False
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["tag"] = f"py3-none-{platform}"
