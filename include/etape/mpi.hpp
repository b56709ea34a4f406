// Data-parallel training over MPI (optional: needs an MPI implementation;
// CMake's etape::mpi target finds and links it). docs/distributed.md.
#pragma once

#include <etape/mpi/abort_on_error.hpp>
#include <etape/mpi/checkpoint.hpp>
#include <etape/mpi/data_parallel.hpp>
