# etape's optional dependencies (CBLAS, xsimd, zlib, MPI, Eigen), looked for where
# etape is configured (CMakeLists.txt) and again where an installed etape is
# found (etape-config.cmake): a package built on one machine follows what the
# consumer's machine has, so OpenBLAS and xsimd can stay a package's
# recommendations instead of its requirements.

# Adds to `target` (etape, or the imported etape::etape) what is found, sets
# ETAPE_HAS_CBLAS, ETAPE_HAS_XSIMD, ETAPE_HAS_ZLIB, ETAPE_HAS_MPI and
# ETAPE_HAS_EIGEN in the caller's scope, and makes etape::mpi when MPI is
# found, etape::eigen when Eigen is. ETAPE_USE_BLAS and
# ETAPE_USE_SIMD turn a search off when set OFF. Everything added is wrapped
# in $<BUILD_INTERFACE:...>: install(EXPORT) leaves it out of the installed
# targets, whose consumers search again.
function(etape_find_optional_dependencies target)
  get_target_property(imported ${target} IMPORTED)
  set(say TRUE)
  if(etape_FIND_QUIETLY)
    set(say FALSE)
  endif()

  # Matrix products go through CBLAS when one is found; otherwise a cache-blocked
  # loop of etape's own does the work (same results, slower for large matrices).
  set(has_cblas OFF)
  if(NOT DEFINED ETAPE_USE_BLAS OR ETAPE_USE_BLAS)
    set(BLA_VENDOR OpenBLAS)
    find_package(BLAS QUIET)
    find_path(ETAPE_CBLAS_INCLUDE_DIR cblas.h)
    if(BLAS_FOUND AND ETAPE_CBLAS_INCLUDE_DIR)
      set(has_cblas ON)
      target_compile_definitions(${target} INTERFACE $<BUILD_INTERFACE:ETAPE_HAS_CBLAS=1>)
      target_link_libraries(${target} INTERFACE $<BUILD_INTERFACE:BLAS::BLAS>)
      if(say)
        message(STATUS "etape: matrix products use CBLAS (${BLAS_LIBRARIES})")
      endif()
    elseif(say)
      message(STATUS "etape: no CBLAS found (apt-get install libopenblas-dev); matrix products use the blocked fallback")
    endif()
  endif()
  if(NOT has_cblas) # said, so that the headers do not look for a CBLAS themselves (tensor/matmul.hpp)
    target_compile_definitions(${target} INTERFACE $<BUILD_INTERFACE:ETAPE_HAS_CBLAS=0>)
  endif()

  # Fused tensor loops run on xsimd batches (exp, expm1, log, tanh, erf, ... of
  # xsimd) when it is found; otherwise they run element by element on libm
  # (same results within the bounds of docs/tensors.md, "Vectorized math").
  # The batch width follows the consumer's target flags (-march=native: AVX2).
  set(has_xsimd OFF)
  if(NOT DEFINED ETAPE_USE_SIMD OR ETAPE_USE_SIMD)
    find_package(xsimd 8 CONFIG QUIET)
    if(xsimd_FOUND)
      set(has_xsimd ON)
      target_compile_definitions(${target} INTERFACE $<BUILD_INTERFACE:ETAPE_HAS_XSIMD=1>)
      # Only xsimd's headers, as system includes (outside the project's warnings):
      # Debian's xsimd target also links an "xtl" library that libxsimd-dev does
      # not install and etape does not need.
      get_target_property(xsimd_include_dirs xsimd INTERFACE_INCLUDE_DIRECTORIES)
      target_include_directories(${target} SYSTEM INTERFACE $<BUILD_INTERFACE:${xsimd_include_dirs}>)
      if(say)
        message(STATUS "etape: fused tensor loops use xsimd ${xsimd_VERSION}")
      endif()
    elseif(say)
      message(STATUS "etape: no xsimd found (apt-get install libxsimd-dev); fused tensor loops use scalar libm")
    endif()
  endif()
  if(NOT has_xsimd) # said, so that the headers do not look for xsimd themselves (core/simd.hpp)
    target_compile_definitions(${target} INTERFACE $<BUILD_INTERFACE:ETAPE_HAS_XSIMD=0>)
  endif()

  # The data set readers (include/etape/nn/fashion_mnist.hpp, read_digits_csv)
  # read gzip-compressed files through zlib when it is found; without it they
  # read uncompressed files only, and name zlib1g-dev when given a compressed
  # one. The embedded digits set needs nothing.
  set(has_zlib OFF)
  find_package(ZLIB QUIET)
  if(ZLIB_FOUND)
    set(has_zlib ON)
    target_compile_definitions(${target} INTERFACE $<BUILD_INTERFACE:ETAPE_HAS_ZLIB=1>)
    target_link_libraries(${target} INTERFACE $<BUILD_INTERFACE:ZLIB::ZLIB>)
    if(say)
      message(STATUS "etape: data files are read through zlib ${ZLIB_VERSION_STRING}")
    endif()
  else()
    target_compile_definitions(${target} INTERFACE $<BUILD_INTERFACE:ETAPE_HAS_ZLIB=0>)
    if(say)
      message(STATUS "etape: no zlib found (apt-get install zlib1g-dev); gzip-compressed data files cannot be read")
    endif()
  endif()

  # Data-parallel training (include/etape/mpi/) needs an MPI implementation;
  # the rest of the library never does. Consumers link etape::mpi.
  set(has_mpi OFF)
  find_package(MPI COMPONENTS CXX QUIET)
  if(MPI_CXX_FOUND)
    set(has_mpi ON)
    if(imported)
      add_library(etape::mpi INTERFACE IMPORTED)
      set(mpi_target etape::mpi)
    else()
      add_library(etape_mpi INTERFACE)
      add_library(etape::mpi ALIAS etape_mpi)
      set(mpi_target etape_mpi)
    endif()
    target_link_libraries(${mpi_target} INTERFACE ${target} MPI::MPI_CXX)
    # MPI's C interface only: the deprecated C++ bindings of OpenMPI and MPICH
    # trip a consumer's warnings (-Wcast-function-type) and etape does not use them
    target_compile_definitions(${mpi_target} INTERFACE OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1)
    if(say)
      message(STATUS "etape: data-parallel training over MPI ${MPI_CXX_VERSION} (etape::mpi, run by ${MPIEXEC_EXECUTABLE})")
    endif()
  elseif(say)
    message(STATUS "etape: no MPI found (apt-get install libopenmpi-dev openmpi-bin); etape::mpi is off")
  endif()

  # Eigen interop (include/etape/eigen.hpp: Eigen matrices of vars, views of
  # tensors) needs Eigen 3.3 or later. Consumers link etape::eigen.
  set(has_eigen OFF)
  find_package(Eigen3 3.3 CONFIG QUIET)
  if(Eigen3_FOUND)
    set(has_eigen ON)
    if(imported)
      add_library(etape::eigen INTERFACE IMPORTED)
      set(eigen_target etape::eigen)
    else()
      add_library(etape_eigen INTERFACE)
      add_library(etape::eigen ALIAS etape_eigen)
      set(eigen_target etape_eigen)
    endif()
    target_link_libraries(${eigen_target} INTERFACE ${target} Eigen3::Eigen)
    if(say)
      message(STATUS "etape: Eigen interop with Eigen ${Eigen3_VERSION} (etape::eigen)")
    endif()
  elseif(say)
    message(STATUS "etape: no Eigen found (apt-get install libeigen3-dev); etape::eigen is off")
  endif()

  set(ETAPE_HAS_CBLAS ${has_cblas} PARENT_SCOPE)
  set(ETAPE_HAS_XSIMD ${has_xsimd} PARENT_SCOPE)
  set(ETAPE_HAS_ZLIB ${has_zlib} PARENT_SCOPE)
  set(ETAPE_HAS_MPI ${has_mpi} PARENT_SCOPE)
  set(ETAPE_HAS_EIGEN ${has_eigen} PARENT_SCOPE)
endfunction()
