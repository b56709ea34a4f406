# Configures, builds and runs fetch_consumer/, which takes etape with
# FetchContent from this source tree (no download).
include(${CMAKE_CURRENT_LIST_DIR}/consumer.cmake)
file(REMOVE_RECURSE ${WORK_DIR})
build_and_run_consumer(${CMAKE_CURRENT_LIST_DIR}/fetch_consumer ${WORK_DIR}/build -DETAPE_SOURCE_DIR=${ETAPE_SOURCE_DIR})
