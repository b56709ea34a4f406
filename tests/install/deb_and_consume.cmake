# Makes the Debian package with cpack, checks its control fields, unpacks it
# with dpkg -x (no installing: the test needs no root and leaves /usr
# alone), then builds and runs the consumer against the unpacked tree.
# The unpacked tree stays for the pkg-config test (fixture etape_deb).
include(${CMAKE_CURRENT_LIST_DIR}/consumer.cmake)
find_program(DPKG dpkg)
find_program(DPKG_DEB dpkg-deb)
if(NOT DPKG OR NOT DPKG_DEB)
  message("SKIPPED: no dpkg on this machine (not Debian?); the .deb is not built")
  return()
endif()
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CPACK_COMMAND} -G DEB -B ${WORK_DIR}/package --config ${ETAPE_BUILD_DIR}/CPackConfig.cmake
                WORKING_DIRECTORY ${ETAPE_BUILD_DIR} COMMAND_ERROR_IS_FATAL ANY)
file(GLOB deb ${WORK_DIR}/package/etape_*_all.deb)
list(LENGTH deb count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "expected one etape_<version>_all.deb in ${WORK_DIR}/package, found: ${deb}")
endif()

execute_process(COMMAND ${DPKG_DEB} --field ${deb} Package Architecture Depends Recommends
                OUTPUT_VARIABLE fields COMMAND_ERROR_IS_FATAL ANY)
foreach(expected IN ITEMS "Package: etape\n" "Architecture: all\n" "Depends: [^\n]*libfmt-dev" "Depends: [^\n]*libboost-dev"
                          "Recommends: [^\n]*libopenblas-dev" "Recommends: [^\n]*libxsimd-dev")
  if(NOT fields MATCHES "${expected}")
    message(FATAL_ERROR "the package's control fields lack '${expected}':\n${fields}")
  endif()
endforeach()

execute_process(COMMAND ${DPKG} -x ${deb} ${WORK_DIR}/root COMMAND_ERROR_IS_FATAL ANY)
foreach(file IN ITEMS include/etape/etape.hpp share/cmake/etape/etape-config.cmake share/pkgconfig/etape.pc)
  if(NOT EXISTS ${WORK_DIR}/root/usr/${file})
    message(FATAL_ERROR "the package lacks /usr/${file}")
  endif()
endforeach()
build_and_run_consumer(${CONSUMER_SOURCE} ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${WORK_DIR}/root/usr)
