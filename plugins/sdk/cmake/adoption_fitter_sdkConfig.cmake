# CMake package config of the adoption-engine fitter SDK (installed by
# plugins/CMakeLists.txt). An out-of-tree fitter does:
#
#   find_package(adoption_fitter_sdk CONFIG REQUIRED)
#   add_library(myfitter MODULE myfitter.cc)
#   target_link_libraries(myfitter PRIVATE adoption::fitter_sdk)
#
# adoption::fitter_sdk is an INTERFACE target: the include directory holding
# adoption/fitter_abi.h and adoption/fitter_sdk.h, C++17, and Eigen3::Eigen.
# ADOPTION_FITTER_SDK_VERSION_SCRIPT is the linker version script that
# exports only the entry point (-Wl,--version-script=...), and
# ADOPTION_FITTER_ABI_MAJOR the ABI major version the headers speak.
# See plugins/README.md and plugins/examples/weibull.
include(CMakeFindDependencyMacro)
find_dependency(Eigen3 3.3 NO_MODULE)
include("${CMAKE_CURRENT_LIST_DIR}/adoption_fitter_sdkTargets.cmake")
set(ADOPTION_FITTER_SDK_VERSION_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/fitter.map")
set(ADOPTION_FITTER_ABI_MAJOR 1)
