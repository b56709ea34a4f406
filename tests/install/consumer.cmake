# build_and_run_consumer(<source> <build dir> [cmake arguments...]): configures
# and builds a consumer project, runs its `consumer` and checks the gradient
# it prints. Included by the install test scripts (cmake -P).
function(build_and_run_consumer source build)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${source} -B ${build} -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${ARGN}
                  COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND ${build}/consumer OUTPUT_VARIABLE out COMMAND_ERROR_IS_FATAL ANY)
  if(NOT out MATCHES "d/dx = 1.5")
    message(FATAL_ERROR "consumer printed: ${out}")
  endif()
endfunction()
