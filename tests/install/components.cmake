# find_package(etape COMPONENTS ...) on an installed etape: a component that
# does not exist fails and is named with the ones that do; mpi without MPI
# and eigen without Eigen fail and name what to install; each is found
# where its dependency is.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${ETAPE_BUILD_DIR} --prefix ${WORK_DIR}/prefix
                OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
file(WRITE ${WORK_DIR}/src/CMakeLists.txt [[
cmake_minimum_required(VERSION 3.25)
project(etape_components LANGUAGES CXX)
find_package(etape CONFIG REQUIRED COMPONENTS ${COMPONENTS})
foreach(component IN LISTS COMPONENTS)
  if(NOT TARGET etape::${component})
    message(FATAL_ERROR "etape was found with its ${component} component, and no etape::${component}")
  endif()
endforeach()
]])

# configure(<name> <expect: fail|succeed> <regex of the output> <cmake arguments...>)
function(configure name expect regex)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${WORK_DIR}/src -B ${WORK_DIR}/${name} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
                          -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix ${ARGN}
                  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(REGEX REPLACE "[ \n]+" " " flat "${out}") # CMake wraps its error messages
  if(result EQUAL 0)
    set(outcome succeed)
  else()
    set(outcome fail)
  endif()
  if(NOT outcome STREQUAL expect OR NOT flat MATCHES "${regex}")
    message(FATAL_ERROR "${name}: expected the configure to ${expect} and print '${regex}'; "
                        "exit status ${result}, output:\n${out}")
  endif()
  message(STATUS "${name}: ${expect}ed, as expected")
endfunction()

configure(nosuch fail "etape has no component \"nosuch\" \\(its components are: mpi, eigen\\)" -DCOMPONENTS=nosuch)
configure(mpi_without_mpi fail "etape's component \"mpi\" needs MPI, which was not found \\(Debian: apt-get install libopenmpi-dev"
          -DCOMPONENTS=mpi -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON)
if(ETAPE_HAS_MPI)
  configure(mpi succeed "Configuring done" -DCOMPONENTS=mpi)
endif()
configure(eigen_without_eigen fail "etape's component \"eigen\" needs Eigen 3.3 or later, which was not found \\(Debian: apt-get install libeigen3-dev"
          -DCOMPONENTS=eigen -DCMAKE_DISABLE_FIND_PACKAGE_Eigen3=ON)
if(ETAPE_HAS_EIGEN)
  configure(eigen succeed "Configuring done" -DCOMPONENTS=eigen)
endif()
